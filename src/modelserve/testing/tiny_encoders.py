"""Tiny random-weight BERT models with a transformers head, written to a folder, byte-identical from
run to run: a sentiment-style classifier (3 labels), a cross-encoder reranker (1 label), a token
classifier (NER-style labels) and a masked LM. The tokenizer is the hand-built WordPiece one.
torch/transformers are imported lazily.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelserve.testing.tokenizers_build import bert_tokenizer, save_tokenizer

SEED = 0
SENTIMENT_LABELS = ("negative", "neutral", "positive")
NER_LABELS = ("O", "B-PER", "I-PER", "B-LOC", "I-LOC")


def _write(head: str, out_dir: Path | str, labels: tuple[str, ...] = (), hidden: int = 32) -> Path:
    import torch
    import transformers

    out = Path(out_dir)
    tok = bert_tokenizer()
    extra: dict[str, Any] = {}
    if labels:
        extra = {
            "num_labels": len(labels),
            "id2label": dict(enumerate(labels)),
            "label2id": {name: i for i, name in enumerate(labels)},
        }
    cfg = transformers.BertConfig(
        vocab_size=len(tok),
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=hidden * 2,
        max_position_embeddings=512,
        pad_token_id=tok.pad_token_id,
        initializer_range=0.3,  # wider than BERT's 0.02, so random heads give distinct answers
        **extra,
    )
    torch.manual_seed(SEED)
    out.mkdir(parents=True, exist_ok=True)
    model: Any = getattr(transformers, head)(cfg)
    model.eval().save_pretrained(out)
    save_tokenizer(tok, out)
    return out


def make_tiny_bert_classifier(out_dir: Path | str) -> Path:
    """BertForSequenceClassification with labels negative/neutral/positive."""
    return _write("BertForSequenceClassification", out_dir, SENTIMENT_LABELS)


def make_tiny_bert_reranker(out_dir: Path | str) -> Path:
    """BertForSequenceClassification with one label: a cross-encoder scoring text pairs."""
    return _write("BertForSequenceClassification", out_dir, ("score",))


def make_tiny_bert_token_classifier(out_dir: Path | str) -> Path:
    """BertForTokenClassification with NER-style labels (O, B-PER, I-PER, B-LOC, I-LOC)."""
    return _write("BertForTokenClassification", out_dir, NER_LABELS)


def make_tiny_bert_masked_lm(out_dir: Path | str) -> Path:
    """BertForMaskedLM (the tokenizer's mask token is [MASK])."""
    return _write("BertForMaskedLM", out_dir)
