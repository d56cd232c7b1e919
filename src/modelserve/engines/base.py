"""The EngineAdapter seam: turn a DeploymentPlan into a LaunchPlan for one replica.

Used unchanged by every executor. Must not import executors, control or the gateway.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Protocol

from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings


@dataclass(frozen=True)
class ModelArtifact:
    """A model made local: a folder, or a single file (GGUF), plus local adapter folders."""

    path: Path
    adapters: Mapping[str, Path] = field(default_factory=dict)


@dataclass(frozen=True)
class LaunchPlan:
    engine: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    port: int
    served_name: str
    health_path: str = "/health"


@dataclass(frozen=True)
class Availability:
    ok: bool
    detail: str  # how it was found, or what to do when it was not


class EngineAdapter(Protocol):
    name: str
    display: str

    def available(self, settings: Settings) -> Availability: ...

    def launch(
        self, plan: DeploymentPlan, artifact: ModelArtifact, *, port: int, settings: Settings
    ) -> LaunchPlan: ...


def configured_python(settings: Settings, engine: str) -> str | None:
    cfg = settings.engines.get(engine)
    return cfg.python if cfg and cfg.python else None


def python_module_availability(
    settings: Settings, engine: str, module: str, install_hint: str
) -> Availability:
    """An engine run as `python -m module`: a configured interpreter, or this one if it has the module."""
    python = configured_python(settings, engine)
    if python:
        if Path(python).exists() or shutil.which(python):
            return Availability(True, f"configured interpreter {python}")
        return Availability(False, f"configured interpreter {python} does not exist")
    if importlib.util.find_spec(module) is not None:
        return Availability(True, f"module {module} in {sys.executable}")
    env_name = f"MODELSERVE_ENGINES__{engine.upper()}__PYTHON"
    return Availability(
        False, f"{install_hint}, or set {env_name} to an interpreter that has it"
    )


def merge_args(defaults: list[str], user: tuple[str, ...]) -> list[str]:
    """Append user args whose keys are not already present (seed rule: defaults cannot be overridden).

    Tokens group as `--key` followed by its values; `--k=v` counts as the key `--k=v` itself.
    """
    present = {tok for tok in defaults if tok.startswith("--")}
    out = list(defaults)
    group: list[str] = []
    for tok in list(user) + ["--"]:
        if tok.startswith("--"):
            if group and group[0] not in present:
                out.extend(group)
                present.add(group[0])
            group = [tok]
        elif group:
            group.append(tok)
    return out
