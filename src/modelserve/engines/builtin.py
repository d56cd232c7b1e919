"""The built-in engine (`python -m modelserve.builtin`): always available, transformers on CPU or GPU.

It is also every kind's fallback, so a run's args were often written for vLLM: only the args the
built-in engine understands are passed on (the seed's merge rule), the rest are dropped.
"""

from __future__ import annotations

import sys

from modelserve.engines.base import OPENAI_RUNTIME_LORA, Availability, LaunchPlan, ModelArtifact, merge_args
from modelserve.engines.locate import configured_python
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings

# Flags of `python -m modelserve.builtin` a user may set (the others are fixed by the plan).
USER_FLAGS = frozenset({
    "--max-model-len", "--dtype", "--device", "--max-num-seqs", "--max-queue", "--max-embed-batch",
    "--return-probabilities",
    "--log-level", "--gguf-file", "--override-generation-config", "--prefix-cache-mb",
    "--prefill-chunk-tokens", "--max-audio-mb",
    "--packed-weights", "--no-packed-weights", "--fused-forward", "--no-fused-forward",
})


class BuiltinEngine:
    name = "builtin"
    display = "built-in"
    fetches_model = True

    def available(self, settings: Settings) -> Availability:
        return Availability(True, "ships with modelserve")

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        python = configured_python(settings, self.name) or sys.executable
        defaults = [
            "--model", str(artifact.path),
            "--served-model-name", plan.served_name,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--task", engine_task(plan),
            "--cache-dir", str(settings.models_dir / "builtin-cache"),
        ]
        if plan.dtype and plan.dtype != "auto":
            defaults += ["--dtype", _DTYPES.get(plan.dtype, plan.dtype)]
        if plan.options.get("return_probabilities"):
            defaults.append("--return-probabilities")
        if artifact.adapters:
            defaults.append("--lora-modules")
            defaults += [f"{name}={path}" for name, path in artifact.adapters.items()]
        argv = [python, "-m", "modelserve.builtin", *merge_args(defaults, known_args(plan.args))]
        env = dict(plan.envs)
        env.setdefault("PYTHONUNBUFFERED", "1")
        generates = plan.task == "generate"  # adapters load at run time for text generation only
        return LaunchPlan(
            self.name, tuple(argv), env, port, plan.served_name, "/health",
            runtime_lora=OPENAI_RUNTIME_LORA if generates else None,
            runtime_lora_hint="" if generates else f"it serves LoRA adapters for text generation, not {plan.task}",
        )  # fmt: skip


def known_args(args: tuple[str, ...]) -> tuple[str, ...]:
    """The `--key value...` groups of args whose key (or `--key=` prefix) the built-in engine accepts."""
    out: list[str] = []
    keep = False
    for tok in args:
        if tok.startswith("--"):
            keep = tok.split("=", 1)[0] in USER_FLAGS
        if keep:
            out.append(tok)
    return tuple(out)


# plan.task (a kind's task, or huggingfaceserve's huggingface_task) -> the engine's --task
_TASKS = {
    "generate": "generate",
    "embed": "embed",
    "sequence_classification": "classify",
    "token_classification": "token_classification",
    "fill_mask": "fill_mask",
}


def engine_task(plan: DeploymentPlan) -> str:
    """The built-in engine's `--task` for a plan ("auto" lets it read the model folder)."""
    if plan.task == "embed" and "Pooling" in plan.routing_features:
        return "pooling"  # vllmserve-pooling: embeddings, or a classifier's or cross-encoder's scores
    return _TASKS.get(plan.task, "auto")


_DTYPES = {"float": "float32", "half": "float16"}
