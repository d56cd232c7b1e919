"""`vllmserve-text|speech|pooling`: the vLLM OpenAI server (Deployment + Service on a cluster).

The three kinds differ only in task, features and endpoints; each is a small table row here.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelserve.runtimes.base import RunView, base_plan
from modelserve.runtimes.plan import DeploymentPlan


@dataclass(frozen=True)
class VllmServeRuntime:
    kind: str
    task: str
    features: tuple[str, ...]
    routing_features: tuple[str, ...]
    endpoints: tuple[str, ...]

    def plan(self, run: RunView, exposed_name: str) -> DeploymentPlan:
        spec = run.spec
        options = {
            "use_cpu_image": spec.get("use_cpu_image", True),
            "enable_telemetry": spec.get("enable_telemetry", True),
            "resources": spec.get("resources") or {},
        }
        return base_plan(
            run,
            exposed_name,
            engine="vllm",
            task=self.task,
            features=self.features,
            routing_features=self.routing_features,
            endpoints=self.endpoints,
            options=options,
        )


VLLM_TEXT = VllmServeRuntime(
    kind="vllmserve-text",
    task="generate",
    features=("Chat Completions API", "Completions API"),
    routing_features=("TextGeneration",),
    endpoints=("/models", "/chat/completions", "/completions", "/tokenize", "/detokenize"),
)
VLLM_SPEECH = VllmServeRuntime(
    kind="vllmserve-speech",
    task="transcribe",
    features=("Transcriptions API", "Translations API"),
    routing_features=("SpeechToText",),
    endpoints=("/models", "/audio/transcriptions", "/audio/translations", "/tokenize"),
)
VLLM_POOLING = VllmServeRuntime(
    kind="vllmserve-pooling",
    task="embed",
    features=("Embeddings API",),
    routing_features=("TextEmbedding", "Pooling"),
    endpoints=(
        "/models", "/embeddings", "/tokenize", "/detokenize", "/pooling", "/classify",
        "/score", "/rerank",
    ),
)
