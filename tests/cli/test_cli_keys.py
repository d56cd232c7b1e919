"""`modelserve keys ...` against a real server (uvicorn on a thread, the keys API, a SQLite store)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from click.testing import Result
from fastapi import FastAPI
from typer.testing import CliRunner

from modelserve.api import install_error_handlers
from modelserve.api.keys import build_keys_router
from modelserve.cli.main import app
from modelserve.store import SqlStore

Run = Callable[..., Result]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqlStore]:
    s = SqlStore(f"sqlite:///{tmp_path / 'modelserve.db'}")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def server_url(store: SqlStore) -> Iterator[str]:
    api = FastAPI()
    install_error_handlers(api)
    api.include_router(build_keys_router(store))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(api, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(1000):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    assert server.started, "the keys API did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def run(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("COLUMNS", "200")
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--url", server_url, *args])

    return invoke


def test_create_prints_the_key_once_with_a_warning(run: Run, store: SqlStore) -> None:
    result = run("keys", "create", "ci", "--model", "qwen", "-m", "llama", "--rpm", "60", "--tpm", "5000")

    assert result.exit_code == 0, result.output
    key = next(line for line in result.stdout.splitlines() if line.startswith("msk-"))
    record = store.find_api_key(key)
    assert record is not None
    assert (record.name, record.models, record.requests_per_minute, record.tokens_per_minute) == (
        "ci",
        ("qwen", "llama"),
        60,
        5000,
    )
    assert "shown only once" in result.stderr


def test_quiet_create_prints_only_the_key(run: Run, store: SqlStore) -> None:
    result = run("keys", "create", "script", "-q")
    assert result.exit_code == 0, result.output
    assert store.find_api_key(result.stdout.strip()) is not None


def test_list_shows_keys_but_never_the_key(run: Run) -> None:
    created = run("keys", "create", "ci", "-q").stdout.strip()
    run("keys", "create", "batch", "-q", "--rpm", "10")

    table = run("keys", "list")
    as_json = run("keys", "list", "--json")

    assert table.exit_code == 0, table.output
    assert "ci" in table.stdout and "batch" in table.stdout and created[-4:] in table.stdout
    assert [k["name"] for k in json.loads(as_json.stdout)] == ["ci", "batch"]
    for output in (table.output, as_json.output):
        assert created not in output and created[4:16] not in output


def test_revoke_by_prefix(run: Run, store: SqlStore) -> None:
    key = run("keys", "create", "ci", "-q").stdout.strip()
    record = store.find_api_key(key)
    assert record is not None

    result = run("keys", "revoke", record.id[:6])

    assert result.exit_code == 0, result.output
    assert "revoked" in result.stdout and record.id in result.stdout
    revoked = store.find_api_key(key)
    assert revoked is not None and not revoked.active
    assert "revoked" in run("keys", "list").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("keys", "revoke", "abc"), "at least 4"),
        (("keys", "revoke", "ffffffff"), "no API key id starts with ffffffff"),
        (("keys", "create", "ci", "--project", "nowhere"), "project 'nowhere' not found"),
    ],
    ids=["short-prefix", "unknown-id", "unknown-project"],
)
def test_errors_are_one_line_and_exit_1(run: Run, args: tuple[str, ...], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.output


def test_usage_per_key_and_for_every_key(run: Run, store: SqlStore) -> None:
    a, _ = store.create_api_key("alpha")
    b, _ = store.create_api_key("beta")
    store.add_usage(a.id, "qwen-1234", 10, 5)
    store.add_usage(a.id, "qwen-1234", 20, 5)
    store.add_usage(b.id, "llama-9", 7, 0)

    one = run("keys", "usage", a.id)
    everyone = run("keys", "usage", "--json")
    none_yet = run("keys", "usage", a.id, "--since", "2999-01-01T00:00:00Z")

    assert one.exit_code == 0, one.output
    row = next(line for line in one.stdout.splitlines() if "qwen-1234" in line).split()
    assert row[-4:] == ["2", "30", "10", "40"]
    assert "llama-9" not in one.stdout
    assert json.loads(everyone.stdout)["total_tokens"] == 47
    assert "No usage recorded" in none_yet.stdout
