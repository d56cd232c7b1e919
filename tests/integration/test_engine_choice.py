"""Without fallback, a run whose engine is not installed fails with an actionable message."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.harness import ServerProcess, free_port, run_processes


@pytest.mark.skipif(
    __import__("importlib.util").util.find_spec("vllm") is not None,
    reason="vLLM is installed in this interpreter, so there is nothing to fall back from",
)
def test_no_fallback_means_error_naming_the_engine(tmp_path: Path, tiny_llama: Path) -> None:
    import modelserve as ms

    srv = ServerProcess(tmp_path, free_port(), env={"MODELSERVE_ENGINE_FALLBACK": "false"}).start()
    try:
        project = ms.Client(base_url=srv.url).get_or_create_project("strict")
        fn = project.new_function("tiny", kind="vllmserve-text", url=str(tiny_llama), model_name="tiny")
        run = fn.run("serve", wait=True, timeout=60)
        assert run.status.state == "ERROR"
        assert "vLLM is not available" in run.status.message
        assert "MODELSERVE_ENGINE_FALLBACK=true" in run.status.message
        assert run_processes(run.id) == []
        # The built-in engine is always there: asking for it by backend serves.
        hf = project.new_function("hf", kind="huggingfaceserve", path=str(tiny_llama), model_name="hf")
        ok = hf.run("serve", wait=True, timeout=120, huggingface_task="text_generation", backend="huggingface")
        assert ok.status.state == "RUNNING", ok.status.message
        assert ok.status.to_dict()["engine"]["fallback"] is False
        ok.stop()
    finally:
        srv.stop()
