"""Which models a key may use: its allow-list (exposed or plain names; empty = all) and project.

A resolver tells the names a requested model answers to (exposed name, plain `model_name`,
adapter names) and its project; `routing_resolver` builds one over the gateway's routing table
by duck typing, so this module never imports the gateway. Imports `errors` and `store.records`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelserve import errors
from modelserve.store.records import ApiKeyRecord


@dataclass(frozen=True)
class ResolvedModel:
    """The names a requested model answers to and the project it belongs to (None: unknown)."""

    names: frozenset[str]
    project: str | None = None


# (requested model or None, run id of a per-run channel or None) -> what it resolves to, or None.
ModelResolver = Callable[[str | None, str | None], ResolvedModel | None]


def names_only(model: str | None, run_id: str | None) -> ResolvedModel | None:
    """The default resolver: a model is known only by the name the request used."""
    return ResolvedModel(frozenset({model})) if model else None


def routing_resolver(table: Callable[[], Any]) -> ModelResolver:
    """A resolver over a routing table (`table()` returns the current one).

    A request for `<model>_<adapter>` answers to the adapter names and to its base model's
    names, so allowing a model allows its adapters. Unknown models resolve to None.
    """

    def resolve(model: str | None, run_id: str | None) -> ResolvedModel | None:
        current = table()
        try:
            route = current.lookup_in_run(run_id, model) if run_id else current.lookup(model or "")
        except errors.ModelServeError:
            return names_only(model, run_id)
        served = route.model
        bases = {n for n in (served.model, served.model_name) if n}
        names = set(bases)
        if route.adapter:
            names |= {f"{b}_{route.adapter}" for b in bases}
        if model:
            names.add(model)
        return ResolvedModel(frozenset(names), served.project)

    return resolve


def restricted(key: ApiKeyRecord) -> bool:
    """Whether requests under `key` must name a model it may use."""
    return bool(key.models) or key.project is not None


def check_access(key: ApiKeyRecord, requested: str | None, resolved: ResolvedModel | None) -> None:
    """Raise errors.Forbidden (param "model") when `key` may not use the requested model."""
    if key.models:
        names = resolved.names if resolved is not None else frozenset()
        if not names & set(key.models):
            what = f"model '{requested}'" if requested else "a request that names no model"
            raise errors.Forbidden(
                f"This API key is not allowed to use {what}.", param="model", code="model_not_allowed"
            )
    # A project-scoped key needs a model known to be in its project (unknown: refused too).
    if key.project is not None and (resolved is None or resolved.project != key.project):
        raise errors.Forbidden(
            f"This API key may only use models of project '{key.project}'.",
            param="model",
            code="model_not_allowed",
        )
