"""The run page in a real browser: status, OpenAI details, snippets, events, logs, embeddings box."""

from __future__ import annotations

import pytest

from .fake_backend import CHAT_RUN, EMBED_RUN, STOPPED_RUN

expect = pytest.importorskip("playwright.sync_api", reason="console browser tests need playwright").expect


def test_run_page_shows_status_openai_details_and_snippets(page, console) -> None:
    page.goto(f"/console/runs/{CHAT_RUN}")
    expect(page.get_by_test_id("run-title")).to_contain_text("smollm")
    expect(page.get_by_test_id("run-status")).to_contain_text("serving on 1 replica")
    expect(page.get_by_test_id("openai-model")).to_have_text("smollm2-0f1e2d3c")
    expect(page.get_by_test_id("openai-base-url")).to_have_text(f"{console.url}/openai/v1")
    expect(page.get_by_test_id("openai-features")).to_contain_text("Chat Completions API")
    curl = page.get_by_test_id("snippet-curl")
    expect(curl).to_contain_text(f"curl {console.url}/openai/v1/chat/completions")
    expect(curl).to_contain_text('"model":"smollm2-0f1e2d3c"')
    expect(page.get_by_test_id("snippet-python")).to_contain_text('model="smollm2-0f1e2d3c"')


def test_run_page_shows_events_and_logs_per_replica(page, backend) -> None:
    page.goto(f"/console/runs/{CHAT_RUN}")
    events = page.get_by_test_id("event")
    expect(events).to_have_count(3)
    expect(events.nth(2)).to_contain_text("ReplicasReady")
    expect(events.nth(2).get_by_test_id("event-state")).to_have_text("RUNNING")
    expect(page.get_by_test_id("logs")).to_contain_text("replica 0 | INFO engine ready")
    backend.add_event(CHAT_RUN, "RUNNING", "LOOP", "Healthy", "all replicas answer")
    backend.runs[CHAT_RUN].replicas = (2, 2)
    expect(events).to_have_count(4, timeout=6000)
    expect(events.nth(3)).to_contain_text("all replicas answer")
    expect(page.get_by_test_id("logs-replica").locator("option")).to_have_count(2, timeout=6000)
    page.get_by_test_id("logs-replica").select_option("1")
    expect(page.get_by_test_id("logs")).to_contain_text("replica 1 | INFO")


def test_chat_is_disabled_with_a_reason_unless_the_run_is_running(page) -> None:
    page.goto(f"/console/runs/{STOPPED_RUN}")
    expect(page.get_by_test_id("chat-notice")).to_contain_text("now STOPPED")
    expect(page.get_by_test_id("chat-send")).to_be_disabled()
    expect(page.get_by_label("Message", exact=True)).to_be_disabled()


def test_an_unknown_run_says_so(page) -> None:
    page.goto("/console/runs/ffffffffffffffffffffffffffffffff")
    expect(page.get_by_test_id("run-missing")).to_contain_text("not found")


def test_embedding_run_has_a_try_it_box(page) -> None:
    page.goto(f"/console/runs/{EMBED_RUN}")
    expect(page.get_by_test_id("chat")).to_have_count(0)
    expect(page.get_by_test_id("snippet-curl")).to_contain_text("/openai/v1/embeddings")
    page.get_by_test_id("embed-input").fill("hello world")
    page.get_by_test_id("embed-send").click()
    expect(page.get_by_test_id("embed-dim")).to_have_text("384")
    expect(page.get_by_test_id("embed-result")).to_contain_text("[-0.3000, -0.2000")
