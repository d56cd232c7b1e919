"""Chat and text completions against a real engine process, through the official openai client."""

from __future__ import annotations

import httpx
import openai

MSGS = [{"role": "user", "content": "What is the capital of France?"}]


def test_models_lists_served_name_and_adapter(llm: openai.OpenAI) -> None:
    ids = [m.id for m in llm.models.list().data]
    assert ids == ["tiny-llama", "tiny-lora"]


def test_chat_non_stream_reports_length_and_usage(llm: openai.OpenAI) -> None:
    r = llm.chat.completions.create(
        model="tiny-llama", messages=MSGS, max_tokens=7, temperature=0, extra_body={"ignore_eos": True}
    )
    assert r.object == "chat.completion"
    assert r.choices[0].message.role == "assistant"
    assert r.choices[0].message.content
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 7
    assert r.usage.prompt_tokens > 5
    assert r.usage.total_tokens == r.usage.prompt_tokens + 7


def test_greedy_is_deterministic(llm: openai.OpenAI) -> None:
    texts = {
        llm.chat.completions.create(model="tiny-llama", messages=MSGS, max_tokens=12, temperature=0)
        .choices[0]
        .message.content
        for _ in range(2)
    }
    assert len(texts) == 1


def test_chat_stream_matches_non_stream(llm: openai.OpenAI) -> None:
    full = llm.chat.completions.create(model="tiny-llama", messages=MSGS, max_tokens=10, temperature=0)
    chunks = list(
        llm.chat.completions.create(
            model="tiny-llama", messages=MSGS, max_tokens=10, temperature=0, stream=True,
            stream_options={"include_usage": True},
        )
    )  # fmt: skip
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert "".join(content) == full.choices[0].message.content
    finals = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finals == [full.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == full.usage.completion_tokens  # type: ignore[union-attr]


def test_stream_ends_with_done_frame(llama_url: str) -> None:
    body = {"model": "tiny-llama", "messages": MSGS, "max_tokens": 3, "stream": True}
    with httpx.stream("POST", f"{llama_url}/v1/chat/completions", json=body, timeout=30) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        frames = [line for line in r.iter_lines() if line]
    assert frames[-1] == "data: [DONE]"
    assert all(f.startswith("data: ") for f in frames)


def test_stop_string_is_cut_from_output(llm: openai.OpenAI) -> None:
    base = llm.chat.completions.create(model="tiny-llama", messages=MSGS, max_tokens=12, temperature=0)
    text = base.choices[0].message.content or ""
    # a word whose first occurrence is past the start, so the kept prefix is not empty
    stops = [" " + w for w in text.split() if text.find(" " + w) > 0]
    assert stops, text
    stop = stops[0]
    cut = llm.chat.completions.create(
        model="tiny-llama", messages=MSGS, max_tokens=12, temperature=0, stop=[stop]
    )
    assert cut.choices[0].finish_reason == "stop"
    assert cut.choices[0].message.content == text[: text.index(stop)]
    streamed = llm.chat.completions.create(
        model="tiny-llama", messages=MSGS, max_tokens=12, temperature=0, stop=stop, stream=True
    )
    assert (
        "".join(c.choices[0].delta.content or "" for c in streamed if c.choices) == text[: text.index(stop)]
    )


def test_completions_stream_and_non_stream(llm: openai.OpenAI) -> None:
    r = llm.completions.create(
        model="tiny-llama", prompt="Hello world", max_tokens=6, temperature=0, extra_body={"ignore_eos": True}
    )
    assert r.object == "text_completion"
    assert r.choices[0].finish_reason == "length"
    assert r.usage is not None and r.usage.completion_tokens == 6
    chunks = list(
        llm.completions.create(
            model="tiny-llama",
            prompt="Hello world",
            max_tokens=6,
            temperature=0,
            stream=True,
            extra_body={"ignore_eos": True},
        )
    )
    assert "".join(c.choices[0].text for c in chunks) == r.choices[0].text
    assert chunks[-1].choices[0].finish_reason == "length"


def test_echo_and_logprobs(llm: openai.OpenAI) -> None:
    r = llm.completions.create(
        model="tiny-llama",
        prompt="Hello world",
        max_tokens=4,
        temperature=0,
        echo=True,
        logprobs=2,
        extra_body={"ignore_eos": True},
    )
    c = r.choices[0]
    assert c.text.startswith("Hello world")
    assert c.logprobs is not None and len(c.logprobs.tokens or []) == 4
    assert all(len(t) == 2 for t in c.logprobs.top_logprobs or [])
    assert all(lp <= 0 for lp in c.logprobs.token_logprobs or [])


def test_chat_logprobs(llm: openai.OpenAI) -> None:
    r = llm.chat.completions.create(
        model="tiny-llama",
        messages=MSGS,
        max_tokens=3,
        temperature=0,
        logprobs=True,
        top_logprobs=3,
        extra_body={"ignore_eos": True},
    )
    content = r.choices[0].logprobs.content  # type: ignore[union-attr]
    assert content is not None and len(content) == 3
    # greedy: the chosen token is the most likely one
    assert all(abs(t.logprob - t.top_logprobs[0].logprob) < 1e-4 for t in content)


def test_n_choices_and_seeded_sampling(llm: openai.OpenAI) -> None:
    kw = {
        "model": "tiny-llama",
        "messages": MSGS,
        "max_tokens": 8,
        "temperature": 1.0,
        "seed": 7,
        "n": 3,
        "extra_body": {"ignore_eos": True},
    }
    a = llm.chat.completions.create(**kw)  # type: ignore[call-overload]
    b = llm.chat.completions.create(**kw)  # type: ignore[call-overload]
    assert [c.index for c in a.choices] == [0, 1, 2]
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    assert a.usage is not None and a.usage.completion_tokens == 24


def test_lora_adapter_changes_output(llm: openai.OpenAI) -> None:
    kw = {
        "messages": MSGS,
        "max_tokens": 8,
        "temperature": 0,
        "logprobs": True,
        "extra_body": {"ignore_eos": True},
    }
    base = llm.chat.completions.create(model="tiny-llama", **kw)  # type: ignore[call-overload]
    lora = llm.chat.completions.create(model="tiny-lora", **kw)  # type: ignore[call-overload]
    assert lora.model == "tiny-lora"
    base_lp = [t.logprob for t in base.choices[0].logprobs.content]
    lora_lp = [t.logprob for t in lora.choices[0].logprobs.content]
    assert base_lp != lora_lp


def test_tokenize_detokenize_round_trip(llama_url: str) -> None:
    t = httpx.post(f"{llama_url}/tokenize", json={"prompt": "Hello world"}).json()
    assert t["count"] == len(t["tokens"]) and t["max_model_len"] == 256
    d = httpx.post(f"{llama_url}/detokenize", json={"tokens": t["tokens"]}).json()
    assert d["prompt"].endswith("Hello world")


def _distinct_ratio(text: str) -> float:
    words = text.split()
    return len(set(words)) / max(1, len(words))


def test_frequency_penalty_reduces_repetition(llm: openai.OpenAI) -> None:
    kw = {
        "model": "tiny-llama",
        "messages": MSGS,
        "max_tokens": 24,
        "temperature": 0,
        "extra_body": {"ignore_eos": True},
    }
    plain = llm.chat.completions.create(**kw).choices[0].message.content or ""  # type: ignore[call-overload]
    penalized = llm.chat.completions.create(**kw, frequency_penalty=2.0).choices[0].message.content or ""  # type: ignore[call-overload]
    assert _distinct_ratio(penalized) > _distinct_ratio(plain)


def test_top_k_one_is_greedy(llm: openai.OpenAI) -> None:
    greedy = llm.chat.completions.create(model="tiny-llama", messages=MSGS, max_tokens=10, temperature=0)  # type: ignore[arg-type]
    topk = llm.chat.completions.create(
        model="tiny-llama",
        messages=MSGS,
        max_tokens=10,
        temperature=1.5,
        extra_body={"top_k": 1},  # type: ignore[arg-type]
    )
    assert topk.choices[0].message.content == greedy.choices[0].message.content


def test_shared_system_prompt_reuses_cached_prefix(llm: openai.OpenAI, llama_url: str) -> None:
    system = {"role": "system", "content": "You are a terse assistant for Kubernetes deployments and pods."}
    before = httpx.get(f"{llama_url}/load").json()["prefix_cache_hit_tokens"]
    for question in ("Hello world!", "How are you today?"):
        msgs = [system, {"role": "user", "content": question}]
        r = llm.chat.completions.create(model="tiny-llama", messages=msgs, max_tokens=4, temperature=0)  # type: ignore[arg-type]
        assert r.choices[0].finish_reason in ("stop", "length")
    after = httpx.get(f"{llama_url}/load").json()["prefix_cache_hit_tokens"]
    assert after - before >= 10  # the second request skipped at least the system prompt's tokens
