"""Built-in engine argv for every runtime kind (it is every kind's fallback), and FasterWhisper's."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from modelserve.settings import Settings
from tests.engines.golden import PORT, PY, launch, plan_for

MODEL = Path("/models/m")

# (id, kind, spec, expected --task, extra argv at the end)
BUILTIN_CASES: list[tuple[str, str, dict[str, Any], str, list[str]]] = [
    ("kubeai-text-generation", "kubeai-text", {"url": "hf://o/m", "model_name": "t"}, "generate", []),
    ("kubeai-text-embeddings", "kubeai-text", {"url": "hf://o/m", "model_name": "t", "features": ["TextEmbedding"]},
     "embed", []),
    ("kubeai-speech", "kubeai-speech", {"url": "hf://o/w", "model_name": "t"}, "auto", []),
    ("vllmserve-text-half", "vllmserve-text", {"url": "hf://o/m", "model_name": "t", "dtype": "HALF"}, "generate",
     ["--dtype", "float16"]),
    ("vllmserve-speech", "vllmserve-speech", {"url": "hf://o/w", "model_name": "t"}, "auto", []),
    ("vllmserve-pooling", "vllmserve-pooling", {"url": "hf://o/e", "model_name": "t"}, "pooling", []),
    ("huggingfaceserve-embedding", "huggingfaceserve",
     {"path": "hf://o/e", "model_name": "t", "huggingface_task": "TEXT_EMBEDDING"}, "embed", []),
]


@pytest.mark.parametrize(("kind", "spec", "task", "extra"), [c[1:] for c in BUILTIN_CASES],
                         ids=[c[0] for c in BUILTIN_CASES])
def test_builtin_launch_plan(tmp_path: Path, kind: str, spec: dict[str, Any], task: str, extra: list[str]) -> None:
    lp = launch("builtin", plan_for(kind, spec), MODEL, tmp_path)
    assert list(lp.argv) == [
        PY["builtin"], "-m", "modelserve.builtin", "--model", str(MODEL), "--served-model-name", "t",
        "--host", "127.0.0.1", "--port", str(PORT), "--task", task,
        "--cache-dir", str(tmp_path / "models" / "builtin-cache"), *extra,
    ]
    assert (lp.health_path, lp.served_name) == ("/health", "t")


def test_builtin_adapters_are_static_lora_modules(tmp_path: Path) -> None:
    spec = {"url": "hf://o/m", "model_name": "t", "adapters": [{"name": "a", "url": "hf://o/a"}, {"name": "b", "url": "hf://o/b"}]}
    adapters = {"a": tmp_path / "a", "b": tmp_path / "b"}
    lp = launch("builtin", plan_for("kubeai-text", spec), MODEL, tmp_path, adapters)
    assert list(lp.argv[-3:]) == ["--lora-modules", f"a={tmp_path / 'a'}", f"b={tmp_path / 'b'}"]


def test_builtin_keeps_only_user_args_it_understands(tmp_path: Path) -> None:
    """A vLLM-style args list on the fallback engine: known flags pass, fixed and foreign ones do not."""
    args = ["--enforce-eager", "--max-model-len", "512", "--port", "1", "--tensor-parallel-size", "2",
            "--max-num-seqs=4", "--dtype", "float32"]
    lp = launch("builtin", plan_for("vllmserve-text", {"url": "hf://o/m", "model_name": "t", "args": args}),
                MODEL, tmp_path)
    assert list(lp.argv[-5:]) == ["--max-model-len", "512", "--max-num-seqs=4", "--dtype", "float32"]
    assert lp.argv.count("--port") == 1 and "--enforce-eager" not in lp.argv


def test_fasterwhisper_runs_builtin_transcribe(tmp_path: Path) -> None:
    spec = {"url": "hf://Systran/faster-whisper-tiny.en", "model_name": "audio", "args": ["--port", "1", "--device", "cpu"]}
    lp = launch("fasterwhisper", plan_for("kubeai-speech", spec), MODEL, tmp_path)
    assert list(lp.argv) == [
        PY["fasterwhisper"], "-m", "modelserve.builtin", "--model", str(MODEL), "--served-model-name", "audio",
        "--task", "transcribe", "--host", "127.0.0.1", "--port", str(PORT), "--device", "cpu",
    ]
    assert dict(lp.env) == {"PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}


def test_fasterwhisper_keeps_only_args_the_builtin_engine_understands(tmp_path: Path) -> None:
    """Args written for another speech server (or vLLM) must not crash the built-in engine."""
    args = ["--beam-size", "5", "--max-audio-mb", "10", "--task", "embed", "--dtype", "float32"]
    lp = launch("fasterwhisper", plan_for("kubeai-speech", {"url": "hf://o/w", "model_name": "a", "args": args}),
                MODEL, tmp_path)
    assert list(lp.argv[-4:]) == ["--max-audio-mb", "10", "--dtype", "float32"]
    assert lp.argv.count("--task") == 1 and lp.argv[lp.argv.index("--task") + 1] == "transcribe"
    assert "--beam-size" not in lp.argv


def test_transcribe_probe_agrees_with_the_builtin_parser() -> None:
    """The probe reads the real `--help`; it must agree with the parser's own task list."""
    from modelserve.builtin.config import TASKS
    from modelserve.engines.fasterwhisper import builtin_supports_transcribe

    assert builtin_supports_transcribe(sys.executable) is ("transcribe" in TASKS)


def test_fasterwhisper_availability_names_what_is_missing(tmp_path: Path) -> None:
    from modelserve.engines import ENGINES
    from modelserve.engines.fasterwhisper import builtin_supports_transcribe
    from modelserve.engines.locate import has_module

    engine = ENGINES["fasterwhisper"]
    missing = Settings(data_dir=tmp_path, engines={"fasterwhisper": {"python": str(tmp_path / "nope")}})
    found = engine.available(missing)
    assert not found.ok and "does not exist" in found.detail
    here = engine.available(Settings(data_dir=tmp_path, engines={"fasterwhisper": {"python": sys.executable}}))
    if not has_module(sys.executable, "faster_whisper"):
        assert not here.ok and "install.sh fasterwhisper" in here.detail
    elif not builtin_supports_transcribe(sys.executable):
        assert not here.ok and "--task transcribe" in here.detail
    else:
        assert here.ok


def test_fasterwhisper_interpreter_without_modelserve_is_named(tmp_path: Path) -> None:
    """An engine interpreter that has faster_whisper but not modelserve cannot serve it: say so."""
    import shutil

    from modelserve.engines import ENGINES

    stubs = tmp_path / "stubs" / "faster_whisper"
    stubs.mkdir(parents=True)
    (stubs / "__init__.py").write_text("")
    python = tmp_path / "python"
    base = shutil.which("python3", path="/usr/bin:/usr/local/bin") or sys.executable
    python.write_text(f'#!/bin/sh\nPYTHONPATH={stubs.parent} exec {base} -S "$@"\n')
    python.chmod(0o755)
    found = ENGINES["fasterwhisper"].available(
        Settings(data_dir=tmp_path, engines={"fasterwhisper": {"python": str(python)}})
    )
    assert not found.ok
    assert "cannot import modelserve" in found.detail and str(python) in found.detail


def test_user_flags_match_the_builtin_parser() -> None:
    """Every flag of `python -m modelserve.builtin` is either fixed by the plan or open to users."""
    from modelserve.builtin.config import build_parser
    from modelserve.engines.builtin import USER_FLAGS

    parser_flags = {s for a in build_parser()._actions for s in a.option_strings if s.startswith("--")} - {"--help"}
    fixed = {"--model", "--served-model-name", "--host", "--port", "--task", "--cache-dir", "--lora-modules"}
    assert parser_flags == USER_FLAGS | fixed
