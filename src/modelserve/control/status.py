"""Run status shapes: service and OpenAI blocks as the seed platform reports them, with full URLs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from modelserve.runtimes.plan import DeploymentPlan


def service_block(plan: DeploymentPlan, base_url: str) -> dict[str, Any]:
    url = f"{base_url}/runs/{plan.run_id}/v1"
    return {"url": url, "urls": [url + path for path in plan.endpoints]}


def adapter_entries(exposed_name: str, names: Iterable[str]) -> list[dict[str, str]]:
    """status.openai.adapters: each adapter with the model name clients send for it."""
    return [{"name": name, "model": f"{exposed_name}_{name}"} for name in names]


def openai_block(plan: DeploymentPlan, base_url: str, engine_display: str) -> dict[str, Any]:
    return {
        "baseUrl": f"{base_url}/openai/v1",
        "model": plan.exposed_name,
        "modelUrl": plan.model_url,
        "adapters": adapter_entries(plan.exposed_name, (a.name for a in plan.adapters)),
        "engine": engine_display,
        "features": list(plan.features),
    }


def serving_status(
    plan: DeploymentPlan, base_url: str, engine_display: str, engine: dict[str, Any]
) -> dict[str, Any]:
    """The parts of status that are known as soon as a run is scheduled."""
    return {
        "service": service_block(plan, base_url),
        "openai": openai_block(plan, base_url, engine_display),
        "engine": engine,
        "routing": {
            "upstream_model": plan.served_name,
            "model_name": plan.model_name,
            "features": list(plan.routing_features),
            "strategy": plan.strategy,
            "balancing": dict((plan.scaling.get("load_balancing") or {}).get("prefix_hash") or {}),
        },
    }
