"""Audio uploads → 16 kHz mono float32 samples, with PyAV (FFmpeg): any container and codec
FFmpeg reads (wav, mp3, flac, ogg/opus, m4a, webm, ...).

Runs on the speech worker thread (decoding is CPU work). Anything FFmpeg cannot read as audio is
the client's mistake: an InvalidRequest naming the `file` field, never a 500.
"""

from __future__ import annotations

from typing import Any, BinaryIO

from modelserve.builtin.speech_types import SAMPLE_RATE
from modelserve.errors import InvalidRequest


def _not_audio(detail: str) -> InvalidRequest:
    return InvalidRequest(
        f"file is not audio this server can decode ({detail}); "
        "send flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm",
        param="file",
        code="invalid_audio",
    )


def decode_audio(source: BinaryIO, sampling_rate: int = SAMPLE_RATE) -> Any:
    """The first audio stream of `source`, resampled to `sampling_rate` mono float32 (numpy array)."""
    import av
    import numpy as np

    chunks: list[Any] = []
    try:
        with av.open(source, mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise _not_audio("it has no audio stream")
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sampling_rate)
            for frame in container.decode(audio=0):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):  # flush the resampler's tail
                chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as e:
        reason = getattr(e, "strerror", None)
        raise _not_audio(type(e).__name__ + (f": {reason}" if reason else "")) from None
    audio = np.concatenate(chunks).astype(np.float32, copy=False) if chunks else np.zeros(0, np.float32)
    if audio.size == 0:
        raise _not_audio("it holds no audio samples")
    return audio
