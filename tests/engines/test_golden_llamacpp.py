"""llama.cpp argv: one GGUF file (given, or the only one in a folder), alias = served name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelserve.errors import InvalidRequest
from tests.engines.golden import PORT, PY, launch, plan_for

HEAD = [PY["llamacpp"], "-m", "llama_cpp.server"]
SPEC = {"url": "hf://o/m-gguf", "model_name": "tiny"}


def _fixed(model: Path) -> list[str]:
    return ["--model", str(model), "--model_alias", "tiny", "--host", "127.0.0.1", "--port", str(PORT)]


CASES: list[tuple[str, str, dict[str, Any], list[str]]] = [
    ("vllmserve-text-default-ctx", "vllmserve-text", {}, ["--n_ctx", "2048"]),
    ("user-n_ctx-replaces-default", "vllmserve-text", {"args": ["--n_ctx", "512", "--n_threads", "2"]},
     ["--n_ctx", "512", "--n_threads", "2"]),
    ("user-n_ctx-equals-form", "vllmserve-text", {"args": ["--n_ctx=4096"]}, ["--n_ctx=4096"]),
    ("fixed-keys-kept", "vllmserve-text", {"args": ["--model_alias", "other", "--port", "1"]}, ["--n_ctx", "2048"]),
    ("kubeai-text-embeddings", "kubeai-text", {"engine": "VLLM", "features": ["TextEmbedding"]},
     ["--n_ctx", "2048", "--embedding", "true"]),
    ("huggingfaceserve-generation", "huggingfaceserve", {"path": "hf://o/m-gguf"}, ["--n_ctx", "2048"]),
    ("kubeai-text-engine-llamacpp", "kubeai-text", {"engine": "LlamaCpp"}, ["--n_ctx", "2048"]),
    ("kubeai-text-llamacpp-embeddings", "kubeai-text", {"engine": "LlamaCpp", "features": ["TextEmbedding"]},
     ["--n_ctx", "2048", "--embedding", "true"]),
]


def test_kubeai_text_engine_llamacpp_plans_the_llamacpp_engine() -> None:
    assert plan_for("kubeai-text", {**SPEC, "engine": "LlamaCpp"}).engine == "llamacpp"


@pytest.mark.parametrize(("kind", "extra", "tail"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_llamacpp_launch_plan(tmp_path: Path, kind: str, extra: dict[str, Any], tail: list[str]) -> None:
    gguf = tmp_path / "tiny.gguf"
    gguf.write_bytes(b"GGUF")
    lp = launch("llamacpp", plan_for(kind, {**SPEC, **extra}), gguf, tmp_path)
    assert list(lp.argv) == HEAD + _fixed(gguf) + tail
    assert dict(lp.env) == {"PYTHONUNBUFFERED": "1"}
    assert (lp.health_path, lp.served_name) == ("/v1/models", "tiny")


def test_folder_with_one_gguf_serves_it(tmp_path: Path) -> None:
    (tmp_path / "snap" / "sub").mkdir(parents=True)
    (tmp_path / "snap" / "README.md").write_text("x")
    gguf = tmp_path / "snap" / "sub" / "m.Q4.gguf"
    gguf.write_bytes(b"GGUF")
    lp = launch("llamacpp", plan_for("vllmserve-text", SPEC), tmp_path / "snap", tmp_path)
    assert lp.argv[lp.argv.index("--model") + 1] == str(gguf)


@pytest.mark.parametrize(("files", "message"), [([], "no .gguf"), (["a.gguf", "b.gguf"], "several GGUF files")],
                         ids=["none", "several"])
def test_folder_without_a_single_gguf_is_refused(tmp_path: Path, files: list[str], message: str) -> None:
    (tmp_path / "snap").mkdir()
    for f in files:
        (tmp_path / "snap" / f).write_bytes(b"GGUF")
    with pytest.raises(InvalidRequest) as err:
        launch("llamacpp", plan_for("vllmserve-text", SPEC), tmp_path / "snap", tmp_path)
    assert message in err.value.message and err.value.param == "url"


def test_adapters_are_refused(tmp_path: Path) -> None:
    spec = {**SPEC, "adapters": [{"name": "a", "url": "hf://o/a"}]}
    with pytest.raises(InvalidRequest) as err:
        launch("llamacpp", plan_for("vllmserve-text", spec), tmp_path / "x.gguf", tmp_path, {"a": tmp_path})
    assert err.value.param == "adapters"
