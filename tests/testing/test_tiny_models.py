"""The tiny model builders: reproducible bytes, loadable by transformers / peft / sentence-transformers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modelserve.testing import (
    make_tiny_bert_embed,
    make_tiny_llama,
    make_tiny_llama_lora,
    minilm_path,
    smollm2_gguf_path,
)


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    roots = []
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(name)
        llama = make_tiny_llama(root / "tiny-llama")
        make_tiny_llama_lora(llama, root / "tiny-llama-lora")
        make_tiny_bert_embed(root / "tiny-bert-embed")
        roots.append(root)
    return roots


def test_output_is_byte_identical_run_to_run(built: list[Path]) -> None:
    a, b = (_digest(r) for r in built)
    assert a == b
    assert "tiny-llama/model.safetensors" in a and "tiny-llama-lora/adapter_model.safetensors" in a


def test_llama_chat_template_and_bos(built: list[Path]) -> None:
    import json

    from transformers import AutoTokenizer

    d = built[0] / "tiny-llama"
    assert (
        json.loads((d / "tokenizer_config.json").read_text())["tokenizer_class"] == "PreTrainedTokenizerFast"
    )
    tok = AutoTokenizer.from_pretrained(d)
    assert 600 <= len(tok) <= 1100
    assert tok.eos_token == "<|eot_id|>"
    assert tok("hi")["input_ids"][0] == tok.convert_tokens_to_ids("<|begin_of_text|>")
    assert "token_type_ids" not in tok("hi")
    text = tok.apply_chat_template(
        [{"role": "user", "content": "Say hello"}], tokenize=False, add_generation_prompt=True
    )
    assert text == (
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nSay hello<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n"
    )


def test_lora_really_changes_logits(built: list[Path]) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    d = built[0]
    tok = AutoTokenizer.from_pretrained(d / "tiny-llama")
    base = AutoModelForCausalLM.from_pretrained(d / "tiny-llama")
    x = tok("hello world", return_tensors="pt")
    with torch.no_grad():
        a = base(**x).logits
        b = PeftModel.from_pretrained(base, d / "tiny-llama-lora")(**x).logits
    assert float((a - b).abs().max()) > 0.1


def test_bert_embed_is_a_normalized_sentence_transformer(built: list[Path]) -> None:
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(built[0] / "tiny-bert-embed"), device="cpu")
    e = st.encode(["hello world", "kubernetes pod"])
    assert e.shape == (2, 64)
    assert abs(float((e[0] ** 2).sum()) - 1.0) < 1e-4


def test_packaged_model_locators_point_at_real_files() -> None:
    gguf, minilm = smollm2_gguf_path(), minilm_path()
    if gguf is not None:
        assert gguf.is_file() and gguf.suffix == ".gguf"
    if minilm is not None:
        assert (minilm / "modules.json").is_file()
