"""Value types of the speech task: what a request asks for and what a backend returns.

Both backends (CTranslate2 through faster-whisper, and transformers Whisper) produce a
`Transcript`; `speech_format` turns it into OpenAI's response shapes. No heavy imports.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import numpy as np

SpeechTask = Literal["transcribe", "translate"]
SAMPLE_RATE = 16_000  # Whisper's input rate; every upload is resampled to it


@dataclass(frozen=True)
class SpeechOptions:
    task: SpeechTask = "transcribe"
    language: str | None = None  # ISO-639-1 code; None detects it (multilingual models)
    prompt: str | None = None  # text that conditions the first window (names, spelling, style)
    temperature: float | None = None  # None or 0: greedy with Whisper's temperature fallback
    word_timestamps: bool = False


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Segment:
    id: int
    seek: int  # the window's start, in 10 ms mel frames (as openai-whisper reports it)
    start: float
    end: float
    text: str
    tokens: list[int]
    temperature: float
    avg_logprob: float
    compression_ratio: float
    no_speech_prob: float


@dataclass(frozen=True)
class Transcript:
    text: str
    language: str  # ISO-639-1 code
    duration: float  # seconds of audio
    segments: list[Segment]
    words: list[Word] | None = None  # only when word timestamps were asked for


@dataclass(frozen=True)
class Capabilities:
    """What a loaded model can do, checked before a request is queued."""

    backend: str  # "ctranslate2" | "transformers"
    multilingual: bool
    languages: tuple[str, ...]
    word_timestamps: bool


class Transcriber(Protocol):
    capabilities: Capabilities

    def transcribe(self, audio: np.ndarray[Any, Any], opts: SpeechOptions) -> Transcript:
        """Transcribe (or translate to English) 16 kHz mono float32 samples. Runs on a worker thread."""
        ...


def compression_ratio(text: str) -> float:
    """Whisper's repetition measure: UTF-8 length over zlib-compressed length."""
    raw = text.encode("utf-8")
    return len(raw) / len(zlib.compress(raw)) if raw else 0.0
