"""The runs list in a real browser: what it shows, and the stop / delete buttons against the API."""

from __future__ import annotations

import pytest

from .fake_backend import CHAT_RUN, STOPPED_RUN, STUBBORN_RUN

expect = pytest.importorskip("playwright.sync_api", reason="console browser tests need playwright").expect


def row(page, run_id: str):
    return page.locator(f'[data-testid=run-row][data-run-id="{run_id}"]')


def test_runs_list_shows_state_model_replicas_and_engine(page, console) -> None:
    page.goto("/")
    expect(page).to_have_url(f"{console.url}/console")
    expect(page.get_by_test_id("server-url")).to_have_text(console.url)
    chat = row(page, CHAT_RUN)
    expect(chat.get_by_test_id("run-state")).to_have_text("RUNNING")
    expect(chat.get_by_test_id("run-model")).to_have_text("smollm2-0f1e2d3c")
    expect(chat.get_by_test_id("run-replicas")).to_have_text("1/1")
    expect(chat.get_by_test_id("run-engine")).to_have_text("builtin")
    expect(chat.get_by_test_id("engine-fallback")).to_be_visible()
    expect(chat).to_contain_text("vllmserve-text")
    stopped = row(page, STOPPED_RUN)
    expect(stopped.get_by_test_id("run-state")).to_have_text("STOPPED")
    expect(stopped.get_by_test_id("engine-fallback")).to_have_count(0)
    expect(stopped.get_by_test_id("run-stop")).to_be_disabled()
    expect(stopped.get_by_test_id("run-resume")).to_be_enabled()
    expect(page.get_by_test_id("run-row")).to_have_count(4)


def test_stop_calls_the_api_and_the_badge_follows_the_run(page, backend) -> None:
    page.goto("/console")
    chat = row(page, CHAT_RUN)
    expect(chat.get_by_test_id("run-state")).to_have_text("RUNNING")
    chat.get_by_test_id("run-stop").click()
    expect(chat.get_by_test_id("run-state")).to_have_text("STOPPED", timeout=6000)
    assert (CHAT_RUN, "stop") in backend.actions
    expect(chat.get_by_test_id("run-stop")).to_be_disabled()
    expect(chat.get_by_test_id("run-resume")).to_be_enabled()


def test_an_api_error_is_shown_next_to_the_run(page, backend) -> None:
    page.goto("/console")
    stubborn = row(page, STUBBORN_RUN)
    stubborn.get_by_test_id("run-stop").click()
    error = page.get_by_test_id("run-error").filter(has_text="busy")
    expect(error).to_have_text(f"Stop failed: cannot stop run {STUBBORN_RUN}: it is busy")
    assert backend.actions == [(STUBBORN_RUN, "stop")]
    expect(stubborn.get_by_test_id("run-state")).to_have_text("RUNNING")


def test_delete_asks_first_then_calls_the_api(page, backend) -> None:
    page.goto("/console")
    target = row(page, STOPPED_RUN)
    page.once("dialog", lambda dialog: dialog.dismiss())
    target.get_by_test_id("run-delete").click()
    expect(target.get_by_test_id("run-delete")).to_be_enabled()
    assert backend.actions == []
    page.once("dialog", lambda dialog: dialog.accept())
    target.get_by_test_id("run-delete").click()
    # The 202 answer already shows the run on its way out; the reconciler finishes it later.
    expect(target.get_by_test_id("run-state")).to_have_text("DELETING")
    expect(target).to_contain_text("→ delete")
    assert backend.actions == [(STOPPED_RUN, "delete")]
