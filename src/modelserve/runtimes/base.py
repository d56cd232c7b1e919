"""The Runtime seam: one implementation per kind turns a run's merged spec into a DeploymentPlan.

Shared helpers for reading the flat spec (function fields + serve fields) live here.
Must not import executors, control or the gateway.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from modelserve.runtimes.plan import AdapterPlan, DeploymentPlan


class RunView(Protocol):
    """What a runtime needs from a run record."""

    id: str
    project: str
    function: str
    kind: str
    spec: dict[str, Any]


class Runtime(Protocol):
    kind: str

    def plan(self, run: RunView, exposed_name: str) -> DeploymentPlan: ...


def envs_of(spec: Mapping[str, Any]) -> dict[str, str]:
    """Normalise `envs` (a map, or a list of {name, value}) to a dict."""
    raw = spec.get("envs") or spec.get("env") or {}
    if isinstance(raw, list):
        return {str(item["name"]): str(item.get("value", "")) for item in raw}
    return {str(k): str(v) for k, v in dict(raw).items()}


def adapters_of(spec: Mapping[str, Any]) -> tuple[AdapterPlan, ...]:
    return tuple(AdapterPlan(name=a["name"], url=a["url"]) for a in spec.get("adapters") or ())


def scaling_of(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Scaling block; a vLLM-style top-level `replicas` fills scaling.replicas when absent."""
    scaling = dict(spec.get("scaling") or {})
    if "replicas" not in scaling and spec.get("replicas") is not None:
        scaling["replicas"] = spec["replicas"]
    scaling.setdefault("replicas", 1)
    scaling.setdefault("min_replicas", min(1, int(scaling["replicas"])))
    return scaling


def base_plan(run: RunView, exposed_name: str, **fields: Any) -> DeploymentPlan:
    """A plan with the fields every kind fills the same way; `fields` sets the kind-specific rest."""
    spec = run.spec
    scaling = scaling_of(spec)
    model_name = spec.get("model_name")
    defaults: dict[str, Any] = dict(
        run_id=run.id,
        project=run.project,
        function=run.function,
        kind=run.kind,
        model_url=str(spec.get("url") or spec.get("path")),
        model_name=model_name,
        exposed_name=exposed_name,
        served_name=model_name or "model",
        adapters=adapters_of(spec),
        args=tuple(str(a) for a in spec.get("args") or ()),
        envs=envs_of(spec),
        secrets=tuple(spec.get("secrets") or ()),
        replicas=int(scaling["replicas"]),
        min_replicas=int(scaling.get("min_replicas", 1)),
        max_replicas=scaling.get("max_replicas"),
        scaling=scaling,
        dtype=(str(spec["dtype"]).lower() if spec.get("dtype") else None),
    )
    defaults.update(fields)
    return DeploymentPlan(**defaults)


GENERATION_ENDPOINTS = ("/models", "/chat/completions", "/completions")
EMBEDDING_ENDPOINTS = ("/models", "/embeddings")
SPEECH_ENDPOINTS = ("/models", "/audio/transcriptions")
