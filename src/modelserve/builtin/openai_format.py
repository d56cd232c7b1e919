"""Turn engine outputs into OpenAI wire objects: chat/completion responses, stream chunks, logprobs.

Pure functions over `StepOutput`s; imports only `protocol` and the engine's value types.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelserve.builtin.params import StepOutput, TokenLogprob


def chat_logprobs(entries: Sequence[TokenLogprob]) -> dict[str, Any]:
    def one(token: str, lp: float) -> dict[str, Any]:
        return {"token": token, "logprob": lp, "bytes": list(token.encode("utf-8"))}

    return {
        "content": [
            {**one(e.token, e.logprob), "top_logprobs": [one(t, v) for _, t, v in e.top]} for e in entries
        ]
    }


def completion_logprobs(entries: Sequence[TokenLogprob], text_offset: int = 0) -> dict[str, Any]:
    offsets: list[int] = []
    pos = text_offset
    for e in entries:
        offsets.append(pos)
        pos += len(e.token)
    return {
        "tokens": [e.token for e in entries],
        "token_logprobs": [e.logprob for e in entries],
        "top_logprobs": [{t: v for _, t, v in e.top} for e in entries],
        "text_offset": offsets,
    }


@dataclass
class Collected:
    """One choice's whole output, gathered for a non-streaming response."""

    text: str = ""
    finish_reason: str | None = None
    completion_tokens: int = 0
    logprobs: list[TokenLogprob] = field(default_factory=list)
    error: str | None = None


def collect(out: StepOutput, choices: dict[int, Collected]) -> None:
    c = choices.setdefault(out.index, Collected())
    c.text += out.text
    if out.logprobs:
        c.logprobs.extend(out.logprobs)
    if out.finish_reason is not None:
        c.finish_reason = out.finish_reason
        c.completion_tokens = out.completion_tokens
    if out.error is not None:
        c.error = out.error
