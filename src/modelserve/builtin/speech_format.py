"""A `Transcript` in OpenAI's response formats: json, text, verbose_json, srt and vtt.

Pure functions. `json` and `verbose_json` carry `usage` as OpenAI reports it for whisper-1
(seconds of audio, rounded up); `srt` and `vtt` are subtitle files with one cue per segment.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from modelserve.builtin.speech_languages import LANGUAGES
from modelserve.builtin.speech_types import SpeechTask, Transcript

RESPONSE_FORMATS = ("json", "text", "verbose_json", "srt", "vtt")
GRANULARITIES = ("segment", "word")
MEDIA_TYPES = {
    "json": "application/json",
    "verbose_json": "application/json",
    "text": "text/plain; charset=utf-8",
    "srt": "application/x-subrip; charset=utf-8",
    "vtt": "text/vtt; charset=utf-8",
}


def usage(t: Transcript) -> dict[str, Any]:
    return {"type": "duration", "seconds": int(math.ceil(t.duration))}


def as_json(t: Transcript) -> dict[str, Any]:
    return {"text": t.text, "usage": usage(t)}


def as_verbose_json(t: Transcript, task: SpeechTask, granularities: tuple[str, ...] = ()) -> dict[str, Any]:
    """OpenAI's verbose transcription: segments unless only word timestamps were asked for."""
    body: dict[str, Any] = {
        "task": task,
        "language": LANGUAGES.get(t.language, t.language),
        "duration": t.duration,
        "text": t.text,
    }
    if not granularities or "segment" in granularities:
        body["segments"] = [asdict(s) for s in t.segments]
    if "word" in granularities:
        body["words"] = [asdict(w) for w in t.words or ()]
    body["usage"] = usage(t)
    return body


def timestamp(seconds: float, decimal: str) -> str:
    """`HH:MM:SS,mmm` (srt, decimal ",") or `HH:MM:SS.mmm` (vtt, decimal ".")."""
    ms = max(0, int(round(seconds * 1000)))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{decimal}{ms:03d}"


def as_srt(t: Transcript) -> str:
    cues = [
        f"{i}\n{timestamp(s.start, ',')} --> {timestamp(s.end, ',')}\n{s.text.strip()}\n"
        for i, s in enumerate(t.segments, start=1)
    ]
    return "\n".join(cues) + ("\n" if cues else "")


def as_vtt(t: Transcript) -> str:
    cues = [f"{timestamp(s.start, '.')} --> {timestamp(s.end, '.')}\n{s.text.strip()}\n" for s in t.segments]
    return "WEBVTT\n\n" + "\n".join(cues) + ("\n" if cues else "")


def render(
    t: Transcript, fmt: str, task: SpeechTask, granularities: tuple[str, ...] = ()
) -> tuple[dict[str, Any] | str, str]:
    """The body (a JSON object or text) and its media type, for a validated `fmt`."""
    body: dict[str, Any] | str
    if fmt == "json":
        body = as_json(t)
    elif fmt == "verbose_json":
        body = as_verbose_json(t, task, granularities)
    elif fmt == "srt":
        body = as_srt(t)
    elif fmt == "vtt":
        body = as_vtt(t)
    else:
        body = t.text
    return body, MEDIA_TYPES[fmt]
