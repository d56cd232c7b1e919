"""RoutingTable: which names resolve to which served model and upstream name."""

from __future__ import annotations

import pytest

from modelserve import errors
from modelserve.gateway import Endpoint, RoutingTable, ServedModel


def _m(
    run: str, model: str, name: str | None, upstream: str = "up", adapters: tuple[str, ...] = ()
) -> ServedModel:
    return ServedModel(
        run_id=run,
        project="p",
        model=model,
        model_name=name,
        upstream_model=upstream,
        adapters=adapters,
        endpoints=(Endpoint(f"{run}-0", "http://127.0.0.1:1"),),
    )


TABLE = RoutingTable(
    [
        _m("r1", "qwen-r1", "qwen", "Qwen/Qwen2", adapters=("sql", "chat")),
        _m("r2", "qwen-r2", "qwen", "qwen-r2"),
        _m("r3", "llama-r3", "llama", "meta/llama", adapters=("sql",)),
        _m("r4", "mini-r4", None, "mini"),
    ]
)


@pytest.mark.parametrize(
    ("name", "run", "upstream", "adapter"),
    [
        ("qwen-r1", "r1", "Qwen/Qwen2", None),
        ("qwen-r2", "r2", "qwen-r2", None),
        ("qwen-r1_sql", "r1", "sql", "sql"),
        ("qwen-r1_chat", "r1", "chat", "chat"),
        ("llama", "r3", "meta/llama", None),
        ("llama_sql", "r3", "sql", "sql"),
        ("mini-r4", "r4", "mini", None),
    ],
    ids=[
        "exposed",
        "exposed-equal-upstream",
        "adapter",
        "second-adapter",
        "unique-plain",
        "plain-adapter",
        "no-plain-name",
    ],
)
def test_lookup_resolves(name: str, run: str, upstream: str, adapter: str | None) -> None:
    route = TABLE.lookup(name)
    assert (route.model.run_id, route.upstream, route.adapter) == (run, upstream, adapter)
    assert TABLE.resolve(name) == (route.model, upstream)


@pytest.mark.parametrize(
    ("name", "in_message"),
    [
        ("qwen", "ambiguous"),
        ("qwen_sql", "does not exist"),  # only r1 has the adapter, but "qwen" is ambiguous
        ("qwen-r2_sql", "does not exist"),
        ("Qwen/Qwen2", "does not exist"),  # the upstream name is not a public name
        ("", "does not exist"),
    ],
    ids=["ambiguous-plain", "ambiguous-plain-adapter", "unknown-adapter", "upstream-name", "empty"],
)
def test_lookup_rejects_with_404_on_model(name: str, in_message: str) -> None:
    with pytest.raises(errors.NotFound) as info:
        TABLE.lookup(name)
    assert (info.value.param, info.value.code) == ("model", "model_not_found")
    assert in_message in info.value.message


def test_exposed_name_wins_over_a_plain_name() -> None:
    table = RoutingTable([_m("r1", "qwen", None), _m("r2", "qwen-r2", "qwen")])
    assert table.lookup("qwen").model.run_id == "r1"


def test_duplicate_exposed_names_are_ambiguous() -> None:
    table = RoutingTable([_m("r1", "same", None), _m("r2", "same", None)])
    with pytest.raises(errors.NotFound, match="ambiguous"):
        table.lookup("same")


@pytest.mark.parametrize(
    ("name", "upstream", "adapter"),
    [
        (None, "Qwen/Qwen2", None),
        ("qwen", "Qwen/Qwen2", None),
        ("qwen-r1", "Qwen/Qwen2", None),
        ("Qwen/Qwen2", "Qwen/Qwen2", None),
        ("sql", "sql", "sql"),
        ("qwen-r1_sql", "sql", "sql"),
        ("qwen_chat", "chat", "chat"),
    ],
    ids=["missing", "plain", "exposed", "upstream", "adapter", "exposed-adapter", "plain-adapter"],
)
def test_lookup_in_run(name: str | None, upstream: str, adapter: str | None) -> None:
    route = TABLE.lookup_in_run("r1", name)
    assert (route.model.run_id, route.upstream, route.adapter) == ("r1", upstream, adapter)


@pytest.mark.parametrize(
    ("run", "name", "code"),
    [("r1", "llama-r3", "model_not_found"), ("r9", None, "run_not_found")],
    ids=["other-runs-model", "unknown-run"],
)
def test_lookup_in_run_rejects(run: str, name: str | None, code: str) -> None:
    with pytest.raises(errors.NotFound) as info:
        TABLE.lookup_in_run(run, name)
    assert info.value.code == code


def test_models_are_sorted_and_by_run_finds_each() -> None:
    assert [m.model for m in TABLE.models()] == ["llama-r3", "mini-r4", "qwen-r1", "qwen-r2"]
    assert TABLE.by_run("r4").model == "mini-r4"
    with pytest.raises(errors.NotFound):
        TABLE.by_run("nope")
