"""The CTranslate2 backend: a faster-whisper model folder (`model.bin`, `config.json`,
`tokenizer.json`), run with faster-whisper's own decoding (beam 5, temperature fallback,
timestamps, optional word timestamps). No torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from modelserve.builtin.speech_types import (
    Capabilities,
    Segment,
    SpeechOptions,
    Transcript,
    Word,
)

FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # openai-whisper's, for temperature 0


def ct2_device(requested: str) -> str:
    """`cuda` when asked for (or `auto` and CTranslate2 sees a GPU), else `cpu`."""
    import ctranslate2

    from modelserve.builtin.loader import LoadError

    gpus = ctranslate2.get_cuda_device_count()
    if requested == "cuda" and gpus == 0:
        raise LoadError("--device cuda was requested but CTranslate2 sees no CUDA device")
    if requested == "auto":
        return "cuda" if gpus else "cpu"
    return requested


def ct2_compute_type(dtype: str, device: str) -> str:
    """int8 weights on CPU (CTranslate2's fast path) and float16 on GPU unless a dtype is given."""
    if dtype == "auto":
        return "float16" if device == "cuda" else "int8"
    return dtype


class CT2Transcriber:
    def __init__(self, folder: Path, device: str = "auto", dtype: str = "auto") -> None:
        from faster_whisper import WhisperModel

        dev = ct2_device(device)
        self.model = WhisperModel(
            str(folder),
            device=dev,
            compute_type=ct2_compute_type(dtype, dev),
            cpu_threads=os.cpu_count() or 0,
            local_files_only=True,
        )
        multilingual = bool(self.model.model.is_multilingual)
        languages = tuple(self.model.supported_languages) if multilingual else ("en",)
        self.capabilities = Capabilities("ctranslate2", multilingual, languages, word_timestamps=True)

    def transcribe(self, audio: Any, opts: SpeechOptions) -> Transcript:
        # 0 (or unset) is greedy, retried hotter when the text looks wrong, as openai-whisper does.
        temperature: Any = [float(opts.temperature)] if opts.temperature else FALLBACK_TEMPERATURES
        segments, info = self.model.transcribe(
            audio,
            language=opts.language,
            task=opts.task,
            initial_prompt=opts.prompt or None,
            temperature=temperature,
            word_timestamps=opts.word_timestamps,
            vad_filter=False,
        )
        out: list[Segment] = []
        words: list[Word] = []
        for i, s in enumerate(segments):  # a generator: decoding happens while iterating
            out.append(
                Segment(
                    id=i,
                    seek=int(s.seek),
                    start=round(float(s.start), 3),
                    end=round(float(s.end), 3),
                    text=s.text,
                    tokens=[int(t) for t in s.tokens],
                    temperature=float(s.temperature or 0.0),
                    avg_logprob=float(s.avg_logprob),
                    compression_ratio=float(s.compression_ratio),
                    no_speech_prob=float(s.no_speech_prob),
                )
            )
            for w in s.words or ():
                words.append(Word(w.word, round(float(w.start), 3), round(float(w.end), 3)))
        return Transcript(
            text="".join(s.text for s in out).strip(),
            language=str(info.language),
            duration=round(float(info.duration), 3),
            segments=out,
            words=words if opts.word_timestamps else None,
        )
