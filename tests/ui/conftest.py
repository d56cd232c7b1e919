"""Fixtures: one fake backend serving the console, one headless Chromium, a fresh page per test.

Browser tests need Debian's chromium at /usr/bin/chromium (Playwright's own browser downloads are
not used); without it they are skipped with that reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .fake_backend import FakeServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeServer]:
    server = FakeServer(tmp_path_factory.mktemp("console-data")).start()
    yield server
    server.stop()


@pytest.fixture
def backend(console: FakeServer) -> Any:
    console.backend.reset()
    return console.backend


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("console browser tests need Chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="console browser tests need the playwright package"
    )
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, console: FakeServer, backend: Any) -> Iterator[Any]:
    """A page in a fresh browser context (empty localStorage), failing the test on a JS error."""
    context = browser.new_context(base_url=console.url, viewport={"width": 1360, "height": 1000})
    context.set_default_timeout(8000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"
