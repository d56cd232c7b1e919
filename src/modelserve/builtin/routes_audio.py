"""`/v1/audio/transcriptions` and `/v1/audio/translations` (OpenAI's multipart API).

The body is streamed through a byte cap (`--max-audio-mb`): an oversized upload is refused with
413 naming `file` without being stored, and the rest of it is read and dropped so the client
gets the answer instead of a reset connection. Every field is checked before any work; the
upload is then decoded and transcribed on the speech worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from modelserve.builtin.speech_format import GRANULARITIES, RESPONSE_FORMATS, render
from modelserve.builtin.speech_languages import language_code
from modelserve.builtin.speech_types import SpeechOptions, SpeechTask
from modelserve.builtin.state import EngineState
from modelserve.errors import InvalidRequest

router = APIRouter()
FORM_OVERHEAD = 64 * 1024  # multipart framing and text fields, on top of the audio itself
DRAIN_FACTOR = 4  # read and drop at most this many caps of an oversized body, then hang up
DISCONNECT_POLL_S = 0.1


class UploadTooLarge(InvalidRequest):
    status = 413


class _BodyCap:
    """The request body as a stream that stops (raising UploadTooLarge) past `limit` bytes."""

    def __init__(self, request: Request, limit: int) -> None:
        self._chunks = request.stream().__aiter__()
        self.limit = limit
        self.seen = 0

    async def stream(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            self.seen += len(chunk)
            if self.seen > self.limit:
                raise _too_large(self.limit - FORM_OVERHEAD)
            yield chunk

    async def drain(self) -> None:
        """Read what the client still sends (bounded), so it can read our answer."""
        with contextlib.suppress(Exception):
            async for chunk in self._chunks:
                self.seen += len(chunk)
                if self.seen > self.limit * DRAIN_FACTOR:
                    break


def _too_large(cap: int) -> UploadTooLarge:
    return UploadTooLarge(
        f"file is larger than this server accepts ({cap / 2**20:g} MB; --max-audio-mb)",
        param="file",
        code="file_too_large",
    )


async def _read_form(request: Request, cap: int) -> FormData:
    ctype = request.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/form-data"):
        raise InvalidRequest(
            "send multipart/form-data with the audio in the `file` part",
            param="file",
            code="invalid_content_type",
        )
    body = _BodyCap(request, cap + FORM_OVERHEAD)
    try:
        declared = int(request.headers.get("content-length", "0") or 0)
    except ValueError:
        declared = 0
    if declared > body.limit:
        await body.drain()
        raise _too_large(cap)
    parser = MultiPartParser(
        request.headers, body.stream(), max_files=1, max_fields=32, max_part_size=FORM_OVERHEAD
    )
    try:
        return await parser.parse()
    except UploadTooLarge:
        await body.drain()
        raise
    except MultiPartException as e:
        raise InvalidRequest(f"the multipart body cannot be read: {e.message}", param="file") from None


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None or isinstance(value, UploadFile):
        return None
    return value.strip() or None


def _options(
    form: FormData, task: SpeechTask, state: EngineState
) -> tuple[SpeechOptions, str, tuple[str, ...]]:
    """The request's options, each checked (InvalidRequest naming the field) before any work."""
    caps = state.speech.transcriber.capabilities
    fmt = _text(form, "response_format") or "json"
    if fmt not in RESPONSE_FORMATS:
        raise InvalidRequest(
            f"response_format must be one of {', '.join(RESPONSE_FORMATS)}; got {fmt!r}",
            param="response_format",
        )
    if (_text(form, "stream") or "").lower() == "true":
        raise InvalidRequest("streaming transcriptions are not supported; leave stream unset", param="stream")
    temperature: float | None = None
    if (raw := _text(form, "temperature")) is not None:
        try:
            temperature = float(raw)
        except ValueError:
            temperature = -1.0
        if not 0.0 <= temperature <= 1.0:
            raise InvalidRequest(
                f"temperature must be a number from 0 to 1; got {raw!r}", param="temperature"
            )
    language = None
    if (raw := _text(form, "language")) is not None:
        language = language_code(raw)
        if language is None:
            raise InvalidRequest(
                f"language {raw!r} is not an ISO-639-1 code Whisper knows", param="language"
            )
        if language not in caps.languages:
            which = "English only" if caps.languages == ("en",) else f"{len(caps.languages)} languages"
            raise InvalidRequest(
                f"this model transcribes {which}; language {raw!r} is not one", param="language"
            )
    keys = ("timestamp_granularities[]", "timestamp_granularities")
    grains = tuple(str(v).strip() for key in keys for v in form.getlist(key))
    for g in grains:
        if g not in GRANULARITIES:
            raise InvalidRequest(
                f"timestamp_granularities takes {' and '.join(GRANULARITIES)}; got {g!r}",
                param="timestamp_granularities",
            )
    if grains and fmt != "verbose_json":
        raise InvalidRequest(
            "timestamp_granularities needs response_format verbose_json", param="timestamp_granularities"
        )
    if "word" in grains and not caps.word_timestamps:
        raise InvalidRequest(
            f"word timestamps need a CTranslate2 (faster-whisper) model; this one is {caps.backend}",
            param="timestamp_granularities",
        )
    opts = SpeechOptions(
        task=task,
        language=language,
        prompt=_text(form, "prompt"),
        temperature=temperature,
        word_timestamps="word" in grains,
    )
    return opts, fmt, grains


async def _watch_disconnect(request: Request, fut: asyncio.Future[Any]) -> None:
    while not await request.is_disconnected():
        await asyncio.sleep(DISCONNECT_POLL_S)
    fut.cancel()


async def _serve(request: Request, task: SpeechTask) -> Response:
    state: EngineState = request.app.state.engine
    state.require_ready()
    if state.speech is None:
        raise InvalidRequest(f"this model serves {state.task}, not speech to text", param="model")
    cap = int(state.cfg.max_audio_mb * 2**20)
    form = await _read_form(request, cap)
    try:
        state.resolve_model(_text(form, "model"))
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidRequest("file is required: the audio, as a multipart file part", param="file")
        if upload.size is not None and upload.size > cap:
            raise _too_large(cap)
        opts, fmt, grains = _options(form, task, state)
        audio = await upload.read()  # at most the cap; off the loop when spooled to disk
        job = asyncio.ensure_future(state.speech.transcribe(audio, opts))
        watcher = asyncio.create_task(_watch_disconnect(request, job))
        try:
            transcript = await job
        finally:
            watcher.cancel()
    finally:
        await form.close()
    body, media_type = render(transcript, fmt, task, grains)
    if isinstance(body, dict):
        return JSONResponse(body)
    return Response(body, media_type=media_type)


@router.post("/v1/audio/transcriptions")
async def transcriptions(request: Request) -> Response:
    return await _serve(request, "transcribe")


@router.post("/v1/audio/translations")
async def translations(request: Request) -> Response:
    """Speech in any language the model knows, as English text."""
    return await _serve(request, "translate")
