"""`kubeai-text`: text generation or embeddings on vLLM, Ollama, Infinity or llama.cpp (KubeAI Model)."""

from __future__ import annotations

from modelserve.runtimes.base import EMBEDDING_ENDPOINTS, GENERATION_ENDPOINTS, RunView, base_plan
from modelserve.runtimes.plan import DeploymentPlan

_ENGINES = {"VLLM": "vllm", "OLlama": "ollama", "Infinity": "infinity", "LlamaCpp": "llamacpp"}


class KubeAITextRuntime:
    kind = "kubeai-text"

    def plan(self, run: RunView, exposed_name: str) -> DeploymentPlan:
        spec = run.spec
        engine = _ENGINES[spec.get("engine") or "VLLM"]
        features = tuple(spec.get("features") or ("TextGeneration",))
        embed = "TextEmbedding" in features and "TextGeneration" not in features
        endpoints: tuple[str, ...] = ()
        if "TextGeneration" in features:
            endpoints += GENERATION_ENDPOINTS
        if "TextEmbedding" in features:
            endpoints += tuple(p for p in EMBEDDING_ENDPOINTS if p not in endpoints)
        return base_plan(
            run,
            exposed_name,
            engine=engine,
            task="embed" if embed else "generate",
            features=features,
            routing_features=features,
            endpoints=endpoints,
        )
