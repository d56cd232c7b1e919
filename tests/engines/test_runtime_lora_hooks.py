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
