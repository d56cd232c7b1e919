"""Speech task pieces without a model: response formats, audio decoding, the worker's queue,
and which folders `--task auto` serves as speech."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from modelserve.builtin.speech_format import as_srt, as_verbose_json, as_vtt, render, timestamp
from modelserve.builtin.speech_types import (
    Capabilities,
    Segment,
    SpeechOptions,
    Transcript,
    Word,
)
from modelserve.errors import InvalidRequest, ModelServeError, Overloaded
from modelserve.testing.audio import tone_wav


def _segment(i: int, start: float, end: float, text: str) -> Segment:
    return Segment(i, 0, start, end, text, [1, 2], 0.0, -0.25, 1.1, 0.01)


TRANSCRIPT = Transcript(
    text="Hello there. General Kenobi.",
    language="en",
    duration=3661.5,
    segments=[_segment(0, 0.0, 1.5, " Hello there."), _segment(1, 3600.25, 3661.5, " General Kenobi.")],
    words=[Word(" Hello", 0.0, 0.6), Word(" there.", 0.6, 1.5)],
)


def test_timestamps_in_both_subtitle_styles() -> None:
    assert timestamp(3661.5, ",") == "01:01:01,500"
    assert timestamp(0.0015, ".") == "00:00:00.002"
    assert timestamp(-1, ".") == "00:00:00.000"


def test_srt_and_vtt_cues() -> None:
    assert as_srt(TRANSCRIPT) == (
        "1\n00:00:00,000 --> 00:00:01,500\nHello there.\n\n"
        "2\n01:00:00,250 --> 01:01:01,500\nGeneral Kenobi.\n\n"
    )
    assert as_vtt(TRANSCRIPT) == (
        "WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello there.\n\n"
        "01:00:00.250 --> 01:01:01.500\nGeneral Kenobi.\n\n"
    )
    empty = Transcript("", "en", 1.0, [])
    assert as_srt(empty) == "" and as_vtt(empty) == "WEBVTT\n\n"


def test_verbose_json_follows_openai_fields_and_granularities() -> None:
    body = as_verbose_json(TRANSCRIPT, "translate")
    assert body["task"] == "translate" and body["language"] == "english" and body["duration"] == 3661.5
    assert set(body["segments"][0]) == {
        "id", "seek", "start", "end", "text", "tokens", "temperature", "avg_logprob",
        "compression_ratio", "no_speech_prob",
    }  # fmt: skip
    assert "words" not in body and body["usage"] == {"type": "duration", "seconds": 3662}
    words_only = as_verbose_json(TRANSCRIPT, "transcribe", ("word",))
    assert "segments" not in words_only
    assert words_only["words"][1] == {"word": " there.", "start": 0.6, "end": 1.5}
    both = as_verbose_json(TRANSCRIPT, "transcribe", ("segment", "word"))
    assert len(both["segments"]) == 2 and len(both["words"]) == 2


@pytest.mark.parametrize(
    ("fmt", "media"),
    [
        ("json", "application/json"),
        ("text", "text/plain"),
        ("srt", "application/x-subrip"),
        ("vtt", "text/vtt"),
    ],
)
def test_render_picks_body_and_media_type(fmt: str, media: str) -> None:
    body, media_type = render(TRANSCRIPT, fmt, "transcribe")
    assert media_type.startswith(media)
    if fmt == "json":
        assert body == {"text": TRANSCRIPT.text, "usage": {"type": "duration", "seconds": 3662}}
    elif fmt == "text":
        assert body == TRANSCRIPT.text


# ---------------------------------------------------------------------------- decoding
def test_decode_resamples_any_rate_to_16k_mono(tmp_path: Path) -> None:
    from modelserve.builtin.speech_audio import decode_audio

    audio = decode_audio(open(tone_wav(tmp_path / "t.wav", seconds=0.5, rate=8000), "rb"))
    assert audio.dtype.name == "float32" and abs(len(audio) - 8000) <= 32
    assert 0.2 < float(abs(audio).max()) < 0.3  # amplitude 8000/32768 survives resampling


@pytest.mark.parametrize(
    "payload", [b"", b"definitely not audio", json.dumps({"a": 1}).encode()], ids=["empty", "text", "json"]
)
def test_non_audio_is_an_invalid_file(payload: bytes) -> None:
    from modelserve.builtin.speech_audio import decode_audio

    with pytest.raises(InvalidRequest) as info:
        decode_audio(io.BytesIO(payload))
    assert info.value.param == "file" and info.value.code == "invalid_audio"


# ---------------------------------------------------------------------------- worker
class _GatedTranscriber:
    """Blocks in transcribe() until released, so tests control what is running and what waits."""

    capabilities = Capabilities("fake", False, ("en",), False)

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.seen: list[int] = []
        self.fail_next = False

    def transcribe(self, audio: Any, opts: SpeechOptions) -> Transcript:
        self.started.set()
        self.release.wait(10)
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("backend exploded")
        self.seen.append(len(audio))
        return Transcript("ok", "en", len(audio) / 16000, [])


async def _wait(event: threading.Event) -> None:
    await asyncio.to_thread(event.wait, 10)


async def test_full_queue_answers_429_and_the_worker_keeps_serving(tmp_path: Path) -> None:
    from modelserve.builtin.speech_worker import SpeechWorker

    wav = tone_wav(tmp_path / "t.wav", seconds=0.1).read_bytes()
    fake = _GatedTranscriber()
    worker = SpeechWorker(fake, max_queue=1)
    worker.start()
    try:
        running = asyncio.ensure_future(worker.transcribe(wav, SpeechOptions()))
        await _wait(fake.started)  # the first job left the queue and runs
        waiting = asyncio.ensure_future(worker.transcribe(wav, SpeechOptions()))
        await asyncio.sleep(0)
        assert worker.pending == 1
        with pytest.raises(Overloaded) as info:
            await worker.transcribe(wav, SpeechOptions())
        assert info.value.status == 429 and info.value.retry_after == 1
        fake.release.set()
        first, second = await asyncio.wait_for(asyncio.gather(running, waiting), 10)
        assert first.text == second.text == "ok" and fake.seen == [1600, 1600]
    finally:
        fake.release.set()
        worker.close()


async def test_backend_failure_fails_one_request_only(tmp_path: Path) -> None:
    from modelserve.builtin.speech_worker import SpeechWorker

    wav = tone_wav(tmp_path / "t.wav", seconds=0.1).read_bytes()
    fake = _GatedTranscriber()
    fake.release.set()
    fake.fail_next = True
    worker = SpeechWorker(fake, max_queue=4)
    worker.start()
    try:
        with pytest.raises(ModelServeError) as info:
            await asyncio.wait_for(worker.transcribe(wav, SpeechOptions()), 10)
        assert info.value.status == 500 and "RuntimeError: backend exploded" in info.value.message
        with pytest.raises(InvalidRequest) as bad:  # a bad upload is the client's error, not a 500
            await asyncio.wait_for(worker.transcribe(b"not audio", SpeechOptions()), 10)
        assert bad.value.param == "file"
        ok = await asyncio.wait_for(worker.transcribe(wav, SpeechOptions()), 10)
        assert ok.text == "ok"
    finally:
        worker.close()


async def test_a_cancelled_request_is_never_transcribed(tmp_path: Path) -> None:
    from modelserve.builtin.speech_worker import SpeechWorker

    short, longer = (tone_wav(tmp_path / f"{s}.wav", seconds=s).read_bytes() for s in (0.1, 0.2))
    fake = _GatedTranscriber()
    worker = SpeechWorker(fake, max_queue=4)
    worker.start()
    try:
        running = asyncio.ensure_future(worker.transcribe(short, SpeechOptions()))
        await _wait(fake.started)
        gone = asyncio.ensure_future(worker.transcribe(longer, SpeechOptions()))
        await asyncio.sleep(0)
        gone.cancel()  # the client went away while waiting
        fake.release.set()
        await asyncio.wait_for(running, 10)
        after = await asyncio.wait_for(worker.transcribe(short, SpeechOptions()), 10)
        assert after.text == "ok" and fake.seen == [1600, 1600]  # the 3200-sample upload never ran
    finally:
        fake.release.set()
        worker.close()


# ---------------------------------------------------------------------------- task detection
def test_auto_task_serves_whisper_folders_as_speech(tmp_path: Path) -> None:
    from modelserve.builtin.loader import ModelSource, detect_task

    ct2 = tmp_path / "ct2"
    ct2.mkdir()
    (ct2 / "model.bin").write_bytes(b"\0")
    (ct2 / "config.json").write_text(json.dumps({"alignment_heads": [[1, 0]], "suppress_ids": []}))
    hf = tmp_path / "hf"
    hf.mkdir()
    cfg = {"architectures": ["WhisperForConditionalGeneration"], "model_type": "whisper"}
    (hf / "config.json").write_text(json.dumps(cfg))
    llm = tmp_path / "llm"
    llm.mkdir()
    (llm / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    assert detect_task(ModelSource(ct2, None), "auto") == "transcribe"
    assert detect_task(ModelSource(hf, None), "auto") == "transcribe"
    assert detect_task(ModelSource(llm, None), "auto") == "generate"


def test_a_folder_that_is_no_whisper_fails_to_load_naming_both_layouts(tmp_path: Path) -> None:
    from modelserve.builtin.loader import LoadError
    from modelserve.builtin.speech_models import load_transcriber

    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    with pytest.raises(LoadError, match="model.bin.*WhisperForConditionalGeneration"):
        load_transcriber(tmp_path, "cpu", "auto")
