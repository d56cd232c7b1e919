"""Every engine × every runtime kind: a launch plan on 127.0.0.1 serving the plan's name, or a clear refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelserve.engines import ENGINES
from modelserve.errors import InvalidRequest
from modelserve.runtimes import RUNTIMES
from tests.engines.golden import PORT, launch, plan_for

SPECS = {
    "kubeai-text": {"url": "ollama://m", "model_name": "m"},
    "kubeai-speech": {"url": "ollama://w", "model_name": "m"},
    "vllmserve-text": {"url": "ollama://m", "model_name": "m"},
    "vllmserve-speech": {"url": "ollama://w", "model_name": "m"},
    "vllmserve-pooling": {"url": "ollama://e", "model_name": "m"},
    "huggingfaceserve": {"path": "ollama://m", "model_name": "m"},
}
# Engine/kind pairs an engine refuses: it cannot serve that kind's task (generation, speech, embeddings).
REFUSED = {
    *[("infinity", k) for k in ("kubeai-text", "kubeai-speech", "vllmserve-text", "vllmserve-speech", "huggingfaceserve")],
    *[(e, k) for e in ("llamacpp", "ollama") for k in ("kubeai-speech", "vllmserve-speech")],
    *[("fasterwhisper", k) for k in ("kubeai-text", "vllmserve-text", "vllmserve-pooling", "huggingfaceserve")],
}
PAIRS = [(e, k) for e in ENGINES for k in RUNTIMES]


@pytest.mark.parametrize(("engine", "kind"), PAIRS, ids=[f"{e}-{k}" for e, k in PAIRS])
def test_engine_kind_pair(tmp_path: Path, engine: str, kind: str) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"GGUF")
    plan = plan_for(kind, SPECS[kind])
    if (engine, kind) in REFUSED:
        with pytest.raises(InvalidRequest) as err:
            launch(engine, plan, model, tmp_path)
        assert err.value.param == "engine" and engine in err.value.message.lower().replace(".", "").replace("-", "")
        return
    lp = launch(engine, plan, model, tmp_path)
    assert lp.engine == engine and lp.port == PORT and lp.served_name == "m"
    joined = " ".join(lp.argv) + " " + " ".join(f"{k}={v}" for k, v in lp.env.items())
    assert "127.0.0.1" in joined and str(PORT) in joined
    assert "0.0.0.0" not in joined
    assert lp.health_path.startswith("/")
