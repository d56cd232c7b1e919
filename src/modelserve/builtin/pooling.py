"""Pooling tasks: which batcher serves a task, and the per-request `finish` functions that turn a
request's rows into its answer on the worker thread (activations, cosine scores, label names).

Tasks: embed (sentence-transformers bi-encoder), classify (sequence classification; a one-label
head is a cross-encoder scorer), token_classification, fill_mask.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from modelserve.builtin.batcher import PoolingBatcher
from modelserve.builtin.config import EngineConfig
from modelserve.builtin.loader import ModelSource
from modelserve.errors import InvalidRequest

POOLING_TASKS = ("embed", "classify", "token_classification", "fill_mask")
CPU_SUB_BATCH = 32
GPU_SUB_BATCH = 64

DESCRIPTIONS = {
    "generate": "text generation",
    "embed": "embeddings",
    "classify": "sequence classification",
    "token_classification": "token classification",
    "fill_mask": "fill-mask",
    "transcribe": "speech recognition",
}


def start_pooler(cfg: EngineConfig, src: ModelSource, task: str) -> PoolingBatcher:
    """Load the model for a pooling `task` and start its batcher (the caller closes it)."""
    batcher: PoolingBatcher
    if task == "embed":
        from modelserve.builtin.embeddings import EmbeddingBatcher
        from modelserve.builtin.loader import load_embedder

        emb = load_embedder(cfg, src)
        batcher = EmbeddingBatcher(emb, cfg.max_embed_batch, cfg.max_queue, _sub_batch(emb.device))
    else:
        from modelserve.builtin.encoders import EncoderRunner, load_encoder

        enc = load_encoder(cfg, src, task)
        runner = EncoderRunner(enc)
        batcher = PoolingBatcher(runner, cfg.max_embed_batch, cfg.max_queue, _sub_batch(enc.device))
    batcher.start()
    return batcher


def _sub_batch(device: Any) -> int:
    """Inputs per forward pass, of similar length (sorted), out of a gathered batch: fewer on CPU
    (less padding, the same per-input speed), more on a GPU (wider is faster there).

    Gathering many (`--max-embed-batch`, 256) and running them in sorted slices is what the
    in-process ceiling does over a whole corpus: in paired runs of bench_embed.py, bigger gathering
    (128 or 256 instead of 64) gave 1.03-1.25x the embeddings/s at 4 clients x 32 inputs and
    1.0-1.1x with single-input clients.
    """
    return CPU_SUB_BATCH if getattr(device, "type", "cpu") == "cpu" else GPU_SUB_BATCH


def require_task(task: str | None, allowed: tuple[str, ...], route: str) -> None:
    """InvalidRequest naming `model` when the served model's task cannot answer `route`."""
    if task not in allowed:
        serves = DESCRIPTIONS.get(str(task), str(task))
        names = [DESCRIPTIONS[t] for t in allowed]
        wants = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"
        raise InvalidRequest(
            f"{route} needs a model for {wants}; this model serves {serves}",
            param="model",
            code="model_task_mismatch",
        )


# ---------------------------------------------------------------------- finishers (worker thread)
def activate(logits: Any, activation: str) -> Any:
    """`logits` [..., labels] after the activation: softmax over labels, sigmoid, or none."""
    if activation == "softmax":
        return logits.softmax(dim=-1)
    if activation == "sigmoid":
        return logits.sigmoid()
    return logits


def pick_activation(default: str, use_activation: bool | None) -> str:
    """vLLM's `use_activation`: unset or true applies the model's activation, false gives logits."""
    return "none" if use_activation is False else default


def activated_rows(activation: str) -> Callable[[list[Any]], list[Any]]:
    def finish(rows: list[Any]) -> list[Any]:
        return [activate(r, activation).tolist() for r in rows]

    return finish


def classifications(
    labels: list[str], activation: str
) -> Callable[[list[Any]], list[tuple[str, list[float]]]]:
    """(label of the highest logit, probabilities) per input."""

    def finish(rows: list[Any]) -> list[tuple[str, list[float]]]:
        return [(labels[int(r.argmax())], activate(r, activation).tolist()) for r in rows]

    return finish


def cross_scores(activation: str) -> Callable[[list[Any]], list[float]]:
    """The one-label head's (activated) logit per text pair."""

    def finish(rows: list[Any]) -> list[float]:
        return [float(activate(r, activation)[0]) for r in rows]

    return finish


def cosine_scores(pairs: list[tuple[int, int]]) -> Callable[[list[Any]], list[float]]:
    """Cosine similarity of the embeddings at each (i, j) of `pairs`: a bi-encoder's score."""

    def finish(rows: list[Any]) -> list[float]:
        import torch

        unit = torch.nn.functional.normalize(torch.stack(rows), dim=-1)
        return [float(unit[i] @ unit[j]) for i, j in pairs]

    return finish


def score_pairs(text_1: list[str], text_2: list[str]) -> list[tuple[str, str]]:
    """vLLM's pairing: one text_1 against every text_2, or text_1[i] with text_2[i]."""
    if len(text_1) == 1:
        return [(text_1[0], t) for t in text_2]
    if len(text_1) != len(text_2):
        raise InvalidRequest(
            f"text_1 has {len(text_1)} texts and text_2 {len(text_2)}: give one text_1, "
            "or as many as text_2",
            param="text_2",
        )
    return list(zip(text_1, text_2))
