"""The speech task over HTTP with a tiny random transformers Whisper (built offline): every
response format in OpenAI's shape, and bad input answered in the OpenAI envelope naming the field
while the engine keeps serving. Its words are gibberish; recognition is tested with a real model
in test_speech_real.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from modelserve.testing import BuiltinEngineProcess
from modelserve.testing.audio import tone_wav
from modelserve.testing.tiny_whisper import make_tiny_whisper

MAX_AUDIO_MB = 0.1  # ~105 kB: a 1 s 16 kHz WAV (32 kB) fits, 200 kB does not


@pytest.fixture(scope="module")
def whisper_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("tiny-whisper")
    model = make_tiny_whisper(root / "model")
    # No --task: the engine must recognise a Whisper folder by itself.
    proc = BuiltinEngineProcess(
        model, "tiny-whisper", ["--max-audio-mb", str(MAX_AUDIO_MB), "--device", "cpu"],
        log_path=root / "engine.log",
    )  # fmt: skip
    with proc:
        yield proc.base_url


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return tone_wav(tmp_path_factory.mktemp("audio") / "tone.wav", seconds=1.0).read_bytes()


@pytest.fixture
def client(whisper_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{whisper_url}/v1", api_key="x", max_retries=0)


def test_served_as_speech_model(whisper_url: str) -> None:
    models = httpx.get(f"{whisper_url}/v1/models").json()["data"]
    assert [m["id"] for m in models] == ["tiny-whisper"]


def test_every_response_format(client: openai.OpenAI, wav: bytes) -> None:
    def create(fmt: str, **kw: Any) -> Any:
        return client.audio.transcriptions.create(
            model="tiny-whisper", file=("a.wav", wav), response_format=fmt, **kw  # type: ignore[arg-type]
        )

    verbose = create("verbose_json", language="en")
    assert verbose.language == "english" and verbose.duration == pytest.approx(1.0, abs=0.01)
    assert verbose.text == "".join(s.text for s in verbose.segments or []).strip()
    ends = [0.0]
    for seg in verbose.segments or []:  # clamped to the audio, in order, whatever the model predicts
        assert ends[-1] <= seg.start <= seg.end <= verbose.duration
        ends.append(seg.end)
    plain = create("json")
    assert plain.text == verbose.text  # temperature 0 is greedy: the same audio gives the same text
    assert plain.usage is not None and plain.usage.seconds == 1
    assert create("text") == verbose.text
    cue = r"\d\d:\d\d:\d\d{0}\d\d\d --> \d\d:\d\d:\d\d{0}\d\d\d\n"
    n = len(verbose.segments or [])
    assert len(re.findall(r"^\d+\n" + cue.format(","), create("srt"), re.M)) == n
    vtt = create("vtt")
    assert vtt.startswith("WEBVTT\n\n") and len(re.findall("^" + cue.format(r"\."), vtt, re.M)) == n


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the client marks translations so
def test_translations_report_the_translate_task(client: openai.OpenAI, wav: bytes) -> None:
    out = client.audio.translations.create(
        model="tiny-whisper", file=("a.wav", wav), response_format="verbose_json"
    )
    assert out.task == "translate"  # type: ignore[attr-defined]


def test_prompt_and_temperature_are_accepted(client: openai.OpenAI, wav: bytes) -> None:
    out = client.audio.transcriptions.create(
        model="tiny-whisper", file=("a.wav", wav), prompt="Kubernetes and vLLM", temperature=0.4
    )
    assert isinstance(out.text, str)


GRAINS = "timestamp_granularities"
BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("not-audio", {"file": ("a.wav", b"RIFF but not really audio")}, 400, "file"),
    ("oversized", {"file": ("a.wav", b"\0" * 200_000)}, 413, "file"),
    ("unknown-format", {"response_format": "xml"}, 400, "response_format"),
    ("unknown-language", {"language": "klingon"}, 400, "language"),
    ("english-only-model", {"language": "fr"}, 400, "language"),
    ("temperature-out-of-range", {"temperature": 1.5}, 400, "temperature"),
    ("granularity-needs-verbose-json", {"timestamp_granularities": ["segment"]}, 400, GRAINS),
    ("word-timestamps-need-ctranslate2",
     {"timestamp_granularities": ["word"], "response_format": "verbose_json"}, 400, GRAINS),
    ("unknown-model", {"model": "nope"}, 404, "model"),
]  # fmt: skip


@pytest.mark.parametrize(("kwargs", "status", "param"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_names_the_field(
    client: openai.OpenAI, wav: bytes, kwargs: dict[str, Any], status: int, param: str
) -> None:
    args: dict[str, Any] = {"model": "tiny-whisper", "file": ("a.wav", wav), **kwargs}
    with pytest.raises(openai.APIStatusError) as info:
        client.audio.transcriptions.create(**args)
    assert info.value.status_code == status
    err = info.value.body
    assert isinstance(err, dict) and set(err) == {"message", "type", "param", "code"}
    assert err["param"] == param and err["type"] in ("invalid_request_error", "not_found_error")


def test_missing_file_and_wrong_content_type(whisper_url: str) -> None:
    url = f"{whisper_url}/v1/audio/transcriptions"
    no_file = httpx.post(url, data={"model": "tiny-whisper"}, files={"other": ("x.txt", b"1")})
    as_json = httpx.post(url, json={"model": "tiny-whisper", "file": "a.wav"})
    for resp in (no_file, as_json):
        assert resp.status_code == 400
        assert resp.json()["error"]["param"] == "file"


def test_oversized_chunked_upload_is_cut_off_while_streaming(whisper_url: str) -> None:
    """Without a Content-Length the cap is enforced on the bytes as they arrive."""
    boundary = "speechtestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\ntiny-whisper\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()

    def body() -> Iterator[bytes]:
        yield head
        for _ in range(20):  # 320 kB of "audio", past the 105 kB cap
            yield b"\0" * 16_384
        yield f"\r\n--{boundary}--\r\n".encode()

    resp = httpx.post(
        f"{whisper_url}/v1/audio/transcriptions",
        content=body(),
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert resp.status_code == 413 and resp.json()["error"]["param"] == "file"


def test_engine_keeps_serving_after_bad_input(client: openai.OpenAI, wav: bytes, whisper_url: str) -> None:
    with pytest.raises(openai.BadRequestError):
        client.audio.transcriptions.create(model="tiny-whisper", file=("a.mp3", b"\xff\xfb\x90garbage"))
    assert httpx.get(f"{whisper_url}/health").status_code == 200
    assert isinstance(client.audio.transcriptions.create(model="tiny-whisper", file=("a.wav", wav)).text, str)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", {"model": "tiny-whisper", "messages": [{"role": "user", "content": "hi"}]}),
        ("/v1/completions", {"model": "tiny-whisper", "prompt": "hi"}),
        ("/tokenize", {"model": "tiny-whisper", "prompt": "hi"}),
        ("/detokenize", {"model": "tiny-whisper", "tokens": [1, 2]}),
    ],
)
def test_text_routes_name_the_speech_task(whisper_url: str, path: str, body: dict[str, Any]) -> None:
    r = httpx.post(f"{whisper_url}{path}", json=body, timeout=30)
    assert r.status_code == 400
    error = r.json()["error"]
    assert (error["param"], error["code"]) == ("model", "model_task_mismatch")
    assert "speech recognition" in error["message"] and path in error["message"]

