"""The built-in engine (`python -m modelserve.builtin`): always available, transformers on CPU or GPU."""

from __future__ import annotations

import sys

from modelserve.engines.base import Availability, LaunchPlan, ModelArtifact
from modelserve.engines.locate import configured_python
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings


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
        argv = [
            python, "-m", "modelserve.builtin",
            "--model", str(artifact.path),
            "--served-model-name", plan.served_name,
            "--host", "127.0.0.1",
            "--port", str(port),
            "--task", plan.task if plan.task in ("generate", "embed") else "auto",
            "--cache-dir", str(settings.models_dir / "builtin-cache"),
        ]
        if plan.dtype and plan.dtype != "auto":
            argv += ["--dtype", _DTYPES.get(plan.dtype, plan.dtype)]
        for name, path in artifact.adapters.items():
            argv += ["--lora-modules", f"{name}={path}"]
        env = dict(plan.envs)
        env.setdefault("PYTHONUNBUFFERED", "1")
        return LaunchPlan(self.name, tuple(argv), env, port, plan.served_name, "/health")


_DTYPES = {"float": "float32", "half": "float16"}
