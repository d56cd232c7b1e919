"""The chat client in a real browser against a streaming chat/completions endpoint."""

from __future__ import annotations

import re
import time

import pytest

from .fake_backend import ANSWER, CHAT_RUN

expect = pytest.importorskip("playwright.sync_api", reason="console browser tests need playwright").expect

QUESTION = "What is the capital of France?"

# Records every text the last answer shows while it is still streaming.
WATCH_ANSWER = """() => {
  window.__partials = [];
  const log = document.querySelector('[data-testid=chat-messages]');
  new MutationObserver(() => {
    const answers = log.querySelectorAll('[data-role=assistant]');
    const last = answers[answers.length - 1];
    if (last && last.classList.contains('msg-pending')) {
      window.__partials.push(last.querySelector('[data-testid=message-content]').textContent);
    }
  }).observe(log, { subtree: true, childList: true, characterData: true, attributes: true });
}"""


def ask(page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_test_id("chat-send").click()


def answers(page):
    return page.locator("[data-testid=chat-message][data-role=assistant]")


def open_chat(page) -> None:
    page.goto(f"/console/runs/{CHAT_RUN}")
    expect(page.get_by_test_id("chat-send")).to_be_enabled()


def test_answer_streams_in_with_ttft_and_tokens_per_second(page, backend) -> None:
    open_chat(page)
    page.evaluate(WATCH_ANSWER)
    ask(page, QUESTION)
    answer = answers(page).last
    expect(answer.get_by_test_id("message-content")).to_have_text(ANSWER)
    expect(answer.get_by_test_id("stat-ttft")).to_have_text(re.compile(r"^TTFT \d+ ms$"))
    expect(answer.get_by_test_id("stat-tps")).to_contain_text("tok/s")
    partials = [p for p in page.evaluate("window.__partials") if p]
    shown = sorted(set(partials), key=len)
    # Seen mid-stream: several growing prefixes of the final answer before it was complete.
    assert len(shown) >= 3, shown
    assert all(ANSWER.startswith(p) for p in shown), shown
    assert shown[0] != ANSWER
    sent = backend.chat_requests[-1]
    assert sent["model"] == "smollm2-0f1e2d3c"
    assert sent["messages"] == [{"role": "user", "content": QUESTION}]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert sent["temperature"] == 0.7 and sent["max_tokens"] == 512
    page.screenshot(path="/tmp/console.png", full_page=True)


def test_history_survives_a_reload_follow_ups_send_it_regenerate_and_clear(page, backend) -> None:
    open_chat(page)
    ask(page, QUESTION)
    expect(answers(page).last.get_by_test_id("stat-tps")).to_be_visible()
    page.reload()
    messages = page.get_by_test_id("chat-message")
    expect(messages).to_have_count(2)
    expect(messages.nth(0)).to_contain_text(QUESTION)
    expect(messages.nth(1).get_by_test_id("message-content")).to_have_text(ANSWER)
    expect(messages.nth(1).get_by_test_id("stat-ttft")).to_be_visible()

    page.get_by_text("Parameters").click()
    page.get_by_label("System prompt").fill("Be brief.")
    page.get_by_label("Temperature").fill("0.2")
    ask(page, "And of Italy?")
    expect(answers(page)).to_have_count(2)
    expect(answers(page).last.get_by_test_id("stat-tps")).to_be_visible()
    sent = backend.chat_requests[-1]
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][0]["content"] == "Be brief." and sent["messages"][2]["content"] == ANSWER
    assert sent["temperature"] == 0.2

    page.get_by_test_id("chat-regenerate").click()
    expect(answers(page).last.get_by_test_id("stat-tps")).to_be_visible()
    expect(messages).to_have_count(4)
    assert len(backend.chat_requests) == 3
    assert backend.chat_requests[-1]["messages"] == sent["messages"]

    page.get_by_test_id("chat-clear").click()
    expect(messages).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("chat-send")).to_be_enabled()
    expect(messages).to_have_count(0)
    assert page.evaluate(f"localStorage.getItem('modelserve.chat.{CHAT_RUN}')") is None


def test_stop_aborts_a_long_answer(page, backend) -> None:
    open_chat(page)
    ask(page, "Tell me a long story")
    content = answers(page).last.get_by_test_id("message-content")
    expect(content).to_contain_text("word4")
    page.get_by_test_id("chat-stop").click()
    expect(answers(page).last.get_by_test_id("stat-stopped")).to_be_visible()
    kept = content.text_content()
    assert "word399" not in kept
    deadline = time.monotonic() + 5
    while backend.streams_cancelled == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert backend.streams_cancelled == 1, "the server never saw the stream closed"
    assert content.text_content() == kept
    expect(page.get_by_test_id("chat-send")).to_be_enabled()


def test_errors_show_inline_from_an_error_frame_or_an_http_error(page) -> None:
    open_chat(page)
    ask(page, "Please trigger an error")
    answer = answers(page).last
    expect(answer.get_by_test_id("chat-error")).to_have_text("Error: engine crashed mid-answer")
    expect(answer.get_by_test_id("message-content")).to_have_text("The capital")
    ask(page, "unknown model please")
    expect(answers(page)).to_have_count(2)
    expect(answers(page).last.get_by_test_id("chat-error")).to_have_text(
        "Error: model 'nope' is not served here"
    )
