"""One generated sequence's state and the per-step bookkeeping after sampling: stop conditions,
incremental text, logprobs and the `StepOutput` sent to the client. Scheduler thread only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch

from modelserve.builtin.detokenize import IncrementalText
from modelserve.builtin.handles import RequestHandle
from modelserve.builtin.loader import LoadedGenerator
from modelserve.builtin.params import SamplingParams, StepOutput, TokenLogprob
from modelserve.builtin.sampling import apply_penalties, row_logprobs, sample_rows


@dataclass(eq=False)
class Seq:
    handle: RequestHandle
    index: int
    prompt_ids: list[int]
    params: SamplingParams
    adapter: str | None
    detok: IncrementalText
    generator: torch.Generator | None
    stop_ids: frozenset[int]
    prompt_tensor: torch.Tensor | None = None
    output_ids: list[int] = field(default_factory=list)
    unsent: list[int] = field(default_factory=list)  # tokens not yet reported (their text was held back)
    next_token: int = 0
    position: int = 0
    finished: bool = False
    finish_reason: str | None = None
    # Monotonic times for the engine's metrics: when the request arrived, when the last token came.
    arrival: float = field(default_factory=time.monotonic)
    last_token_at: float = 0.0

    @classmethod
    def create(
        cls,
        handle: RequestHandle,
        index: int,
        prompt_ids: list[int],
        p: SamplingParams,
        adapter: str | None,
        m: LoadedGenerator,
    ) -> Seq:
        gen = None
        if p.seed is not None and not p.greedy:
            gen = torch.Generator(device=m.device)
            gen.manual_seed(p.seed + index)  # n > 1 with a seed: distinct but reproducible choices
        stop_ids = frozenset(p.stop_token_ids) | (frozenset() if p.ignore_eos else m.eos_token_ids)
        prompt_t = None
        if p.repetition_penalty != 1.0:
            prompt_t = torch.tensor(prompt_ids, dtype=torch.long, device=m.device)
        detok = IncrementalText(m.tokenizer, prompt_ids, p.stop)
        return cls(handle, index, list(prompt_ids), p, adapter, detok, gen, stop_ids, prompt_t)


def _logprob_entry(s: Seq, lp_row: torch.Tensor, token: int) -> TokenLogprob:
    k = s.params.logprobs or 0
    chosen, top = row_logprobs(lp_row, token, k)
    return TokenLogprob(
        token_id=token,
        token=s.detok.token_text(token),
        logprob=chosen,
        top=tuple((tid, s.detok.token_text(tid), v) for tid, v in top),
    )


def _finish(s: Seq, token: int, max_model_len: int) -> str | None:
    if token in s.stop_ids:  # never sampled before min_tokens: see `banned` in advance()
        return "stop"
    s.detok.add(token)
    if s.detok.stopped:
        return "stop"
    if len(s.output_ids) >= s.params.max_tokens or len(s.prompt_ids) + len(s.output_ids) >= max_model_len:
        return "length"
    return None


def advance(
    seqs: list[Seq], logits: torch.Tensor, m: LoadedGenerator, out: list[tuple[RequestHandle, StepOutput]]
) -> None:
    """Sample the next token of every row of `logits` [len(seqs), V] and record what each sequence emits."""
    logits = logits.float()
    for i, s in enumerate(seqs):
        if s.params.penalized:
            apply_penalties(logits[i], s.params, s.prompt_tensor, s.output_ids)
    want_lp = any(s.params.logprobs is not None for s in seqs)
    lps = torch.log_softmax(logits, dim=-1) if want_lp else None
    banned = [s.stop_ids if len(s.output_ids) < s.params.min_tokens else frozenset() for s in seqs]
    tokens = sample_rows(logits, [s.params for s in seqs], [s.generator for s in seqs], banned)
    for i, (s, token) in enumerate(zip(seqs, tokens)):
        s.output_ids.append(token)
        s.unsent.append(token)
        s.next_token = token
        reason = _finish(s, token, m.max_model_len)
        s.finished, s.finish_reason = reason is not None, reason
        text = s.detok.take(final=s.finished)
        lp = (
            (_logprob_entry(s, lps[i], token),) if lps is not None and s.params.logprobs is not None else None
        )
        if text or s.finished or lp:
            step = StepOutput(
                s.index, text, tuple(s.unsent), lp, reason, len(s.prompt_ids), len(s.output_ids)
            )
            s.unsent.clear()
            out.append((s.handle, step))
