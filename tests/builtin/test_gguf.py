"""Serving a .gguf file directly: same greedy text as the safetensors folder, and a dequantized copy
cached under --cache-dir that the next start loads instead of dequantizing again."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import openai
import pytest

from modelserve.testing import BuiltinEngineProcess, make_tiny_llama_gguf

MSGS = [{"role": "user", "content": "What is the capital of France?"}]


def _greedy(base_url: str, model: str) -> str:
    client = openai.OpenAI(base_url=f"{base_url}/v1", api_key="x", max_retries=0)
    r = client.chat.completions.create(model=model, messages=MSGS, max_tokens=12, temperature=0)  # type: ignore[arg-type]
    return r.choices[0].message.content or ""


def _first_health_answer(base_url: str, timeout: float = 60) -> tuple[int, dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            r = httpx.get(f"{base_url}/health", timeout=5)
            return r.status_code, r.json()
        except httpx.TransportError:
            time.sleep(0.05)
    raise AssertionError("the engine never answered /health")


def test_gguf_file_serves_like_the_folder_and_is_cached(
    tiny_models: dict[str, Path], llm: openai.OpenAI, tmp_path: Path
) -> None:
    gguf = make_tiny_llama_gguf(tmp_path / "tiny-llama.gguf", tiny_models["llama"])
    expected = llm.chat.completions.create(model="tiny-llama", messages=MSGS, max_tokens=12, temperature=0)  # type: ignore[arg-type]
    cache = tmp_path / "cache"
    args = ["--cache-dir", str(cache), "--max-model-len", "256"]
    first = BuiltinEngineProcess(gguf, "tiny-gguf", args, log_path=tmp_path / "first.log").start()
    try:
        # the server answers at once; /health says 503 (OpenAI envelope) until the model is loaded
        status, body = _first_health_answer(first.base_url)
        assert status == 503 and body["error"]["type"] == "service_unavailable"
        first.wait_ready()
        assert _greedy(first.base_url, "tiny-gguf") == expected.choices[0].message.content
    finally:
        first.stop()
    cached = [p for p in cache.iterdir() if (p / "config.json").is_file()]
    assert len(cached) == 1, list(cache.iterdir())
    with BuiltinEngineProcess(gguf, "tiny-gguf", args, log_path=tmp_path / "second.log") as second:
        assert _greedy(second.base_url, "tiny-gguf") == expected.choices[0].message.content
    assert "from cache" in (tmp_path / "second.log").read_text()
    assert "from cache" not in (tmp_path / "first.log").read_text()


@pytest.mark.parametrize("flag", [["--gguf-file", "missing.gguf"]], ids=["missing-gguf-file"])
def test_missing_gguf_file_fails_to_start(
    tiny_models: dict[str, Path], flag: list[str], tmp_path: Path
) -> None:
    import subprocess
    import sys

    argv = [sys.executable, "-m", "modelserve.builtin", "--model", str(tiny_models["llama"]),
            "--served-model-name", "x", "--port", "0", *flag]  # fmt: skip
    r = subprocess.run(argv, check=False, capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "missing.gguf" in r.stderr
