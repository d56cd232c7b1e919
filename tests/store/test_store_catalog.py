"""Projects and functions on both backends."""

from __future__ import annotations

from datetime import timezone

import pytest

from modelserve.errors import Conflict, InvalidRequest, NotFound
from modelserve.store import SqlStore


def test_project_create_get_list_and_shape(store: SqlStore) -> None:
    created = store.create_project("beta")
    store.create_project("alpha")

    assert store.get_project("beta") == created
    assert [p.name for p in store.list_projects()] == ["alpha", "beta"]
    assert created.created_at.tzinfo == timezone.utc
    assert created.to_dict() == {"name": "beta", "created_at": created.created_at.isoformat()}


def test_project_create_twice_is_a_conflict_naming_it(store: SqlStore) -> None:
    store.create_project("dup")
    with pytest.raises(Conflict, match="project 'dup' already exists"):
        store.create_project("dup")


def test_get_or_create_project_returns_the_existing_one(store: SqlStore) -> None:
    first = store.get_or_create_project("same")
    again = store.get_or_create_project("same")
    assert again == first
    assert len(store.list_projects()) == 1


@pytest.mark.parametrize(
    "name",
    ["", "Upper", "-lead", "under_score", "dot.ted", "a" * 64, "space d"],
    ids=["empty", "upper", "leading-dash", "underscore", "dot", "too-long", "space"],
)
def test_invalid_project_names_are_rejected_with_param_name(store: SqlStore, name: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        store.create_project(name)
    assert info.value.param == "name"
    assert store.list_projects() == []


@pytest.mark.parametrize("name", ["a", "0", "my-project-1", "a" * 63], ids=["one", "digit", "dashes", "max"])
def test_valid_project_names_are_accepted(store: SqlStore, name: str) -> None:
    assert store.create_project(name).name == name


def test_unknown_project_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound, match="project 'ghost' not found"):
        store.get_project("ghost")
    with pytest.raises(NotFound, match="ghost"):
        store.delete_project("ghost")
    with pytest.raises(NotFound, match="ghost"):
        store.list_functions("ghost")
    with pytest.raises(NotFound, match="ghost"):
        store.create_function("ghost", "fn", "kubeai-text", {})


def test_delete_project_refuses_while_a_run_is_not_deleted(store: SqlStore, make_run) -> None:
    run = make_run("busy", state="RUNNING")
    with pytest.raises(Conflict, match="project 'busy' has 1 run"):
        store.delete_project("busy")
    assert store.get_run(run.id).state == "RUNNING"

    store.update_status(run.id, {"state": "DELETED"})
    deleted = store.delete_project("busy")

    assert deleted.name == "busy"
    assert store.list_projects() == []
    with pytest.raises(NotFound):
        store.get_run(run.id)
    with pytest.raises(NotFound):
        store.get_function("busy", "fn")


def test_function_versions_count_up_and_stay_immutable(store: SqlStore) -> None:
    store.create_project("p")
    v1 = store.create_function(
        "p", "chat", "kubeai-text", {"url": "hf://a/b", "features": ["TextGeneration"]}
    )
    v2 = store.create_function("p", "chat", "kubeai-text", {"url": "hf://a/c"})
    other = store.create_function("p", "embed", "vllmserve-pooling", {"url": "hf://e/f"})

    assert (v1.version, v2.version, other.version) == (1, 2, 1)
    assert len({v1.id, v2.id, other.id}) == 3
    assert store.get_function("p", "chat") == v2
    assert store.get_function("p", "chat", 1) == v1
    assert store.get_function("p", "chat", 1).spec == {"url": "hf://a/b", "features": ["TextGeneration"]}


def test_list_functions_returns_latest_version_of_each_by_name(store: SqlStore) -> None:
    store.create_project("p")
    store.create_project("q")
    store.create_function("p", "zeta", "kubeai-text", {"n": 1})
    store.create_function("p", "alpha", "kubeai-text", {"n": 1})
    store.create_function("p", "zeta", "kubeai-text", {"n": 2})
    store.create_function("q", "alpha", "kubeai-text", {"n": 9})

    listed = store.list_functions("p")

    assert [(f.name, f.version, f.spec) for f in listed] == [("alpha", 1, {"n": 1}), ("zeta", 2, {"n": 2})]
    assert store.list_functions("q")[0].project == "q"


def test_function_json_round_trips_nested_and_unicode(store: SqlStore) -> None:
    store.create_project("p")
    spec = {"envs": [{"name": "A", "value": "ü→✓"}], "scaling": {"min": 0, "max": 3.5}, "flag": None}
    fn = store.create_function("p", "chat", "kubeai-text", spec)
    assert store.get_function("p", "chat").spec == spec
    assert fn.to_dict() == {
        "id": fn.id,
        "project": "p",
        "name": "chat",
        "kind": "kubeai-text",
        "version": 1,
        "spec": spec,
        "created_at": fn.created_at.isoformat(),
    }


def test_missing_function_or_version_is_not_found(store: SqlStore) -> None:
    store.create_project("p")
    store.create_function("p", "chat", "kubeai-text", {})
    with pytest.raises(NotFound, match="function 'nope' not found in project 'p'"):
        store.get_function("p", "nope")
    with pytest.raises(NotFound, match="function 'chat' version 7 not found in project 'p'"):
        store.get_function("p", "chat", 7)
    with pytest.raises(NotFound, match="project 'ghost' not found"):
        store.get_function("ghost", "chat")


@pytest.mark.parametrize("field", ["name", "kind"])
def test_function_needs_a_name_and_kind(store: SqlStore, field: str) -> None:
    store.create_project("p")
    args = {"name": "chat", "kind": "kubeai-text", field: " "}
    with pytest.raises(InvalidRequest) as info:
        store.create_function("p", args["name"], args["kind"], {})
    assert info.value.param == field
