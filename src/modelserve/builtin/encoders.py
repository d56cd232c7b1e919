"""Encoder models with a transformers head: sequence classification (classifiers and cross-encoder
rerankers), token classification and masked-LM (fill-mask), loaded and run as a `PoolingRunner`.

Each input is tokenized once (texts or text pairs), padded together with the batch by hand, and run
through the model once; rows are the logits a task needs: [labels], [tokens, labels] or
[masks, vocabulary]. torch/transformers are imported inside the functions only.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelserve.builtin.batcher import Text
from modelserve.builtin.config import EngineConfig
from modelserve.builtin.loader import LoadError, ModelSource, _max_len, pick_device, pick_dtype

# Engine task -> the transformers auto class that loads its head.
HEADS = {
    "classify": "AutoModelForSequenceClassification",
    "token_classification": "AutoModelForTokenClassification",
    "fill_mask": "AutoModelForMaskedLM",
}


_ARCH_TASKS = (
    ("ForSequenceClassification", "classify"),
    ("ForTokenClassification", "token_classification"),
    ("ForMaskedLM", "fill_mask"),
)


def head_task(folder: Path) -> str | None:
    """The task of a transformers head named in config.json `architectures`, as KServe infers it.

    In a sentence-transformers folder (modules.json) only a sequence-classification head counts:
    that is a CrossEncoder; a bi-encoder saved from a masked-LM checkpoint still embeds.
    """
    try:
        archs = json.loads((folder / "config.json").read_text()).get("architectures") or []
    except (OSError, ValueError):
        return None
    st_folder = (folder / "modules.json").is_file()
    for suffix, task in _ARCH_TASKS:
        if any(str(a).endswith(suffix) for a in archs) and (task == "classify" or not st_folder):
            return task
    return None


def pooling_task(detected: str) -> str:
    """A pooling model's task: its classifier head's, else embeddings (as vLLM's pooling runner)."""
    return detected if detected in ("classify", "token_classification") else "embed"


@dataclass
class LoadedEncoder:
    task: str  # a key of HEADS
    model: Any
    tokenizer: Any
    device: Any
    max_model_len: int
    labels: list[str]  # id2label in index order (classify, token_classification)
    activation: str  # the classifier's default: "softmax" | "sigmoid" | "none"


def default_activation(model_cfg: Any) -> str:
    """Sigmoid for one label (cross-encoders, as sentence-transformers and vLLM do) or multi-label
    heads, softmax otherwise; a sentence-transformers CrossEncoder config may name its own."""
    st = getattr(model_cfg, "sentence_transformers", None) or {}
    named = str(st.get("activation_fn") or "") if isinstance(st, dict) else ""
    if named.endswith("Identity"):
        return "none"
    if named.endswith("Sigmoid"):
        return "sigmoid"
    if int(getattr(model_cfg, "num_labels", 2)) == 1:
        return "sigmoid"
    if getattr(model_cfg, "problem_type", None) == "multi_label_classification":
        return "sigmoid"
    return "softmax"


def load_encoder(cfg: EngineConfig, src: ModelSource, task: str) -> LoadedEncoder:
    import transformers

    if src.gguf_file:
        raise LoadError(f"the {task} task needs a transformers folder, not a GGUF file")
    device = pick_device(cfg.device)
    dtype = pick_dtype(cfg.dtype, src.folder, device, False)
    tok = transformers.AutoTokenizer.from_pretrained(src.folder)
    model = getattr(transformers, HEADS[task]).from_pretrained(src.folder, dtype=dtype).to(device).eval()
    if task == "fill_mask" and tok.mask_token_id is None:
        raise LoadError("the fill_mask task needs a tokenizer with a mask token; this one has none")
    if tok.pad_token_id is None:
        raise LoadError("the tokenizer has no padding token, so inputs cannot be batched")
    mc = model.config
    id2label = getattr(mc, "id2label", None) or {}
    labels = [str(id2label.get(i, f"LABEL_{i}")) for i in range(int(getattr(mc, "num_labels", 0) or 0))]
    return LoadedEncoder(
        task=task,
        model=model,
        tokenizer=tok,
        device=device,
        max_model_len=_max_len(cfg, mc, tok),
        labels=labels if task != "fill_mask" else [],
        activation=default_activation(mc),
    )


class EncoderRunner:
    """A `LoadedEncoder` as a `PoolingRunner`. Rows (CPU float tensors): classify -> logits [labels];
    token_classification -> logits [tokens, labels] for the input's own tokens (special tokens
    included); fill_mask -> logits [masks, vocabulary] at the input's mask tokens."""

    def __init__(self, loaded: LoadedEncoder) -> None:
        self.m = loaded
        self.tokenizer = loaded.tokenizer
        self.max_model_len = loaded.max_model_len
        self.tokenizer_lock = threading.Lock()

    def encode(self, items: Sequence[Text]) -> tuple[list[Any], list[int]]:
        tok = self.tokenizer
        out: list[Any] = [None] * len(items)
        singles = [i for i, t in enumerate(items) if isinstance(t, str)]
        pairs = [i for i, t in enumerate(items) if not isinstance(t, str)]
        for idx, args in (
            (singles, ([items[i] for i in singles],)),
            (pairs, ([items[i][0] for i in pairs], [items[i][1] for i in pairs])),
        ):
            if not idx:
                continue
            enc = tok(*args)  # untruncated: a too-long input is refused, not cut
            for k, i in enumerate(idx):
                out[i] = {key: enc[key][k] for key in enc.keys()}
        return out, [len(e["input_ids"]) for e in out]

    def _pad(self, encoded: list[dict[str, list[int]]]) -> dict[str, Any]:
        import torch

        width = max(len(e["input_ids"]) for e in encoded)
        pad_id = int(self.tokenizer.pad_token_id)
        left = getattr(self.tokenizer, "padding_side", "right") == "left"
        batch: dict[str, Any] = {}
        for key in encoded[0]:
            fill = pad_id if key == "input_ids" else 0
            rows = []
            for e in encoded:
                gap = [fill] * (width - len(e[key]))
                rows.append(gap + list(e[key]) if left else list(e[key]) + gap)
            batch[key] = torch.tensor(rows, dtype=torch.long, device=self.m.device)
        return batch

    def forward(self, encoded: list[Any]) -> list[Any]:
        batch = self._pad(encoded)
        logits = self.m.model(**batch).logits.float()
        task = self.m.task
        if task == "classify":
            return list(logits.cpu())
        mask = batch["attention_mask"].bool()
        if task == "token_classification":
            return [logits[i][mask[i]].cpu() for i in range(len(encoded))]
        is_mask = batch["input_ids"] == int(self.tokenizer.mask_token_id)
        return [logits[i][is_mask[i]].cpu() for i in range(len(encoded))]
