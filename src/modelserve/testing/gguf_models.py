"""`make_tiny_llama_gguf`: the tiny Llama as an F32 GGUF file, written with the `gguf` package only.

Follows llama.cpp's converter for arch `llama` (tensor names, rotary Q/K permutation, GPT-2 style
BPE vocab and merges, chat template), so llama.cpp's greedy output equals transformers'.
Imports gguf/numpy/safetensors/transformers lazily.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

_GLOBAL = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
}
_PER_LAYER = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
    "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}


def make_tiny_llama_gguf(out: Path | str, hf_dir: Path | str | None = None) -> Path:
    """Write the tiny Llama (`hf_dir`, else a fresh `make_tiny_llama`) as GGUF file `out`; return it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if hf_dir is not None:
        return _write(Path(hf_dir), out)
    from modelserve.testing.tiny_models import make_tiny_llama

    with tempfile.TemporaryDirectory() as tmp:
        return _write(make_tiny_llama(Path(tmp) / "tiny-llama"), out)


def _write(hf_dir: Path, out: Path) -> Path:
    import gguf
    from transformers import AutoTokenizer

    cfg = json.loads((hf_dir / "config.json").read_text())
    tok = AutoTokenizer.from_pretrained(hf_dir)
    w = gguf.GGUFWriter(str(out), "llama")
    _write_hparams(w, cfg, hf_dir.name)
    _write_tokenizer(w, cfg, tok)
    _write_tensors(w, cfg, hf_dir)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return out


def _write_hparams(w: Any, cfg: dict[str, Any], name: str) -> None:
    import gguf

    n_head = cfg["num_attention_heads"]
    rope = cfg.get("rope_theta") or (cfg.get("rope_parameters") or {}).get("rope_theta", 10000.0)
    w.add_name(name)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_head_count(n_head)
    w.add_head_count_kv(cfg["num_key_value_heads"])
    w.add_rope_dimension_count(cfg["hidden_size"] // n_head)
    w.add_rope_freq_base(float(rope))
    w.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    w.add_vocab_size(cfg["vocab_size"])
    w.add_file_type(gguf.LlamaFileType.ALL_F32)


def _write_tokenizer(w: Any, cfg: dict[str, Any], tok: Any) -> None:
    import gguf

    inv = {i: t for t, i in tok.get_vocab().items()}
    added = {t.content for t in tok.added_tokens_decoder.values()}
    tokens = [inv.get(i, f"[PAD{i}]") for i in range(cfg["vocab_size"])]
    types = [gguf.TokenType.CONTROL if t in added else gguf.TokenType.NORMAL for t in tokens]
    merges = json.loads(tok.backend_tokenizer.to_str())["model"]["merges"]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("llama-bpe")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([m if isinstance(m, str) else " ".join(m) for m in merges])
    w.add_bos_token_id(cfg["bos_token_id"])
    w.add_add_bos_token(True)
    eos = cfg["eos_token_id"]
    w.add_eos_token_id(eos if isinstance(eos, int) else eos[0])
    if cfg.get("pad_token_id") is not None:
        w.add_pad_token_id(cfg["pad_token_id"])
    if tok.chat_template:
        w.add_chat_template(tok.chat_template)


def _permute(x: Any, n_head: int) -> Any:
    """HF → llama.cpp rotary layout (convert_hf_to_gguf's LlamaModel.permute)."""
    return x.reshape(n_head, 2, x.shape[0] // n_head // 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)


def _write_tensors(w: Any, cfg: dict[str, Any], hf_dir: Path) -> None:
    import numpy as np
    from safetensors.torch import load_file  # via torch: numpy has no bfloat16

    heads = {"self_attn.q_proj": cfg["num_attention_heads"], "self_attn.k_proj": cfg["num_key_value_heads"]}
    for key, tensor in load_file(str(hf_dir / "model.safetensors")).items():
        value = tensor.float().numpy().astype(np.float32)
        if key in _GLOBAL:
            w.add_tensor(_GLOBAL[key], value)
            continue
        _, _, layer, rest = key.split(".", 3)
        module, kind = rest.rsplit(".", 1)
        if module in heads:
            value = _permute(value, heads[module])
        w.add_tensor(f"blk.{layer}.{_PER_LAYER[module]}.{kind}", value)
