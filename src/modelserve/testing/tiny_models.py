"""Tiny random-weight models written to a folder, byte-identical from run to run.

`make_tiny_llama` (LlamaForCausalLM + Llama-3 chat template), `make_tiny_llama_lora` (peft LoRA
on q/k/v/o), `make_tiny_bert_embed` (BertModel + sentence-transformers mean pooling + normalize).
Each takes well under a second after torch is imported. torch/transformers/peft are imported lazily.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelserve.testing.tokenizers_build import (
    LLAMA3_BOS,
    LLAMA3_EOS,
    LLAMA3_PAD,
    bert_tokenizer,
    llama3_tokenizer,
    save_tokenizer,
)

SEED = 0


def make_tiny_llama(out_dir: Path | str) -> Path:
    """Write a tiny LlamaForCausalLM (hidden 128, 2 layers, 4 heads, 2 kv heads) to `out_dir`; return it."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    out = Path(out_dir)
    torch.manual_seed(SEED)
    tok = llama3_tokenizer()
    ids = {t: tok.convert_tokens_to_ids(t) for t in (LLAMA3_BOS, LLAMA3_EOS, LLAMA3_PAD, "<|end_of_text|>")}
    cfg = LlamaConfig(
        vocab_size=len(tok),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        bos_token_id=ids[LLAMA3_BOS],
        eos_token_id=ids[LLAMA3_EOS],
        pad_token_id=ids[LLAMA3_PAD],
    )
    model: Any = LlamaForCausalLM(cfg)
    model = model.to(torch.float32).eval()
    gen_config: Any = GenerationConfig
    model.generation_config = gen_config(
        bos_token_id=ids[LLAMA3_BOS],
        eos_token_id=[ids[LLAMA3_EOS], ids["<|end_of_text|>"]],
        pad_token_id=ids[LLAMA3_PAD],
        do_sample=False,
        max_new_tokens=16,
    )
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    save_tokenizer(tok, out)
    return out


def make_tiny_llama_lora(base_dir: Path | str, out_dir: Path | str) -> Path:
    """Write a LoRA adapter (r=8 on q,k,v,o_proj, non-zero A and B) for the tiny llama; return `out_dir`."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    base, out = Path(base_dir), Path(out_dir)
    torch.manual_seed(SEED + 1)
    model = AutoModelForCausalLM.from_pretrained(base)
    cfg = LoraConfig(
        r=8,
        lora_alpha=16,
        lora_dropout=0.0,
        bias="none",
        task_type="CAUSAL_LM",
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        init_lora_weights=False,  # random A *and* B, so the adapter really changes the output
    )
    get_peft_model(model, cfg).save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # a model card naming this machine's paths
    # Reproducible bytes: peft records this machine's absolute base path and a set-ordered list.
    p = out / "adapter_config.json"
    c = json.loads(p.read_text())
    c["base_model_name_or_path"] = base.name
    if isinstance(c.get("target_modules"), list):
        c["target_modules"] = sorted(c["target_modules"])
    p.write_text(json.dumps(c, indent=2, sort_keys=True))
    return out


def _write_sentence_transformers_modules(out: Path, dim: int) -> None:
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (out / "modules.json").write_text(json.dumps(modules, indent=2))
    (out / "sentence_bert_config.json").write_text(
        json.dumps({"max_seq_length": 128, "do_lower_case": False}, indent=2)
    )
    (out / "1_Pooling").mkdir(exist_ok=True)
    pooling = {
        "word_embedding_dimension": dim,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    }
    (out / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2))
    (out / "2_Normalize").mkdir(exist_ok=True)


def make_tiny_bert_embed(out_dir: Path | str, hidden: int = 64) -> Path:
    """Write a tiny BertModel with a sentence-transformers layout (mean pooling, normalize); return it."""
    import torch
    from transformers import BertConfig, BertModel

    out = Path(out_dir)
    tok = bert_tokenizer()
    cfg = BertConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(SEED)
    out.mkdir(parents=True, exist_ok=True)
    bert: Any = BertModel(cfg)
    bert.eval().save_pretrained(out)
    save_tokenizer(tok, out)
    _write_sentence_transformers_modules(out, hidden)
    return out
