"""Infinity argv/env: KubeAI's `v2 --model-id ... --url-prefix /v1`, soft defaults a user arg replaces."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelserve.errors import InvalidRequest
from tests.engines.golden import PORT, PY, launch, plan_for

MODEL = Path("/models/minilm")
HEAD = [PY["infinity"], "-m", "infinity_emb.cli", "v2"]
FIXED = ["--model-id", str(MODEL), "--served-model-name", "emb", "--host", "127.0.0.1", "--port", str(PORT),
         "--url-prefix", "/v1"]
ENV = {"HF_HUB_OFFLINE": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0", "DO_NOT_TRACK": "1"}
SPEC = {"url": "hf://BAAI/bge-small-en-v1.5", "model_name": "emb", "engine": "Infinity", "features": ["TextEmbedding"]}

CASES: list[tuple[str, dict[str, Any], list[str], dict[str, str]]] = [
    ("kubeai-text-embeddings", {}, [*FIXED, "--engine", "torch", "--device", "cpu", "--no-bettertransformer"], ENV),
    (
        "user-device-replaces-default",
        {"args": ["--device", "cuda", "--batch-size", "64", "--port", "1"]},
        [*FIXED, "--engine", "torch", "--no-bettertransformer", "--device", "cuda", "--batch-size", "64"],
        ENV,
    ),
    (
        "user-engine-and-bettertransformer",
        {"args": ["--engine", "optimum", "--bettertransformer"]},
        [*FIXED, "--device", "cpu", "--engine", "optimum", "--bettertransformer"],
        ENV,
    ),
    (
        "envs-passed",
        {"envs": {"INFINITY_LOG_LEVEL": "debug"}},
        [*FIXED, "--engine", "torch", "--device", "cpu", "--no-bettertransformer"],
        {**ENV, "INFINITY_LOG_LEVEL": "debug"},
    ),
]


@pytest.mark.parametrize(("extra", "argv", "env"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_infinity_launch_plan(tmp_path: Path, extra: dict[str, Any], argv: list[str], env: dict[str, str]) -> None:
    lp = launch("infinity", plan_for("kubeai-text", {**SPEC, **extra}), MODEL, tmp_path)
    assert list(lp.argv) == HEAD + argv
    assert dict(lp.env) == env
    assert (lp.health_path, lp.served_name, lp.post_start, lp.runtime_lora) == ("/health", "emb", (), None)


def test_infinity_refuses_text_generation(tmp_path: Path) -> None:
    spec = {**SPEC, "features": ["TextGeneration"]}
    with pytest.raises(InvalidRequest) as err:
        launch("infinity", plan_for("kubeai-text", spec), MODEL, tmp_path)
    assert err.value.param == "engine" and "generate" in err.value.message
