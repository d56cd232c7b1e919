"""Ollama plan: `ollama serve` with KubeAI's env, then pull → copy → load as post-start calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modelserve.engines import HttpCall
from modelserve.engines.ollama import PULL_TIMEOUT_S
from modelserve.errors import InvalidRequest
from tests.engines.golden import PORT, launch, plan_for

ENV = {
    "OLLAMA_HOST": f"127.0.0.1:{PORT}",
    "OLLAMA_DEBUG": "false",
    "GIN_MODE": "release",
    "OLLAMA_ORIGINS": "*",
    "OLLAMA_KEEP_ALIVE": "999999h",
}
NO_PATH = Path("")


def _pull(tag: str, **extra: Any) -> HttpCall:
    return HttpCall("POST", "/api/pull", {"model": tag, "stream": False, **extra}, timeout_s=PULL_TIMEOUT_S)


def _copy(tag: str, name: str) -> HttpCall:
    return HttpCall("POST", "/api/copy", {"source": tag, "destination": name})


def _warm(name: str) -> HttpCall:
    return HttpCall("POST", "/api/generate", {"model": name, "stream": False}, timeout_s=600.0)


CASES: list[tuple[str, dict[str, Any], tuple[HttpCall, ...]]] = [
    ("tag-pulled-copied-loaded", {"url": "ollama://llama3.2:1b", "model_name": "llama"},
     (_pull("llama3.2:1b"), _copy("llama3.2:1b", "llama"), _warm("llama"))),
    ("no-pull", {"url": "ollama://llama3.2:1b?pull=false", "model_name": "llama"},
     (_copy("llama3.2:1b", "llama"), _warm("llama"))),
    ("insecure-registry", {"url": "ollama://reg.local/m:q4?insecure=true", "model_name": "m"},
     (_pull("reg.local/m:q4", insecure=True), _copy("reg.local/m:q4", "m"), _warm("m"))),
    ("hf-gguf-repo", {"url": "hf://bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M", "model_name": "smol"},
     (_pull("hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M"),
      _copy("hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M", "smol"), _warm("smol"))),
    ("embeddings-not-warmed", {"url": "ollama://nomic-embed-text", "model_name": "e", "features": ["TextEmbedding"]},
     (_pull("nomic-embed-text"), _copy("nomic-embed-text", "e"))),
]


@pytest.mark.parametrize(("spec", "calls"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_ollama_launch_plan(tmp_path: Path, spec: dict[str, Any], calls: tuple[HttpCall, ...]) -> None:
    lp = launch("ollama", plan_for("kubeai-text", {"engine": "OLlama", **spec}), NO_PATH, tmp_path)
    assert lp.argv == ("/usr/local/bin/ollama", "serve")
    assert dict(lp.env) == ENV
    assert lp.post_start == calls
    assert (lp.health_path, lp.served_name, lp.runtime_lora) == ("/", spec["model_name"], None)


def test_user_envs_and_args(tmp_path: Path) -> None:
    spec = {"engine": "OLlama", "url": "ollama://m", "model_name": "m", "envs": {"OLLAMA_NUM_PARALLEL": "4"},
            "args": ["--verbose"]}
    lp = launch("ollama", plan_for("kubeai-text", spec), NO_PATH, tmp_path)
    assert lp.argv == ("/usr/local/bin/ollama", "serve", "--verbose")
    assert lp.env["OLLAMA_NUM_PARALLEL"] == "4"
    assert [c.path for c in lp.post_start] == ["/api/pull", "/api/generate"]  # tag == served name: no copy


@pytest.mark.parametrize("url", ["s3://bucket/m.gguf", "/models/m.gguf", "ollama://"], ids=["s3", "path", "empty"])
def test_urls_ollama_cannot_pull_are_refused(tmp_path: Path, url: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        launch("ollama", plan_for("kubeai-text", {"engine": "OLlama", "url": url}), NO_PATH, tmp_path)
    assert err.value.param == "url"


def test_ollama_fetches_its_own_model() -> None:
    from modelserve.engines import ENGINES

    assert ENGINES["ollama"].fetches_model is False
    assert all(e.fetches_model for n, e in ENGINES.items() if n != "ollama")
