"""Which Whisper backend a model folder needs, and loading it.

- CTranslate2 (faster-whisper): `model.bin` beside a `config.json` without `architectures`
  (the layout `ct2-transformers-converter` writes, e.g. Systran/faster-whisper-*).
- transformers: `config.json` naming `WhisperForConditionalGeneration` (or model_type whisper).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from modelserve.builtin.speech_types import Transcriber

INSTALL_HINT = "install the speech extra: pip install 'modelserve[speech]' (faster-whisper, PyAV)"


def _config(folder: Path) -> dict[str, Any]:
    p = folder / "config.json"
    try:
        data = json.loads(p.read_text()) if p.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def is_ct2_whisper(folder: Path) -> bool:
    return (folder / "model.bin").is_file() and not _config(folder).get("architectures")


def is_hf_whisper(folder: Path) -> bool:
    cfg = _config(folder)
    archs = cfg.get("architectures") or []
    return cfg.get("model_type") == "whisper" or any(str(a).startswith("Whisper") for a in archs)


def is_speech_folder(folder: Path) -> bool:
    """Whether `--task auto` should serve this folder as speech to text."""
    return is_ct2_whisper(folder) or is_hf_whisper(folder)


def load_transcriber(folder: Path, device: str, dtype: str) -> Transcriber:
    """Load the folder with the backend its layout asks for. Raises LoadError with what to do."""
    from modelserve.builtin.loader import LoadError

    try:
        import av  # noqa: F401  (every upload is decoded with PyAV)
    except ImportError:
        raise LoadError(f"the speech task needs PyAV to decode audio: {INSTALL_HINT}") from None
    if is_ct2_whisper(folder):
        try:
            from modelserve.builtin.speech_ct2 import CT2Transcriber

            return CT2Transcriber(folder, device, dtype)
        except ImportError as e:
            raise LoadError(f"{folder} is a CTranslate2 Whisper model: {INSTALL_HINT} ({e})") from None
    if is_hf_whisper(folder):
        from modelserve.builtin.speech_hf import HFTranscriber

        return HFTranscriber(folder, device, dtype)
    raise LoadError(
        f"{folder} is not a Whisper model: expected a CTranslate2 folder (model.bin) "
        "or a transformers folder whose config.json names WhisperForConditionalGeneration"
    )
