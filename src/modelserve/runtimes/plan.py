"""DeploymentPlan: what to serve for one run, independent of where it runs.

A runtime (one per kind) builds it from the run's merged spec; engines turn it into launch
plans; executors materialise those. Imports nothing but the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass(frozen=True)
class AdapterPlan:
    name: str
    url: str


@dataclass(frozen=True)
class DeploymentPlan:
    run_id: str
    project: str
    function: str
    kind: str
    engine: str  # requested engine: vllm | ollama | infinity | fasterwhisper | llamacpp | builtin
    task: str  # generate | embed | transcribe | pooling | a huggingface_task
    model_url: str
    model_name: str | None
    exposed_name: str  # the OpenAI `model` clients send through the gateway
    served_name: str  # the name the engine serves under (--served-model-name)
    adapters: tuple[AdapterPlan, ...] = ()
    args: tuple[str, ...] = ()
    envs: Mapping[str, str] = field(default_factory=dict)
    secrets: tuple[str, ...] = ()
    replicas: int = 1
    min_replicas: int = 1
    max_replicas: int | None = None
    scaling: Mapping[str, Any] = field(default_factory=dict)
    features: tuple[str, ...] = ()  # names shown in status.openai.features
    routing_features: tuple[str, ...] = ()  # TextGeneration | TextEmbedding | SpeechToText | Pooling
    endpoints: tuple[str, ...] = ()  # OpenAI paths relative to the base url, e.g. /chat/completions
    dtype: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)  # kind-specific knobs (use_cpu_image, ...)

    @property
    def strategy(self) -> str:
        lb = self.scaling.get("load_balancing") or {}
        return str(lb.get("strategy") or "LeastLoad")
