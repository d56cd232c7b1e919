"""The fused Llama-family forward: the same logits and greedy tokens as transformers' forward,
a self-check that refuses a wrong implementation, and LoRA rows sharing batches with it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import torch

from modelserve.builtin import fused_forward
from modelserve.builtin.config import parse_args
from modelserve.builtin.fused_forward import FusedForward
from modelserve.builtin.packed_linear import packing_supported


def _tiny(model_type: str, **overrides: Any) -> Any:
    from transformers import AutoConfig, AutoModelForCausalLM

    cfg = AutoConfig.for_model(
        model_type, vocab_size=300, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, **overrides,
    )  # fmt: skip
    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(cfg).to(torch.float32).eval()


@pytest.mark.parametrize("pack", [True, False], ids=["packed", "plain"])
@pytest.mark.parametrize("model_type", ["llama", "qwen2", "mistral"])
def test_logits_match_transformers_forward(model_type: str, pack: bool) -> None:
    if pack and not packing_supported("cpu", torch.float32):
        pytest.skip("this torch build has no oneDNN (mkldnn) to pack weights with")
    overrides = {"sliding_window": None} if model_type == "mistral" else {}
    model = _tiny(model_type, **overrides)
    fused = FusedForward.build(model, pack=pack)
    assert fused is not None
    assert fused.disagreement(model) < 1e-5
    if model_type == "qwen2":  # q, k and v carry biases: the fused bias is their concatenation
        assert fused.layers[0].qkv.bias is not None


def test_unpacked_fused_weights_share_the_layers_memory() -> None:
    model = _tiny("llama")
    fused = FusedForward.build(model, pack=False)
    assert fused is not None
    attn = model.model.layers[0].self_attn
    qkv = fused.layers[0].qkv.weight
    assert attn.q_proj.weight.data_ptr() == qkv.data_ptr()
    assert attn.k_proj.weight.data_ptr() == qkv[attn.q_proj.out_features :].data_ptr()


def test_a_wrong_implementation_is_caught_at_build(monkeypatch: pytest.MonkeyPatch) -> None:
    model = _tiny("llama")
    monkeypatch.setattr(fused_forward, "_rotate_half", lambda x: x)  # a broken rotary embedding
    assert FusedForward.build(model, pack=False) is None


@pytest.mark.parametrize(
    ("model_type", "overrides"),
    [("llama", {"hidden_act": "gelu"}), ("mistral", {"sliding_window": 16}), ("gpt2", {})],
    ids=["other-activation", "sliding-window", "other-architecture"],
)
def test_models_it_does_not_cover_keep_transformers_forward(model_type: str, overrides: dict[str, Any]) -> None:
    if model_type == "gpt2":
        from transformers import GPT2Config, GPT2LMHeadModel

        model = GPT2LMHeadModel(GPT2Config(vocab_size=300, n_embd=64, n_layer=2, n_head=4)).eval()
    else:
        model = _tiny(model_type, **overrides)
    assert fused_forward._supported(model) is not None
    assert FusedForward.build(model, pack=False) is None


def test_lora_and_base_rows_share_a_batch(tiny_models: dict[str, Path]) -> None:
    """Base rows decode with the fused forward until adapter rows join them; the mixed batch then runs
    transformers' forward on the cache the fused forward wrote, and the base rows go back to the fused
    forward when the adapter rows finish. Each request gets what it gets alone."""
    from modelserve.builtin.loader import load_generator, resolve_source
    from modelserve.builtin.params import SamplingParams
    from modelserve.builtin.scheduler import GenerationScheduler

    cfg = parse_args(["--model", str(tiny_models["llama"]), "--lora-modules", f"tiny-lora={tiny_models['lora']}"])
    loaded = load_generator(cfg, resolve_source(cfg))
    assert loaded.fused is not None
    tok = loaded.tokenizer
    # (prompt ids, adapter, start delay in seconds, tokens to generate)
    jobs = [
        (list(tok("Hello there")["input_ids"]), None, 0.0, 40),
        (list(tok("The capital of France is")["input_ids"]), None, 0.0, 40),
        (list(tok("Hello there")["input_ids"]), "tiny-lora", 0.05, 8),
        (list(tok("Numbers: 1 2 3")["input_ids"]), "tiny-lora", 0.05, 8),
    ]

    async def run(together: bool) -> tuple[list[list[int]], int]:
        sched = GenerationScheduler(loaded, max_num_seqs=8, max_queue=16)
        sched.start()

        async def one(ids: list[int], adapter: str | None, delay: float, n: int) -> list[int]:
            await asyncio.sleep(delay if together else 0)
            handle = sched.submit([(ids, SamplingParams(max_tokens=n, temperature=0, min_tokens=n))], adapter)
            return [t async for out in handle.outputs() for t in out.token_ids]

        try:
            if together:
                return list(await asyncio.gather(*(one(*j) for j in jobs))), sched.peak_running
            return [await one(*j) for j in jobs], sched.peak_running
        finally:
            sched.close()

    alone, _ = asyncio.run(run(together=False))
    assert alone[0][:8] != alone[2]  # the adapter changes the output
    together, peak = asyncio.run(run(together=True))
    assert peak == 4  # adapter rows joined the base rows' batch
    assert together == alone
