"""Continuous batching gives the same greedy tokens as `model.generate` run one request at a time,
while sequences of different lengths join and leave the batch mid-flight."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from modelserve.builtin.config import parse_args


@pytest.fixture(scope="module", params=["fused-forward", "transformers-forward"])
def loaded(tiny_models: dict[str, Path], request: pytest.FixtureRequest) -> Any:
    """The tiny llama served by the fused forward, and by transformers' own (--no-fused-forward)."""
    from modelserve.builtin.loader import load_generator, resolve_source

    fused = request.param == "fused-forward"
    cfg = parse_args(["--model", str(tiny_models["llama"]), "--max-model-len", "512",
                      *([] if fused else ["--no-fused-forward"])])  # fmt: skip
    m = load_generator(cfg, resolve_source(cfg))
    assert (m.fused is not None) == fused
    return m


PROMPTS = [
    ("What is the capital of France?", 0.0, 200),  # outlives the others and its buffer's headroom
    ("Hello", 0.01, 5),
    ("Kubernetes runs containers in pods; a deployment keeps replicas running.", 0.02, 30),
    ("Numbers: 0 1 2 3", 0.05, 12),
    ("Say hello", 0.05, 1),
]


def _reference(loaded: Any, ids: list[int], n: int) -> list[int]:
    import torch

    with torch.inference_mode():
        x = torch.tensor([ids])
        out = loaded.model.generate(
            x, attention_mask=torch.ones_like(x), max_new_tokens=n, min_new_tokens=n, do_sample=False
        )
    return [int(t) for t in out[0][len(ids) :]]


def test_batched_greedy_equals_sequential_generate(loaded: Any) -> None:
    from modelserve.builtin.params import SamplingParams
    from modelserve.builtin.scheduler import GenerationScheduler

    tok = loaded.tokenizer
    prompts = [(list(tok(p)["input_ids"]), delay, n) for p, delay, n in PROMPTS]
    expected = [_reference(loaded, ids, n) for ids, _, n in prompts]

    async def run() -> list[list[int]]:
        sched = GenerationScheduler(loaded, max_num_seqs=8, max_queue=16)
        sched.start()

        async def one(ids: list[int], delay: float, n: int) -> list[int]:
            await asyncio.sleep(delay)
            handle = sched.submit([(ids, SamplingParams(max_tokens=n, temperature=0, min_tokens=n))], None)
            return [t async for out in handle.outputs() for t in out.token_ids]

        try:
            results = await asyncio.gather(*(one(*p) for p in prompts))
        finally:
            sched.close()
        assert sched.peak_running >= 3  # the sequences really shared decode steps
        return results

    got = asyncio.run(run())
    for (text, _, _), want, have in zip(PROMPTS, expected, got):
        assert have == want, text


@pytest.mark.parametrize("chunk", [8, 4096], ids=["chunked-prefill", "whole-prefill"])
def test_prompts_of_different_lengths_prefilled_together(loaded: Any, chunk: int) -> None:
    """One request with several prompts: they are left-padded into one prefill group (in chunks
    of `chunk` padded tokens, or all at once) and must still match one-at-a-time generation."""
    from modelserve.builtin.params import SamplingParams
    from modelserve.builtin.scheduler import GenerationScheduler

    tok = loaded.tokenizer
    prompts = [list(tok(p)["input_ids"]) for p, _, _ in PROMPTS]
    expected = [_reference(loaded, ids, 9) for ids in prompts]

    async def run() -> list[list[int]]:
        sched = GenerationScheduler(loaded, max_num_seqs=8, max_queue=16, prefill_chunk_tokens=chunk)
        sched.start()
        params = SamplingParams(max_tokens=9, temperature=0, min_tokens=9)
        try:
            handle = sched.submit([(ids, params) for ids in prompts], None)
            got: list[list[int]] = [[] for _ in prompts]
            async for out in handle.outputs():
                got[out.index].extend(out.token_ids)
            return got
        finally:
            sched.close()

    assert asyncio.run(run()) == expected


def test_prefix_cache_reuse_keeps_greedy_output(loaded: Any) -> None:
    """A prompt that extends a cached one (a chat turn later) starts past the shared prefix and
    still generates exactly what one-at-a-time generation gives."""
    from modelserve.builtin.params import SamplingParams
    from modelserve.builtin.scheduler import GenerationScheduler

    tok = loaded.tokenizer
    first = list(tok("Kubernetes runs containers in pods; a deployment keeps replicas running.")["input_ids"])
    longer = first + list(tok(" Hello world!", add_special_tokens=False)["input_ids"])
    params = SamplingParams(max_tokens=9, temperature=0, min_tokens=9)

    async def run() -> tuple[list[list[int]], int]:
        sched = GenerationScheduler(loaded, max_num_seqs=8, max_queue=16, prefill_chunk_tokens=8)
        assert sched.prefixes is not None
        sched.start()
        try:
            got = []
            for ids in (first, longer, first):
                handle = sched.submit([(ids, params)], None)
                got.append([t async for out in handle.outputs() for t in out.token_ids])
            return got, sched.prefixes.hit_tokens
        finally:
            sched.close()

    got, hit = asyncio.run(run())
    assert got == [_reference(loaded, ids, 9) for ids in (first, longer, first)]
    # the longer prompt reused all of `first`; the repeat reused all but its last token
    assert hit == len(first) + len(first) - 1
