"""`modelserve runs ...` against the fake control-plane API, and the connection-refused message."""

from __future__ import annotations

import json

import pytest
from cli_support import Invoke, fake_api

import modelserve as ms


@pytest.fixture
def run_id(fake: object) -> str:
    with ms.Client(fake.url, poll_interval=0.01) as client:  # type: ignore[attr-defined]
        fn = client.get_or_create_project("demo").new_function(
            "qwen", kind="vllmserve-text", url="hf://Qwen/Qwen2.5-0.5B", model_name="qwen"
        )
        return fn.run("serve", wait=True, timeout=30).id


def test_runs_list_shows_the_run(cli: Invoke, run_id: str) -> None:
    result = cli("runs", "list")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if line.startswith(run_id[:8]))
    for cell in ("demo", "qwen", "vllmserve-text", "RUNNING", f"qwen-{run_id}"[:39], "1/1"):
        assert cell in row
    assert row.split()[0] == run_id[:8]


def test_runs_list_filters_by_project(cli: Invoke, run_id: str) -> None:
    result = cli("runs", "list", "--project", "elsewhere")
    assert result.exit_code == 0
    assert run_id[:8] not in result.stdout and "No runs" in result.stdout


def test_runs_get_by_prefix_prints_json(cli: Invoke, run_id: str) -> None:
    result = cli("runs", "get", run_id[:6])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["id"] == run_id and data["status"]["state"] == "RUNNING"


def test_runs_stop_resume_delete(cli: Invoke, fake: object, run_id: str) -> None:
    assert "stop requested" in cli("runs", "stop", run_id[:8]).stdout
    assert fake.state.runs[run_id]["desired"] == "stop"  # type: ignore[attr-defined]
    assert cli("runs", "resume", run_id).exit_code == 0
    assert fake.state.runs[run_id]["desired"] == "serve"  # type: ignore[attr-defined]
    result = cli("runs", "delete", run_id[:8])
    assert result.exit_code == 0 and "DELETING" in result.stdout


def test_short_or_unknown_prefix_fails_clearly(cli: Invoke, run_id: str) -> None:
    short = cli("runs", "get", run_id[:4])
    assert short.exit_code == 1 and "at least 6" in short.output
    unknown = cli("runs", "stop", "zzzzzzzz")
    assert unknown.exit_code == 1 and "no run id starts with zzzzzzzz" in unknown.output


def test_runs_logs_and_events(cli: Invoke, run_id: str) -> None:
    logs = cli("runs", "logs", run_id[:8], "--tail", "2")
    assert logs.exit_code == 0
    assert logs.stdout.splitlines() == ["replica 0 line 299", "replica 0 line 300"]
    events = cli("runs", "events", run_id[:8])
    assert events.exit_code == 0
    for word in ("BUILD", "SCHEDULE", "EXECUTE", "replica 0 ready"):
        assert word in events.stdout


def test_no_server_says_how_to_start_one(cli: Invoke) -> None:
    from typer.testing import CliRunner

    from modelserve.cli.main import app

    url = f"http://127.0.0.1:{fake_api.free_port()}"
    result = CliRunner().invoke(app, ["--url", url, "runs", "list"])
    assert result.exit_code == 1
    assert f"No modelserve server answers at {url}" in result.output
    assert "modelserve up" in result.output
