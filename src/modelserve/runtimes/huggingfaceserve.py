"""`huggingfaceserve` (deprecated upstream, kept): any huggingface_task on the built-in engine or vLLM."""

from __future__ import annotations

from modelserve.runtimes.base import EMBEDDING_ENDPOINTS, GENERATION_ENDPOINTS, RunView, base_plan
from modelserve.runtimes.plan import DeploymentPlan

_GENERATIVE = {"text_generation", "text2text_generation"}


class HuggingfaceServeRuntime:
    kind = "huggingfaceserve"

    def plan(self, run: RunView, exposed_name: str) -> DeploymentPlan:
        spec = run.spec
        task = str(spec.get("huggingface_task") or "text_generation").lower()
        backend = str(spec.get("backend") or "HUGGINGFACE").upper()
        # AUTO follows KServe: vLLM for generative tasks when it is there, else the built-in engine.
        engine = "vllm" if backend == "VLLM" or (backend == "AUTO" and task in _GENERATIVE) else "builtin"
        generative = task in _GENERATIVE
        features = ("TextGeneration",) if generative else ("TextEmbedding",)
        options = {
            k: spec[k]
            for k in ("max_length", "trust_remote_code", "tokenizer_revision", "return_probabilities")
            if spec.get(k) is not None
        }
        options["backend_auto"] = backend == "AUTO"
        return base_plan(
            run,
            exposed_name,
            engine=engine,
            task="generate" if generative else ("embed" if task == "text_embedding" else task),
            features=features,
            routing_features=features,
            endpoints=GENERATION_ENDPOINTS if generative else EMBEDDING_ENDPOINTS,
            options=options,
        )
