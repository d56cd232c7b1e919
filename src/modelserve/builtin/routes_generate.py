"""`/v1/chat/completions` and `/v1/completions`, streaming (SSE in OpenAI's exact chunk shape) and not.

Handlers parse and validate, tokenize on a worker thread, submit to the scheduler and relay its
outputs. A client that disconnects from a stream cancels its sequences (the generator's `finally`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from modelserve.builtin.handles import RequestHandle
from modelserve.builtin.pooling import require_task
from modelserve.builtin.openai_format import Collected, chat_logprobs, collect, completion_logprobs
from modelserve.builtin.prompts import (
    chat_prompt_ids,
    completion_prompt_ids,
    sampling_params,
    token_budget,
)
from modelserve.builtin.state import EngineState
from modelserve.errors import InvalidRequest, ModelServeError
from modelserve.protocol import (
    SSE_DONE,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatDelta,
    ChatResponseMessage,
    CompletionChoice,
    CompletionRequest,
    CompletionResponse,
    Usage,
    parse_body,
    sse_error,
    sse_event,
)

router = APIRouter()
DISCONNECT_POLL_S = 0.1
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _generator_state(request: Request) -> EngineState:
    state: EngineState = request.app.state.engine
    state.require_ready()
    if state.generator is None:
        require_task(state.task, ("generate",), request.url.path)
    return state


def _include_usage(req: ChatCompletionRequest | CompletionRequest) -> bool:
    return bool(req.stream_options and req.stream_options.include_usage)


async def _watch_disconnect(request: Request, handle: RequestHandle) -> None:
    """Cancel `handle` when the client of a non-streaming request goes away (polled: no body is sent)."""
    while not await request.is_disconnected():
        await asyncio.sleep(DISCONNECT_POLL_S)
    handle.cancel()


async def _collect_all(request: Request, handle: RequestHandle) -> dict[int, Collected]:
    choices: dict[int, Collected] = {}
    watcher = asyncio.create_task(_watch_disconnect(request, handle))
    try:
        async for out in handle.outputs():
            collect(out, choices)
    finally:
        watcher.cancel()
        handle.cancel()
    errors = [c.error for c in choices.values() if c.error]
    if errors:
        raise ModelServeError(errors[0])
    return choices


# ---------------------------------------------------------------------------- chat
@router.post("/v1/chat/completions")
async def chat_completions(request: Request) -> Any:
    state = _generator_state(request)
    req = parse_body(ChatCompletionRequest, await request.body())
    adapter = state.resolve_model(req.model)
    ids = await asyncio.to_thread(chat_prompt_ids, state.tokenizer, req)
    assert state.max_model_len is not None
    budget = token_budget(len(ids), req.token_limit(), state.max_model_len, "messages")
    params = sampling_params(req, budget, state.cfg.generation_defaults)
    handle = state.generator.submit([(ids, params)] * req.n, adapter)
    rid, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if req.stream:
        body = _chat_stream(handle, req, rid, created, len(ids))
        return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)
    choices = await _collect_all(request, handle)
    resp = ChatCompletionResponse(
        id=rid,
        created=created,
        model=req.model,
        choices=[
            ChatChoice(
                index=i,
                message=ChatResponseMessage(content=c.text),
                logprobs=chat_logprobs(c.logprobs) if req.logprobs else None,
                finish_reason=c.finish_reason,  # type: ignore[arg-type]
            )
            for i, c in sorted(choices.items())
        ],
        usage=Usage.of(len(ids), sum(c.completion_tokens for c in choices.values())),
    )
    return JSONResponse(resp.model_dump(mode="json"))


async def _chat_stream(
    handle: RequestHandle, req: ChatCompletionRequest, rid: str, created: int, prompt_tokens: int
) -> AsyncIterator[bytes]:
    def chunk(index: int, delta: ChatDelta, finish: str | None = None, lp: Any = None) -> bytes:
        choice = ChatChunkChoice(index=index, delta=delta, logprobs=lp, finish_reason=finish)  # type: ignore[arg-type]
        return sse_event(ChatCompletionChunk(id=rid, created=created, model=req.model, choices=[choice]))

    completion_tokens = 0
    try:
        for i in range(req.n):
            yield chunk(i, ChatDelta(role="assistant", content=""))
        async for out in handle.outputs():
            if out.error is not None:
                yield sse_error(ModelServeError(out.error))
                break
            if out.text or out.logprobs:
                lp = chat_logprobs(out.logprobs) if out.logprobs else None
                yield chunk(out.index, ChatDelta(content=out.text), lp=lp)
            if out.finish_reason is not None:
                completion_tokens += out.completion_tokens
                yield chunk(out.index, ChatDelta(), finish=out.finish_reason)
        if _include_usage(req):
            usage = Usage.of(prompt_tokens, completion_tokens)
            yield sse_event(
                ChatCompletionChunk(id=rid, created=created, model=req.model, choices=[], usage=usage)
            )
        yield SSE_DONE
    finally:
        handle.cancel()


# ---------------------------------------------------------------------------- completions
@router.post("/v1/completions")
async def completions(request: Request) -> Any:
    state = _generator_state(request)
    req = parse_body(CompletionRequest, await request.body())
    adapter = state.resolve_model(req.model)
    vocab = len(state.tokenizer)
    prompts = [
        await asyncio.to_thread(completion_prompt_ids, state.tokenizer, p, vocab) for p in req.prompts()
    ]
    assert state.max_model_len is not None
    items = []
    for ids in prompts:
        params = sampling_params(
            req,
            token_budget(len(ids), req.token_limit(), state.max_model_len, "prompt"),
            state.cfg.generation_defaults,
        )
        items.extend([(ids, params)] * req.n)
    echoes = [state.tokenizer.decode(ids, skip_special_tokens=True) if req.echo else "" for ids in prompts]
    handle = state.generator.submit(items, adapter)
    rid, created = f"cmpl-{uuid.uuid4().hex}", int(time.time())
    prompt_tokens = sum(len(ids) for ids in prompts)
    if req.stream:
        body = _completion_stream(handle, req, rid, created, prompt_tokens, echoes)
        return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)
    choices = await _collect_all(request, handle)
    out_choices = []
    for i, c in sorted(choices.items()):
        echo = echoes[i // req.n]
        lp = completion_logprobs(c.logprobs, len(echo)) if req.logprobs is not None else None
        finish: Any = c.finish_reason
        out_choices.append(CompletionChoice(index=i, text=echo + c.text, logprobs=lp, finish_reason=finish))
    usage = Usage.of(prompt_tokens, sum(c.completion_tokens for c in choices.values()))
    resp = CompletionResponse(id=rid, created=created, model=req.model, choices=out_choices, usage=usage)
    return JSONResponse(resp.model_dump(mode="json"))


async def _completion_stream(
    handle: RequestHandle,
    req: CompletionRequest,
    rid: str,
    created: int,
    prompt_tokens: int,
    echoes: list[str],
) -> AsyncIterator[bytes]:
    def chunk(index: int, text: str, finish: str | None = None, lp: Any = None) -> bytes:
        choice = CompletionChoice(index=index, text=text, logprobs=lp, finish_reason=finish)  # type: ignore[arg-type]
        return sse_event(CompletionResponse(id=rid, created=created, model=req.model, choices=[choice]))

    completion_tokens = 0
    try:
        for i in range(len(echoes) * req.n):
            if echoes[i // req.n]:
                yield chunk(i, echoes[i // req.n])
        async for out in handle.outputs():
            if out.error is not None:
                yield sse_error(ModelServeError(out.error))
                break
            if out.finish_reason is not None:
                completion_tokens += out.completion_tokens
            if out.text or out.logprobs or out.finish_reason is not None:
                lp = completion_logprobs(out.logprobs) if out.logprobs else None
                yield chunk(out.index, out.text, out.finish_reason, lp)
        if _include_usage(req):
            usage = Usage.of(prompt_tokens, completion_tokens)
            yield sse_event(
                CompletionResponse(id=rid, created=created, model=req.model, choices=[], usage=usage)
            )
        yield SSE_DONE
    finally:
        handle.cancel()
