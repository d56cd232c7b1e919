"""Pooling wire types in vLLM's shapes: /pooling, /classify, /score and /rerank (Jina's v1 rerank API,
compatible with Cohere's v1 and v2: `documents` may be strings or `{"text": ...}` objects).

Requests are `extra="allow"` like every OpenAI body; `model` is optional, as in vLLM. Imports only pydantic.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelserve.protocol.responses import Usage

PoolInput = str | list[str] | list[int] | list[list[int]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


def _not_empty(v: Any, name: str) -> Any:
    if isinstance(v, list) and len(v) == 0:
        raise ValueError(f"{name} must not be empty")
    return v


def _as_inputs(v: PoolInput) -> list[str | list[int]]:
    """A string, list of strings, flat token-id list (one input) or list of token-id lists."""
    if isinstance(v, str):
        return [v]
    if all(isinstance(x, int) for x in v):
        return [list(v)]  # type: ignore[arg-type]
    return list(v)  # type: ignore[arg-type]


class PoolingRequest(_Body):
    model: str | None = None
    input: PoolInput
    encoding_format: Literal["float", "base64"] = "float"
    use_activation: bool | None = None
    user: str | None = None

    @field_validator("input")
    @classmethod
    def _input_not_empty(cls, v: Any) -> Any:
        return _not_empty(v, "input")

    def inputs(self) -> list[str | list[int]]:
        return _as_inputs(self.input)


class ClassificationRequest(_Body):
    model: str | None = None
    input: PoolInput
    use_activation: bool | None = None
    user: str | None = None

    @field_validator("input")
    @classmethod
    def _input_not_empty(cls, v: Any) -> Any:
        return _not_empty(v, "input")

    def inputs(self) -> list[str | list[int]]:
        return _as_inputs(self.input)


class ScoreRequest(_Body):
    model: str | None = None
    text_1: str | list[str]
    text_2: str | list[str]
    use_activation: bool | None = None
    user: str | None = None

    @field_validator("text_1", "text_2")
    @classmethod
    def _texts_not_empty(cls, v: Any) -> Any:
        return _not_empty(v, "the list")

    def texts(self) -> tuple[list[str], list[str]]:
        def listed(v: str | list[str]) -> list[str]:
            return [v] if isinstance(v, str) else list(v)

        return listed(self.text_1), listed(self.text_2)


class RerankDocumentIn(_Body):
    text: str


class RerankRequest(_Body):
    model: str | None = None
    query: str
    documents: list[str | RerankDocumentIn] = Field(min_length=1)
    top_n: int | None = Field(default=None, ge=0)  # unset or 0: every document
    return_documents: bool = True
    use_activation: bool | None = None
    user: str | None = None

    def texts(self) -> list[str]:
        return [d if isinstance(d, str) else d.text for d in self.documents]


# ---------------------------------------------------------------------- responses
def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def _now() -> int:
    return int(time.time())


class PoolingData(BaseModel):
    index: int
    object: Literal["pooling"] = "pooling"
    data: list[list[float]] | list[float] | str


class PoolingResponse(BaseModel):
    id: str = Field(default_factory=lambda: _id("pool"))
    object: Literal["list"] = "list"
    created: int = Field(default_factory=_now)
    model: str
    data: list[PoolingData]
    usage: Usage


class ClassificationData(BaseModel):
    index: int
    label: str | None
    probs: list[float]
    num_classes: int


class ClassificationResponse(BaseModel):
    id: str = Field(default_factory=lambda: _id("classify"))
    object: Literal["list"] = "list"
    created: int = Field(default_factory=_now)
    model: str
    data: list[ClassificationData]
    usage: Usage


class ScoreData(BaseModel):
    index: int
    object: Literal["score"] = "score"
    score: float


class ScoreResponse(BaseModel):
    id: str = Field(default_factory=lambda: _id("score"))
    object: Literal["list"] = "list"
    created: int = Field(default_factory=_now)
    model: str
    data: list[ScoreData]
    usage: Usage


class RerankDocument(BaseModel):
    text: str


class RerankResult(BaseModel):
    index: int
    document: RerankDocument | None = None  # left out when return_documents is false
    relevance_score: float


class RerankUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class RerankResponse(BaseModel):
    id: str = Field(default_factory=lambda: _id("rerank"))
    model: str
    usage: RerankUsage
    results: list[RerankResult]
