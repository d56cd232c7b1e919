"""Shared pieces of the golden argv/env tables: a run view, plan building, fixed settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelserve.engines import ENGINES, LaunchPlan, ModelArtifact
from modelserve.runtimes import DeploymentPlan, runtime_for
from modelserve.settings import Settings

RUN_ID = "0123456789abcdef0123456789abcdef"
PORT = 8123
EXPOSED = "m-0123456789abcdef0123456789abcdef"
PY = {name: f"/opt/engines/{name}/bin/python" for name in ("builtin", "vllm", "infinity", "llamacpp", "fasterwhisper")}


@dataclass(frozen=True)
class RunView:
    id: str
    project: str
    function: str
    kind: str
    spec: dict[str, Any] = field(default_factory=dict)


def plan_for(kind: str, spec: dict[str, Any], **options: Any) -> DeploymentPlan:
    """The runtime's plan for a run of `kind`; `options` are added to plan.options (e.g. otlp_endpoint)."""
    plan = runtime_for(kind).plan(RunView(RUN_ID, "proj", "fn", kind, spec), EXPOSED)
    if options:
        from dataclasses import replace

        plan = replace(plan, options={**plan.options, **options})
    return plan


def settings_for(data_dir: Path) -> Settings:
    """Settings with a fixed interpreter per engine, so argv does not depend on this machine."""
    engines: dict[str, Any] = {name: {"python": py} for name, py in PY.items()}
    engines["ollama"] = {"command": "/usr/local/bin/ollama"}
    return Settings(data_dir=data_dir, engines=engines)


def launch(
    engine: str, plan: DeploymentPlan, model: Path, data_dir: Path, adapters: dict[str, Path] | None = None
) -> LaunchPlan:
    artifact = ModelArtifact(path=model, adapters=adapters or {})
    return ENGINES[engine].launch(plan, artifact, port=PORT, settings=settings_for(data_dir))
