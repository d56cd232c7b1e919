"""The speech worker: one thread decodes each upload and transcribes it, one request at a time.

Whisper decoding already uses every core (CTranslate2's and torch's intra-op threads), so
requests wait in a bounded queue instead of running side by side; a full queue answers 429 at
once. The event loop only enqueues and awaits. A request whose client went away is dropped
before it starts.
"""

from __future__ import annotations

import asyncio
import io
import logging
import threading
from collections import deque
from dataclasses import dataclass

from modelserve.builtin.speech_audio import decode_audio
from modelserve.builtin.speech_types import SpeechOptions, Transcriber, Transcript
from modelserve.errors import ModelServeError, Overloaded

log = logging.getLogger("modelserve.builtin")


@dataclass
class _Job:
    audio: bytes  # the upload as sent (any container FFmpeg reads)
    opts: SpeechOptions
    future: asyncio.Future[Transcript]
    loop: asyncio.AbstractEventLoop


def _resolve(fut: asyncio.Future[Transcript], value: Transcript | BaseException) -> None:
    if fut.done():  # cancelled: the client went away
        return
    if isinstance(value, BaseException):
        fut.set_exception(value)
    else:
        fut.set_result(value)


class SpeechWorker:
    def __init__(self, transcriber: Transcriber, max_queue: int) -> None:
        self.transcriber = transcriber
        self.max_queue = max_queue
        self._jobs: deque[_Job] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self.running = 0
        self._thread = threading.Thread(target=self._run, name="modelserve-speech", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    @property
    def pending(self) -> int:
        return len(self._jobs)

    async def transcribe(self, audio: bytes, opts: SpeechOptions) -> Transcript:
        """Queue one upload; raises Overloaded when `max_queue` requests already wait."""
        loop = asyncio.get_running_loop()
        job = _Job(audio, opts, loop.create_future(), loop)
        with self._cond:
            if len(self._jobs) >= self.max_queue:
                raise Overloaded("the engine's request queue is full; retry later", retry_after=1)
            self._jobs.append(job)
            self._cond.notify()
        return await job.future

    def _take(self) -> _Job | None:
        with self._cond:
            while True:
                if self._stopping:
                    return None
                while self._jobs:
                    job = self._jobs.popleft()
                    if not job.future.done():
                        return job
                self._cond.wait()

    def _run(self) -> None:
        while (job := self._take()) is not None:
            self.running = 1
            try:
                result: Transcript | BaseException = self._one(job)
            finally:
                self.running = 0
            job.loop.call_soon_threadsafe(_resolve, job.future, result)

    def _one(self, job: _Job) -> Transcript | BaseException:
        try:
            audio = decode_audio(io.BytesIO(job.audio))
            return self.transcriber.transcribe(audio, job.opts)
        except ModelServeError as e:  # bad input (not audio, unknown language): the client's error
            return e
        except Exception as e:  # keep serving; the request fails with the cause's type
            log.exception("transcription failed")
            return ModelServeError(f"transcription failed: {type(e).__name__}: {e}")
