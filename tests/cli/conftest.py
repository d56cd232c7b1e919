"""Fixtures: the fake control-plane API (shared with tests/sdk) and a CliRunner bound to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Invoke, fake_api
from click.testing import Result
from typer.testing import CliRunner

from modelserve.cli.main import app


@pytest.fixture(scope="session")
def fake_server() -> Iterator[object]:
    server = fake_api.FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def fake(fake_server: object) -> object:
    fake_server.state.reset()  # type: ignore[attr-defined]
    return fake_server


@pytest.fixture
def cli(fake: object, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Invoke:
    """Run `modelserve --url <fake> ARGS...` in-process; wide terminal so panels do not wrap."""
    monkeypatch.setenv("COLUMNS", "240")
    monkeypatch.setenv("MODELSERVE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, ["--url", fake.url, *args])  # type: ignore[attr-defined]

    return invoke
