"""Pure command-line parsing: names from URLs, --set, precedence, up's settings, log following."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelserve.cli.runs import new_lines
from modelserve.cli.targets import TargetError, name_from_url, parse_sets, resolve_target
from modelserve.cli.up import build_settings


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("hf://Qwen/Qwen2.5-0.5B-Instruct", "qwen2-5-0-5b-instruct"),
        ("/models/SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-instruct-q4-1"),
        ("s3://bucket/models/llama/", "llama"),
        ("ollama://llama3.2:1b", "llama3-2-1b"),
        ("hf://", "model"),
    ],
    ids=["hf", "gguf-file", "trailing-slash", "ollama-tag", "empty"],
)
def test_name_from_url(url: str, name: str) -> None:
    assert name_from_url(url) == name


def test_parse_sets_types_nesting_and_targets() -> None:
    spec, serve = parse_sets(
        [
            "replicas=2",
            "scaling.max_replicas=3",
            "spec.features=[TextEmbedding]",
            "serve.use_cpu_image=true",
            "note=a=b",
        ]
    )
    assert spec == {"features": ["TextEmbedding"]}
    assert serve == {"replicas": 2, "scaling": {"max_replicas": 3}, "use_cpu_image": True, "note": "a=b"}
    with pytest.raises(TargetError, match="key=value"):
        parse_sets(["replicas"])


def test_resolve_url_target_options_win() -> None:
    target = resolve_target(
        "hf://org/m",
        name="n",
        kind="huggingfaceserve",
        project="p",
        model_name="mm",
        sets=["spec.model_name=override", "scaling.replicas=2"],
    )
    assert (target.project, target.name, target.kind) == ("p", "n", "huggingfaceserve")
    assert target.spec == {"path": "hf://org/m", "model_name": "override"}
    assert target.serve == {"scaling": {"replicas": 2}}


def test_resolve_local_path_becomes_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "weights").mkdir()
    monkeypatch.chdir(tmp_path)
    target = resolve_target("weights")
    assert target.spec["url"] == str(tmp_path / "weights")
    assert target.kind == "vllmserve-text" and target.project == "default"


def test_build_settings_flags_override_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODELSERVE_PORT", "9001")
    monkeypatch.setenv("MODELSERVE_DATA_DIR", str(tmp_path))
    from_env = build_settings()
    assert from_env.port == 9001 and from_env.data_dir == tmp_path and from_env.host == "127.0.0.1"
    flagged = build_settings(host="0.0.0.0", port=9100, database_url="sqlite:///x.db")
    assert (flagged.host, flagged.port, flagged.resolved_database_url) == ("0.0.0.0", 9100, "sqlite:///x.db")


@pytest.mark.parametrize(
    ("previous", "current", "expected"),
    [
        ([], ["a", "b"], ["a", "b"]),
        (["a", "b"], ["a", "b", "c"], ["c"]),
        (["b", "c"], ["a", "b", "c", "d", "e"], ["d", "e"]),
        (["x"], ["a", "b"], ["a", "b"]),
        (["a", "b"], ["a", "b"], []),
    ],
    ids=["first", "appended", "wider-window", "rotated", "unchanged"],
)
def test_new_lines(previous: list[str], current: list[str], expected: list[str]) -> None:
    assert new_lines(previous, current) == expected
