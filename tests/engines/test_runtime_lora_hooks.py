"""Which launch plans can load LoRA adapters while serving, and what a refusal tells the user."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelserve.errors import InvalidRequest
from tests.engines.golden import launch, plan_for

MODEL = Path("/models/m")


def test_builtin_generation_loads_adapters_through_vllms_routes(tmp_path: Path) -> None:
    lp = launch("builtin", plan_for("vllmserve-text", {"url": "hf://o/m"}), MODEL, tmp_path)
    load = lp.load_adapter("late", tmp_path / "late")
    assert (load.method, load.path, dict(load.json or {})) == (
        "POST", "/v1/load_lora_adapter", {"lora_name": "late", "lora_path": str(tmp_path / "late")}
    )
    unload = lp.unload_adapter("late")
    assert (unload.path, dict(unload.json or {})) == ("/v1/unload_lora_adapter", {"lora_name": "late"})


def test_builtin_embeddings_refuse_runtime_adapters_naming_engine_and_task(tmp_path: Path) -> None:
    lp = launch("builtin", plan_for("vllmserve-pooling", {"url": "hf://o/m"}), MODEL, tmp_path)
    with pytest.raises(InvalidRequest) as err:
        lp.load_adapter("x", "/a/x")
    assert "engine builtin" in err.value.message and "embed" in err.value.message
    assert err.value.param == "adapters"


def test_vllm_without_enable_lora_says_which_flag_to_add(tmp_path: Path) -> None:
    lp = launch("vllm", plan_for("vllmserve-text", {"url": "hf://o/m"}), MODEL, tmp_path)
    with pytest.raises(InvalidRequest) as err:
        lp.unload_adapter("x")
    assert "engine vllm" in err.value.message and "--enable-lora" in err.value.message


def test_vllm_keeps_lora_enabled_for_a_run_whose_adapters_were_all_removed(tmp_path: Path) -> None:
    from modelserve.engines import ENGINES, ModelArtifact
    from tests.engines.golden import PORT, settings_for

    plan = plan_for("vllmserve-text", {"url": "hf://o/m"})
    lp = ENGINES["vllm"].launch(plan, ModelArtifact(MODEL, {}, runtime_lora=True), port=PORT, settings=settings_for(tmp_path))
    assert lp.argv.count("--enable-lora") == 1 and "--lora-modules" not in lp.argv
    assert lp.load_adapter("late", "/a/late").path == "/v1/load_lora_adapter"


def test_adapters_in_a_models_answer_are_every_id_but_the_served_name(tmp_path: Path) -> None:
    lp = launch("builtin", plan_for("vllmserve-text", {"url": "hf://o/m", "model_name": "tiny"}), MODEL, tmp_path)
    answer = {"object": "list", "data": [{"id": "tiny"}, {"id": "sql", "parent": "tiny"}, {"id": "poet"}]}
    assert lp.adapters_in(answer) == {"sql", "poet"}
    assert lp.adapters_in({"data": [{"id": "tiny"}]}) == frozenset()
    assert (lp.list_models().method, lp.list_models().path) == ("GET", "/v1/models")
