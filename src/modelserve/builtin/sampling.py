"""Next-token selection for a batch of rows: penalties, greedy/temperature/top-k/top-p, per-request
seeded generators, and logprobs. Runs on the scheduler thread; imports torch lazily via the caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from modelserve.builtin.params import SamplingParams


def apply_penalties(row: torch.Tensor, p: SamplingParams, prompt_ids: Any, output_ids: Sequence[int]) -> None:
    """In place on one row of logits [V]: OpenAI presence/frequency and HF repetition penalties."""
    vocab = row.shape[-1]
    if output_ids and (p.presence_penalty or p.frequency_penalty):
        out = torch.tensor(output_ids, device=row.device)
        counts = torch.bincount(out, minlength=vocab)[:vocab].to(row.dtype)
        row -= p.frequency_penalty * counts + p.presence_penalty * (counts > 0).to(row.dtype)
    if p.repetition_penalty != 1.0:
        seen = torch.unique(
            torch.cat([prompt_ids, torch.tensor(list(output_ids), dtype=torch.long, device=row.device)])
        )
        seen = seen[seen < vocab]
        vals = row[seen]
        row[seen] = torch.where(vals > 0, vals / p.repetition_penalty, vals * p.repetition_penalty)


def _filter_top_k_top_p(row: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    if top_k and 0 < top_k < row.shape[-1]:
        kth = torch.topk(row, top_k).values[-1]
        row = row.masked_fill(row < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(row, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        cum = torch.cumsum(probs, dim=-1)
        drop = (cum - probs) > top_p  # keep the smallest prefix whose mass reaches top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        row = torch.empty_like(row).scatter_(0, order, sorted_logits)
    return row


def sample_rows(
    logits: torch.Tensor,
    params: Sequence[SamplingParams],
    generators: Sequence[torch.Generator | None],
    banned: Sequence[frozenset[int]],
) -> list[int]:
    """Choose one token per row of `logits` [N, V] (already penalized, float32).

    `banned[i]` are ids row i must not pick (EOS before `min_tokens`).
    """
    for i, b in enumerate(banned):
        if b:
            logits[i, list(b)] = float("-inf")
    chosen = torch.argmax(logits, dim=-1).tolist()
    for i, p in enumerate(params):
        if p.greedy:
            continue
        row = logits[i] / p.temperature
        row = _filter_top_k_top_p(row, p.top_k, p.top_p)
        probs = torch.softmax(row, dim=-1)
        chosen[i] = int(torch.multinomial(probs, 1, generator=generators[i]).item())
    return chosen


def row_logprobs(logprobs: torch.Tensor, token_id: int, k: int) -> tuple[float, list[tuple[int, float]]]:
    """The chosen token's logprob and the top-k (id, logprob) pairs of one row [V]."""
    chosen = float(logprobs[token_id])
    if k <= 0:
        return chosen, []
    vals, ids = torch.topk(logprobs, k)
    return chosen, list(zip(ids.tolist(), vals.tolist()))
