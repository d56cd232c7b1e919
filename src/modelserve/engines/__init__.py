"""Engines: one adapter per inference engine, turning a DeploymentPlan into a LaunchPlan."""

from __future__ import annotations

from modelserve.engines.base import (
    Availability,
    EngineAdapter,
    HttpCall,
    LaunchPlan,
    ModelArtifact,
    RuntimeLora,
    merge_args,
)
from modelserve.engines.builtin import BuiltinEngine
from modelserve.engines.fasterwhisper import FasterWhisperEngine
from modelserve.engines.infinity import InfinityEngine
from modelserve.engines.llamacpp import LlamaCppEngine
from modelserve.engines.ollama import OllamaEngine
from modelserve.engines.vllm import VllmEngine

ENGINES: dict[str, EngineAdapter] = {
    e.name: e
    for e in (
        BuiltinEngine(),
        VllmEngine(),
        OllamaEngine(),
        InfinityEngine(),
        FasterWhisperEngine(),
        LlamaCppEngine(),
    )
}

__all__ = [
    "ENGINES",
    "Availability",
    "EngineAdapter",
    "HttpCall",
    "LaunchPlan",
    "ModelArtifact",
    "RuntimeLora",
    "merge_args",
]
