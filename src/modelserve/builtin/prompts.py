"""From OpenAI requests to token ids and `SamplingParams`: chat template, prompt encoding, and the
limits (context length, max_tokens) checked before anything is queued. Raises InvalidRequest with `param`.

Runs on a worker thread via `asyncio.to_thread` (tokenizing long prompts must not block the loop).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from modelserve.builtin.params import SamplingParams
from modelserve.errors import InvalidRequest
from modelserve.protocol import ChatCompletionRequest, CompletionRequest


def chat_prompt_ids(tok: Any, req: ChatCompletionRequest) -> list[int]:
    if not getattr(tok, "chat_template", None):
        raise InvalidRequest("this model has no chat template; use /v1/completions", param="messages")
    messages: list[dict[str, Any]] = []
    for m in req.messages:
        d = m.model_dump(exclude_none=True)
        d["content"] = m.text()
        messages.append(d)
    kwargs = dict(req.chat_template_kwargs or {})
    try:
        text = tok.apply_chat_template(
            messages,
            tokenize=False,
            add_generation_prompt=req.add_generation_prompt and not req.continue_final_message,
            continue_final_message=req.continue_final_message,
            **kwargs,
        )
    except Exception as e:  # noqa: BLE001 - jinja raises for conversations the template rejects
        raise InvalidRequest(f"the chat template rejected the messages: {e}", param="messages") from None
    return list(tok(text, add_special_tokens=False)["input_ids"])


def completion_prompt_ids(tok: Any, prompt: str | list[int], vocab_size: int) -> list[int]:
    if isinstance(prompt, str):
        ids = list(tok(prompt, add_special_tokens=True)["input_ids"])
        if not ids:
            raise InvalidRequest("prompt is empty", param="prompt")
        return ids
    if any(t < 0 or t >= vocab_size for t in prompt):
        raise InvalidRequest("prompt contains token ids outside the vocabulary", param="prompt")
    return list(prompt)


def token_budget(prompt_len: int, requested: int | None, max_model_len: int, prompt_param: str) -> int:
    """max_tokens for a prompt: the requested one if it fits, else the rest of the context."""
    if prompt_len >= max_model_len:
        raise InvalidRequest(
            f"This model's maximum context length is {max_model_len} tokens; the prompt has {prompt_len}.",
            param=prompt_param,
            code="context_length_exceeded",
        )
    if requested is None:
        return max_model_len - prompt_len
    if prompt_len + requested > max_model_len:
        raise InvalidRequest(
            f"This model's maximum context length is {max_model_len} tokens. However, you requested "
            f"{prompt_len + requested} tokens ({prompt_len} in the prompt, {requested} in the completion). "
            "Please reduce the prompt or max_tokens.",
            param="max_tokens",
            code="context_length_exceeded",
        )
    return requested


def _extra_int_list(req: Any, name: str) -> tuple[int, ...]:
    v = (req.model_extra or {}).get(name)
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, int) for x in v):
        raise InvalidRequest(f"{name} must be a list of token ids", param=name)
    return tuple(v)


def sampling_params(
    req: ChatCompletionRequest | CompletionRequest,
    max_tokens: int,
    defaults: Mapping[str, Any] | None = None,
) -> SamplingParams:
    """Sampling for one request; `defaults` fill fields the request leaves unset."""
    if defaults:
        unset = {k: v for k, v in defaults.items() if getattr(req, k, None) is None}
        req = req.model_copy(update=unset) if unset else req
    if isinstance(req, ChatCompletionRequest):
        logprobs = (req.top_logprobs or 0) if req.logprobs else None
    else:
        logprobs = req.logprobs
    temperature = 1.0 if req.temperature is None else req.temperature
    return SamplingParams(
        max_tokens=max_tokens,
        temperature=temperature,
        top_p=1.0 if req.top_p is None else req.top_p,
        top_k=max(0, req.top_k or 0),
        seed=req.seed,
        stop=tuple(req.stop_list()),
        stop_token_ids=_extra_int_list(req, "stop_token_ids"),
        presence_penalty=req.presence_penalty,
        frequency_penalty=req.frequency_penalty,
        repetition_penalty=req.repetition_penalty or 1.0,
        min_tokens=min(req.min_tokens, max_tokens),
        ignore_eos=req.ignore_eos,
        logprobs=logprobs,
    )
