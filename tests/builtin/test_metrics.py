"""The engine's Prometheus `/metrics` (vLLM's `vllm:*` families) and the recorder behind them."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from modelserve.builtin.metrics import GenerationStats, Histogram, token_buckets

MSGS = [{"role": "user", "content": "Count to ten."}]


def _scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = httpx.get(f"{url}/metrics", timeout=10)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _get(m: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return m[(name, tuple(sorted({"model_name": "tiny-llama", **labels}.items())))]


def test_one_request_moves_every_family_by_its_own_amount(llama_url: str, llm: openai.OpenAI) -> None:
    before = _scrape(llama_url)
    r = llm.chat.completions.create(
        model="tiny-llama", messages=MSGS, max_tokens=6, temperature=0, extra_body={"ignore_eos": True}
    )
    assert r.usage is not None
    after = _scrape(llama_url)

    def delta(name: str, **labels: str) -> float:
        return _get(after, name, **labels) - _get(before, name, **labels)

    assert delta("vllm:prompt_tokens_total") == r.usage.prompt_tokens
    assert delta("vllm:generation_tokens_total") == 6
    assert delta("vllm:request_success_total", finished_reason="length") == 1
    assert delta("vllm:request_success_total", finished_reason="stop") == 0
    assert delta("vllm:time_to_first_token_seconds_count") == 1
    assert delta("vllm:inter_token_latency_seconds_count") == 5  # 6 tokens, 5 gaps
    assert delta("vllm:e2e_request_latency_seconds_count") == 1
    assert delta("vllm:request_generation_tokens_sum") == 6
    assert delta("vllm:e2e_request_latency_seconds_sum") >= delta("vllm:time_to_first_token_seconds_sum") > 0
    assert _get(after, "vllm:num_requests_running") == 0
    assert _get(after, "vllm:num_requests_waiting") == 0


def test_an_embedding_engine_reports_its_queue(bert_url: str) -> None:
    text = httpx.get(f"{bert_url}/metrics", timeout=10).text
    assert 'vllm:num_requests_waiting{model_name="tiny-bert"} 0.0' in text
    assert "vllm:generation_tokens_total" not in text


def test_histogram_buckets_are_cumulative_with_an_inf_slot() -> None:
    h = Histogram((0.1, 1.0))
    h.observe(0.05)
    h.observe(0.1)  # a bound is inclusive (Prometheus `le`)
    h.observe(0.5, 3)
    h.observe(7.0)
    buckets, count, total = h.cumulative()
    assert buckets == [(0.1, 2), (1.0, 5)]
    assert count == 6
    assert total == pytest.approx(0.05 + 0.1 + 1.5 + 7.0)


def test_inter_token_latency_groups_rows_by_their_previous_token_time() -> None:
    stats = GenerationStats(max_model_len=64)
    rows = [SimpleNamespace(last_token_at=t) for t in (1.0, 1.0, 1.0, 1.4)]
    stats.next_tokens(rows, now=1.5)
    buckets, count, total = stats.itl.cumulative()
    assert count == 4 and stats.generation_tokens == 4
    assert total == pytest.approx(3 * 0.5 + 0.1)
    assert all(r.last_token_at == 1.5 for r in rows)


def test_token_buckets_follow_1_2_5_up_to_the_context() -> None:
    assert token_buckets(256) == (1, 2, 5, 10, 20, 50, 100, 200)
