"""oneDNN-packed linear weights: the same outputs as plain torch, under LoRA too; and the engine's
default forward (fused, packed) serves the same greedy text as plain transformers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import torch
from torch import nn

from modelserve.builtin.loader import cpu_has_native_bf16
from modelserve.builtin.packed_linear import PackedLinear, pack_linears, packing_supported
from modelserve.testing import BuiltinEngineProcess

needs_onednn = pytest.mark.skipif(
    not packing_supported("cpu", torch.float32), reason="this torch build has no oneDNN (mkldnn) to pack weights with"
)


def _pair(folder: Path) -> tuple[Any, Any]:
    """The tiny llama twice: plain, and with its linear layers packed."""
    from transformers import AutoModelForCausalLM

    plain = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    packed = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32).eval()
    linears = sum(type(m) is nn.Linear for m in packed.modules())
    assert pack_linears(packed) == linears > 0
    return plain, packed


def _logits(model: Any, ids: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits


@needs_onednn
def test_packed_model_gives_the_plain_models_logits_and_greedy_tokens(tiny_models: dict[str, Path]) -> None:
    plain, packed = _pair(tiny_models["llama"])
    assert all(isinstance(m, nn.Linear) for m in packed.modules() if isinstance(m, PackedLinear))
    for rows, length in [(1, 1), (4, 7), (3, 40)]:  # decode-like, small batch, prefill-like
        ids = torch.randint(3, plain.config.vocab_size, (rows, length), generator=torch.Generator().manual_seed(rows))
        torch.testing.assert_close(_logits(packed, ids), _logits(plain, ids), atol=1e-4, rtol=1e-4)
    ids = torch.tensor([[5, 17, 42, 9]])
    kw: dict[str, Any] = {"max_new_tokens": 12, "do_sample": False, "attention_mask": torch.ones_like(ids)}
    with torch.inference_mode():
        assert packed.generate(ids, **kw).tolist() == plain.generate(ids, **kw).tolist()


@needs_onednn
def test_lora_wraps_packed_layers_and_unload_gives_them_back(tiny_models: dict[str, Path]) -> None:
    from peft import PeftModel

    plain, packed = _pair(tiny_models["llama"])
    lora_plain = PeftModel.from_pretrained(plain, str(tiny_models["lora"]), adapter_name="a").eval()
    lora_packed = PeftModel.from_pretrained(packed, str(tiny_models["lora"]), adapter_name="a").eval()
    ids = torch.tensor([[5, 17, 42, 9, 11]])
    adapted = _logits(lora_packed, ids)
    torch.testing.assert_close(adapted, _logits(lora_plain, ids), atol=1e-4, rtol=1e-4)
    base = lora_packed.unload()
    assert not torch.allclose(_logits(base, ids), adapted, atol=1e-3)  # the adapter did change the output
    assert isinstance(base.model.layers[0].self_attn.q_proj, PackedLinear)


@needs_onednn
def test_with_gradients_on_the_layer_falls_back_to_plain_linear() -> None:
    layer = nn.Linear(8, 4)
    pack_linears(layer)
    assert isinstance(layer, PackedLinear)
    x = torch.randn(3, 8, requires_grad=True)
    layer(x).sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, layer.weight.sum(dim=0).expand(3, 8))


@needs_onednn
def test_what_can_be_packed() -> None:
    assert packing_supported("cpu", torch.float32)
    assert packing_supported("cpu", torch.bfloat16) == cpu_has_native_bf16()  # emulated bf16: left alone
    assert not packing_supported("cpu", torch.float16)
    assert not packing_supported("cuda", torch.float32)
    half = nn.Sequential(nn.Linear(8, 8).half(), nn.Linear(8, 8))
    assert pack_linears(half) == 1
    assert type(half[0]) is nn.Linear and type(half[1]) is PackedLinear


@pytest.fixture(scope="module")
def transformers_url(tiny_models: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    proc = BuiltinEngineProcess(
        tiny_models["llama"], "tiny-llama",
        ["--lora-modules", f"tiny-lora={tiny_models['lora']}", "--max-model-len", "256",
         "--no-packed-weights", "--no-fused-forward"],
        log_path=tmp_path_factory.mktemp("transformers-forward") / "engine.log",
    )  # fmt: skip
    try:
        proc.start()
        proc.wait_ready()
        yield proc.base_url
    finally:
        proc.stop()


def test_served_greedy_text_is_the_same_as_plain_transformers(llm: openai.OpenAI, transformers_url: str) -> None:
    plain = openai.OpenAI(base_url=f"{transformers_url}/v1", api_key="x", max_retries=0)
    for model in ("tiny-llama", "tiny-lora"):
        for prompt in ("Hello there", "The capital of France is", "1 2 3 4"):
            kw: dict[str, Any] = {"model": model, "prompt": prompt, "max_tokens": 16, "temperature": 0}
            want = plain.completions.create(**kw).choices[0].text
            assert want  # the tiny model does produce text
            assert llm.completions.create(**kw).choices[0].text == want
