"""The routing table: which served models exist, the names clients may use for them, their endpoints.

Pure values built from a list of `ServedModel`s the server hands to the gateway; no I/O.
Must not import control/, executors/ or api/.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from modelserve import errors


@dataclass(frozen=True)
class Endpoint:
    """One ready replica of a served model."""

    replica: str  # "<run_id>-<index>"
    url: str  # "http://127.0.0.1:PORT", no trailing slash
    # Adapters loaded on this replica; None means every adapter of the served model. Not part of
    # equality or hash: in-flight counts follow a replica while its adapter set changes.
    adapters: frozenset[str] | None = field(default=None, compare=False)

    def serves(self, adapter: str | None) -> bool:
        """Whether this replica can answer for `adapter` (None: the base model)."""
        return adapter is None or self.adapters is None or adapter in self.adapters


@dataclass(frozen=True)
class ServedModel:
    """A run as the data plane sees it: the names it answers to and where its replicas listen."""

    run_id: str
    project: str
    model: str  # exposed name clients send, e.g. "qwen-3f2a..."
    model_name: str | None  # the plain function model_name; resolves when it names exactly one model
    upstream_model: str  # the name the engine serves
    adapters: tuple[str, ...] = ()  # addressed as f"{model}_{adapter}", sent upstream as `adapter`
    features: tuple[str, ...] = ()  # e.g. ("TextGeneration",)
    endpoints: tuple[Endpoint, ...] = ()  # READY replicas only
    state: str = "RUNNING"
    created: int = 0  # unix seconds
    strategy: str = "LeastLoad"  # balancing strategy name (see gateway.balancers)
    # Strategy parameters, e.g. the spec's `scaling.load_balancing.prefix_hash` mapping
    # {"mean_load_factor": 125, "replication": 256, "prefix_char_length": 100}. Unhashed.
    balancing: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class Route:
    """What a `model` field resolved to: the served model, the name to send upstream, the adapter."""

    model: ServedModel
    upstream: str
    adapter: str | None = None


def _names_of(m: ServedModel) -> list[tuple[str, Route]]:
    """Exact (exposed) names of one model and its adapters."""
    out = [(m.model, Route(m, m.upstream_model))]
    out += [(f"{m.model}_{a}", Route(m, a, a)) for a in m.adapters]
    return out


def _plain_names_of(m: ServedModel) -> list[tuple[str, Route]]:
    """Plain `model_name` aliases of one model and its adapters (valid only when unambiguous)."""
    if not m.model_name or m.model_name == m.model:
        return []
    out = [(m.model_name, Route(m, m.upstream_model))]
    out += [(f"{m.model_name}_{a}", Route(m, a, a)) for a in m.adapters]
    return out


class RoutingTable:
    """Resolves a request's `model` field to a served model. Immutable once built.

    Exposed names (and `<exposed>_<adapter>`) always win; a plain `model_name` (and
    `<model_name>_<adapter>`) resolves only when exactly one served model carries it.
    """

    def __init__(self, models: Iterable[ServedModel] = ()) -> None:
        self._models = sorted(models, key=lambda m: m.model)
        self._by_run = {m.run_id: m for m in self._models}
        self._exact: dict[str, Route] = {}
        duplicate: set[str] = set()
        for m in self._models:
            for name, route in _names_of(m):
                if name in self._exact and self._exact[name].model.run_id != m.run_id:
                    duplicate.add(name)
                self._exact[name] = route
        # A plain name, and its `<model_name>_<adapter>` aliases, count only when one model has it.
        holders: dict[str, list[ServedModel]] = {}
        for m in self._models:
            if m.model_name and m.model_name != m.model:
                holders.setdefault(m.model_name, []).append(m)
        self._plain: dict[str, Route] = {}
        self._ambiguous: dict[str, list[str]] = {}
        for plain_name, ms in holders.items():
            if len(ms) == 1:
                aliases = {n: r for n, r in _plain_names_of(ms[0]) if n not in self._exact}
                self._plain.update(aliases)
            elif plain_name not in self._exact:
                self._ambiguous[plain_name] = sorted(m.model for m in ms)
        for name in duplicate:
            del self._exact[name]
            self._ambiguous[name] = sorted(m.model for m in self._models if name in dict(_names_of(m)))

    def lookup(self, name: str) -> Route:
        """The route for a `model` field. Raises errors.NotFound (param "model") when unknown or ambiguous."""
        route = self._exact.get(name) or self._plain.get(name)
        if route is not None:
            return route
        if name in self._ambiguous:
            choices = ", ".join(self._ambiguous[name])
            raise errors.NotFound(
                f"The model '{name}' is ambiguous: it names several served models ({choices}); "
                "use the exposed name.",
                param="model",
                code="model_not_found",
            )
        raise errors.NotFound(
            f"The model '{name}' does not exist or is not served.", param="model", code="model_not_found"
        )

    def resolve(self, name: str) -> tuple[ServedModel, str]:
        """(served model, name to send upstream). Raises errors.NotFound like `lookup`."""
        route = self.lookup(name)
        return route.model, route.upstream

    def lookup_in_run(self, run_id: str, name: str | None) -> Route:
        """The route for a `model` field on one run's channel; None means the run's own model.

        Accepts the exposed name, the plain model_name, the upstream name and adapter names of that
        run. Raises errors.NotFound for an unknown run or a name the run does not serve.
        """
        m = self.by_run(run_id)
        if name is None:
            return Route(m, m.upstream_model)
        if name in (m.model, m.model_name, m.upstream_model):
            return Route(m, m.upstream_model)
        for adapter in m.adapters:
            if name in (adapter, f"{m.model}_{adapter}", f"{m.model_name}_{adapter}"):
                return Route(m, adapter, adapter)
        raise errors.NotFound(
            f"The model '{name}' is not served by run {run_id}.", param="model", code="model_not_found"
        )

    def by_run(self, run_id: str) -> ServedModel:
        """The served model of a run. Raises errors.NotFound when the run is not served."""
        m = self._by_run.get(run_id)
        if m is None:
            raise errors.NotFound(f"The run '{run_id}' is not served.", code="run_not_found")
        return m

    def get(self, run_id: str) -> ServedModel | None:
        """The served model of a run, or None when the run is not served."""
        return self._by_run.get(run_id)

    def models(self) -> list[ServedModel]:
        """Every served model, sorted by exposed name."""
        return list(self._models)

    def __len__(self) -> int:
        return len(self._models)
