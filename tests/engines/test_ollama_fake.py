"""The Ollama plan against a FAKE Ollama server (tests/engines/fake_ollama.py; no real Ollama here).

Checks what the plan promises: the server comes up on the plan's port from its env, the model is
not servable until the post-start calls ran, then the served name answers through the openai client.
"""

from __future__ import annotations

import sys
from pathlib import Path

import openai
import pytest

from modelserve.engines import ENGINES, ModelArtifact
from modelserve.errors import UpstreamError
from modelserve.executors.local.process import free_port
from modelserve.settings import Settings
from tests.engines.golden import plan_for
from tests.engines.procs import exit_line, running

FAKE = Path(__file__).with_name("fake_ollama.py")


def _launch(tmp_path: Path, url: str, args: list[str] | None = None, registry: str = "llama3.2:1b"):  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, engines={"ollama": {"command": f"{sys.executable} {FAKE}"}})
    assert ENGINES["ollama"].available(settings).ok
    spec = {"engine": "OLlama", "url": url, "model_name": "llama", "args": args or [],
            "envs": {"FAKE_OLLAMA_REGISTRY": registry}}
    plan = plan_for("kubeai-text", spec)
    return ENGINES["ollama"].launch(plan, ModelArtifact(Path("")), port=free_port(), settings=settings)


def test_model_serves_under_its_name_after_post_start(tmp_path: Path) -> None:
    lp = _launch(tmp_path, "ollama://llama3.2:1b")
    with running(lp, tmp_path / "ollama.log", timeout_s=30) as eng:
        client = openai.OpenAI(base_url=f"{eng.base_url}/v1", api_key="none", max_retries=0)
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="llama", messages=[{"role": "user", "content": "hi"}])
        eng.post_start()
        reply = client.chat.completions.create(model="llama", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == "fake reply to: hi"
        assert "llama:latest" in {m.id for m in client.models.list()}


def test_pull_of_unknown_tag_fails_with_ollamas_message(tmp_path: Path) -> None:
    lp = _launch(tmp_path, "ollama://no-such-model:7b")
    with running(lp, tmp_path / "ollama.log", timeout_s=30) as eng, pytest.raises(UpstreamError) as err:
        eng.post_start()
    assert "POST /api/pull answered 500: pull model manifest: file does not exist" in err.value.message


def test_bad_args_error_line(tmp_path: Path) -> None:
    lp = _launch(tmp_path, "ollama://llama3.2:1b", args=["--bogus"])
    assert exit_line(lp, tmp_path / "ollama.log", timeout_s=30) == "Error: unknown flag: --bogus"
