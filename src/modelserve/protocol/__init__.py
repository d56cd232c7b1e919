"""The one copy of the OpenAI wire types (pydantic v2) and the SSE helpers.

Shared by the gateway, the built-in engine and the SDK. Imports only `modelserve.errors` and pydantic.
"""

from __future__ import annotations

from modelserve.protocol.parse import parse_body, validation_to_invalid
from modelserve.protocol.requests import (
    ChatCompletionRequest,
    ChatMessage,
    CompletionRequest,
    DetokenizeRequest,
    EmbeddingRequest,
    StreamOptions,
    TokenizeRequest,
)
from modelserve.protocol.responses import (
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionResponse,
    ChatDelta,
    ChatResponseMessage,
    CompletionChoice,
    CompletionResponse,
    EmbeddingData,
    EmbeddingResponse,
    EmbeddingUsage,
    ModelCard,
    ModelList,
    Usage,
)
from modelserve.protocol.sse import SSE_DONE, sse_error, sse_event

__all__ = [
    "SSE_DONE",
    "ChatChoice",
    "ChatChunkChoice",
    "ChatCompletionChunk",
    "ChatCompletionRequest",
    "ChatCompletionResponse",
    "ChatDelta",
    "ChatMessage",
    "ChatResponseMessage",
    "CompletionChoice",
    "CompletionRequest",
    "CompletionResponse",
    "DetokenizeRequest",
    "EmbeddingData",
    "EmbeddingRequest",
    "EmbeddingResponse",
    "EmbeddingUsage",
    "ModelCard",
    "ModelList",
    "StreamOptions",
    "TokenizeRequest",
    "Usage",
    "parse_body",
    "sse_error",
    "sse_event",
    "validation_to_invalid",
]
