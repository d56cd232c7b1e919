"""Engines: one adapter per inference engine, turning a DeploymentPlan into a LaunchPlan."""

from __future__ import annotations

from modelserve.engines.base import Availability, EngineAdapter, LaunchPlan, ModelArtifact, merge_args
from modelserve.engines.builtin import BuiltinEngine
from modelserve.engines.external import FASTERWHISPER, INFINITY, LLAMACPP, OLLAMA
from modelserve.engines.vllm import VllmEngine

ENGINES: dict[str, EngineAdapter] = {
    e.name: e for e in (BuiltinEngine(), VllmEngine(), OLLAMA, INFINITY, FASTERWHISPER, LLAMACPP)
}

__all__ = ["Availability", "ENGINES", "EngineAdapter", "LaunchPlan", "ModelArtifact", "merge_args"]
