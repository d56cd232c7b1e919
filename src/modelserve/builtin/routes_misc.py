"""`/health`, `/v1/models`, `/v1/embeddings`, `/tokenize` and `/detokenize`."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import struct
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from modelserve.builtin.pooling import require_task
from modelserve.builtin.routes_lora import adapter_root
from modelserve.builtin.state import EngineState
from modelserve.errors import InvalidRequest
from modelserve.protocol import (
    DetokenizeRequest,
    EmbeddingData,
    EmbeddingRequest,
    EmbeddingResponse,
    EmbeddingUsage,
    ModelCard,
    ModelList,
    TokenizeRequest,
    parse_body,
)

router = APIRouter()
# Tasks whose model has a text tokenizer (/tokenize, /detokenize); speech models have none.
TOKENIZER_TASKS = ("generate", "embed", "classify", "token_classification", "fill_mask")


def _state(request: Request) -> EngineState:
    state: EngineState = request.app.state.engine
    return state


@router.get("/health")
async def health(request: Request) -> Any:
    _state(request).require_ready()
    return {"status": "ok"}


@router.get("/load")
async def load(request: Request) -> Any:
    """Work in the engine now: running and waiting sequences, and how many were aborted so far."""
    state = _state(request)
    state.require_ready()
    if state.speech is not None:
        return {"running": state.speech.running, "waiting": state.speech.pending, "aborted": 0}
    if state.generator is None:
        waiting = state.pooler.pending if state.pooler is not None else 0
        return {"running": 0, "waiting": waiting, "aborted": 0}  # pooling
    gen = state.generator
    running, waiting = gen.load
    prefixes = gen.prefixes
    return {
        "running": running,
        "waiting": waiting,
        "aborted": gen.aborted,
        "prefix_cache_tokens": prefixes.tokens if prefixes else 0,
        "prefix_cache_hit_tokens": prefixes.hit_tokens if prefixes else 0,
    }


@router.get("/v1/models")
async def models(request: Request) -> Any:
    state = _state(request)
    state.require_ready()
    name = state.cfg.served_model_name
    cards = [
        ModelCard(id=name, created=state.created, root=state.cfg.model, max_model_len=state.max_model_len)
    ]
    for adapter in state.adapters:
        path = adapter_root(state, adapter)
        cards.append(ModelCard(id=adapter, created=state.created, root=path, parent=name))
    return ModelList(data=cards).model_dump(mode="json")


def _fit_dimensions(vec: list[float], dims: int | None) -> list[float]:
    if dims is None or dims == len(vec):
        return vec
    cut = vec[:dims]  # Matryoshka-style truncation, renormalized
    norm = math.sqrt(sum(x * x for x in cut)) or 1.0
    return [x / norm for x in cut]


def _encode(vec: list[float], fmt: str) -> list[float] | str:
    if fmt == "base64":  # little-endian float32, as the openai client decodes it
        return base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
    return vec


@router.post("/v1/embeddings")
async def embeddings(request: Request) -> Any:
    state = _state(request)
    state.require_ready()
    req = parse_body(EmbeddingRequest, await request.body())
    state.resolve_model(req.model)
    require_task(state.task, ("embed",), "/v1/embeddings")
    dim = state.embedder.m.dimensions
    if req.dimensions is not None and req.dimensions > dim:
        raise InvalidRequest(f"dimensions must be at most {dim} for this model", param="dimensions")
    result = await state.embedder.embed(req.inputs())
    data = [
        EmbeddingData(index=i, embedding=_encode(_fit_dimensions(v, req.dimensions), req.encoding_format))
        for i, v in enumerate(result.vectors)
    ]
    usage = EmbeddingUsage(prompt_tokens=result.prompt_tokens, total_tokens=result.prompt_tokens)
    return JSONResponse(EmbeddingResponse(data=data, model=req.model, usage=usage).model_dump(mode="json"))


def _tokenizer_guard(state: EngineState) -> Any:
    """The pooling worker changes the tokenizer's truncation settings; share its lock with it."""
    return state.pooler.tokenizer_lock if state.pooler is not None else contextlib.nullcontext()


def _tokenize(state: EngineState, req: TokenizeRequest) -> list[int]:
    with _tokenizer_guard(state):
        return _tokenize_unguarded(state, req)


def _detokenize(state: EngineState, tokens: list[int]) -> str:
    with _tokenizer_guard(state):
        return str(state.tokenizer.decode(tokens))


def _tokenize_unguarded(state: EngineState, req: TokenizeRequest) -> list[int]:
    tok = state.tokenizer
    if req.messages is not None:
        from modelserve.builtin.prompts import chat_prompt_ids
        from modelserve.protocol import ChatCompletionRequest

        chat = ChatCompletionRequest(
            model=state.cfg.served_model_name,
            messages=req.messages,
            add_generation_prompt=req.add_generation_prompt,
        )
        return chat_prompt_ids(tok, chat)
    return list(tok(req.prompt or "", add_special_tokens=req.add_special_tokens)["input_ids"])


@router.post("/tokenize")
async def tokenize(request: Request) -> Any:
    state = _state(request)
    state.require_ready()
    req = parse_body(TokenizeRequest, await request.body())
    state.resolve_model(req.model)
    if state.tokenizer is None:
        require_task(state.task, TOKENIZER_TASKS, "/tokenize")
    ids = await asyncio.to_thread(_tokenize, state, req)
    return {"count": len(ids), "max_model_len": state.max_model_len, "tokens": ids}


@router.post("/detokenize")
async def detokenize(request: Request) -> Any:
    state = _state(request)
    state.require_ready()
    req = parse_body(DetokenizeRequest, await request.body())
    state.resolve_model(req.model)
    if state.tokenizer is None:
        require_task(state.task, TOKENIZER_TASKS, "/detokenize")
    if any(t < 0 or t >= len(state.tokenizer) for t in req.tokens):
        raise InvalidRequest("tokens contains ids outside the vocabulary", param="tokens")
    return {"prompt": await asyncio.to_thread(_detokenize, state, req.tokens)}
