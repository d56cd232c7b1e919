"""Embeddings with a sentence-transformers model, dynamically batched (see `batcher.py`).

`EmbedRunner` runs the model's own modules (pooling, normalization) on a batch of texts;
`EmbeddingBatcher` is the batcher that /v1/embeddings, /pooling, /score and /rerank use for it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelserve.builtin.batcher import Item, PoolingBatcher, Text
from modelserve.builtin.loader import LoadedEmbedder
from modelserve.errors import InvalidRequest


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: list[list[float]]
    prompt_tokens: int


class EmbedRunner:
    """A sentence-transformers model as a `PoolingRunner`: one row (the sentence embedding) per text."""

    def __init__(self, loaded: LoadedEmbedder) -> None:
        self.m = loaded
        self.tokenizer = loaded.tokenizer
        self.max_model_len = loaded.max_model_len
        self.tokenizer_lock = threading.Lock()

    def encode(self, items: Sequence[Text]) -> tuple[list[Any], list[int]]:
        if any(not isinstance(t, str) for t in items):
            raise InvalidRequest("an embedding model takes single texts, not pairs")
        # Untruncated lengths: an input longer than the model takes is refused, not cut.
        lengths = [len(ids) for ids in self.tokenizer(list(items))["input_ids"]]
        return list(items), lengths

    def forward(self, encoded: list[Any]) -> list[Any]:
        st = self.m.model
        preprocess = getattr(st, "preprocess", None) or st.tokenize  # `tokenize` before v6
        with self.tokenizer_lock:
            features = preprocess(encoded)
        features = {k: v.to(self.m.device) if hasattr(v, "to") else v for k, v in features.items()}
        emb = st.forward(features)["sentence_embedding"]
        return list(emb.float().cpu())


def _as_lists(rows: list[Any]) -> list[list[float]]:
    return [row.tolist() for row in rows]


class EmbeddingBatcher(PoolingBatcher):
    """The batcher of an embedding model, plus `embed()` for /v1/embeddings."""

    def __init__(
        self, loaded: LoadedEmbedder, max_batch: int, max_queue: int, sub_batch: int | None = None
    ) -> None:
        super().__init__(EmbedRunner(loaded), max_batch, max_queue, sub_batch)
        self.m = loaded

    async def embed(self, texts: list[str | list[int]]) -> EmbeddingResult:
        """Embed `texts` (strings or token ids), normalized as the model's modules say.

        Raises Overloaded when the queue is full, InvalidRequest for an input longer than the model takes.
        """
        items: list[Item] = list(texts)
        res = await self.submit(items, _as_lists, param="input")
        return EmbeddingResult(res.value, res.prompt_tokens)
