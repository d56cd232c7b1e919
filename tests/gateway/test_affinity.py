"""Through a real gateway: which replica answers, per balancing strategy and adapter."""

from __future__ import annotations

import collections

import openai

from modelserve.gateway import Endpoint

from .conftest import client, endpoint, served
from .harness import GatewayServer, Upstream

SYSTEM = "You answer questions about the ACME catalogue. " * 12


def _replica(c: openai.OpenAI, messages: list[dict[str, str]], model: str = "qwen-runa") -> str:
    raw = c.chat.completions.with_raw_response.create(model=model, messages=messages)  # type: ignore[arg-type]
    return raw.headers["x-modelserve-replica"]


def _two(ups: dict[str, Upstream]) -> list[Endpoint]:
    return [endpoint(ups["runa-0"]), endpoint(ups["runa-1"])]


def test_prefix_hash_sends_the_same_first_message_to_the_same_replica(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", _two(ups), strategy="PrefixHash")])
    c = client(f"{gw.url}/openai/v1")
    for question in ("What does the X100 cost?", "Is the Y2 in stock?", "Ship to Lyon?"):
        first = {"role": "user", "content": question}
        seen = {
            _replica(c, [{"role": "system", "content": f"variant {k}"}, first, *[first] * k])
            for k in range(4)
        }
        assert len(seen) == 1
    spread = {_replica(c, [{"role": "user", "content": f"question number {i}"}]) for i in range(12)}
    assert spread == {"runa-0", "runa-1"}


def test_prefix_cache_keeps_a_conversation_on_its_replica(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", _two(ups), strategy="PrefixCache", balancing={"block_chars": 64})])
    c = client(f"{gw.url}/openai/v1")
    for tenant in range(4):
        messages = [{"role": "system", "content": f"tenant {tenant}. {SYSTEM}"}]
        replicas = []
        for turn in range(4):
            messages.append({"role": "user", "content": f"question {turn} of tenant {tenant}"})
            replicas.append(_replica(c, messages))
            messages.append({"role": "assistant", "content": f"answer {turn}"})
        assert len(set(replicas)) == 1, replicas


def test_adapter_requests_go_only_to_replicas_that_have_it(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    with_sql = Endpoint("runa-1", ups["runa-1"].url, adapters=frozenset({"sql"}))
    without = Endpoint("runa-0", ups["runa-0"].url, adapters=frozenset())
    for strategy in ("LeastLoad", "PrefixHash", "PrefixCache"):
        gw.set_models([served("runa", [without, with_sql], adapters=("sql",), strategy=strategy)])
        c = client(f"{gw.url}/openai/v1")
        adapter = collections.Counter(
            _replica(c, [{"role": "user", "content": f"q{i}"}], "qwen-runa_sql") for i in range(6)
        )
        assert adapter == {"runa-1": 6}, strategy
    base = {_replica(c, [{"role": "user", "content": f"q{i}"}]) for i in range(6)}
    assert base == {"runa-0", "runa-1"}
