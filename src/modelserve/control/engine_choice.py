"""Pick the engine that will really serve a plan: the one asked for, or the built-in fallback."""

from __future__ import annotations

from dataclasses import dataclass

from modelserve.engines import ENGINES, EngineAdapter
from modelserve.errors import InvalidRequest
from modelserve.runtimes.plan import DeploymentPlan
from modelserve.settings import Settings


@dataclass(frozen=True)
class EngineChoice:
    engine: EngineAdapter
    requested: str
    fallback: bool
    note: str  # what to tell the user in events and status

    def as_status(self) -> dict[str, object]:
        return {"requested": self.requested, "used": self.engine.name, "fallback": self.fallback, "note": self.note}


def choose_engine(plan: DeploymentPlan, settings: Settings) -> EngineChoice:
    """The requested engine when installed; else the built-in engine if fallback is allowed.

    Raises InvalidRequest (the run goes to ERROR) with an actionable message otherwise.
    """
    wanted = ENGINES[plan.engine]
    found = wanted.available(settings)
    if found.ok:
        return EngineChoice(wanted, plan.engine, False, f"serving with {wanted.display} ({found.detail})")
    auto = bool(plan.options.get("backend_auto"))
    if settings.engine_fallback or auto:
        builtin = ENGINES["builtin"]
        note = f"{wanted.display} is not available ({found.detail}); serving with the built-in engine"
        return EngineChoice(builtin, plan.engine, True, note)
    raise InvalidRequest(
        f"engine {wanted.display} is not available: {found.detail}; "
        "or set MODELSERVE_ENGINE_FALLBACK=true to serve with the built-in engine",
        param="engine",
        code="engine_unavailable",
    )
