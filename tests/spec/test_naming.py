"""The exposed model name of a run (the seed's "randomized" KubeAI model name)."""

from __future__ import annotations

import pytest

from modelserve.spec import exposed_model_name

RUN_ID = "0123456789abcdef0123456789abcdef"

NAMES = [
    ("short", "qwen", "abc123", "qwen-abc123"),
    ("lower-cased", "TinyLlama-Chat", "ABC", "tinyllama-chat-abc"),
    ("sanitized", "Qwen2.5_0.5B/Instruct", "r1", "qwen2505binstruct-r1"),
    ("truncated-to-39", "tinyllama-chat", RUN_ID, ("tinyllama-chat-" + RUN_ID)[:39]),
    ("no-model-name", None, RUN_ID, RUN_ID),
    ("empty-model-name", "", RUN_ID, RUN_ID),
    ("only-bad-chars", "模型", "abc", "abc"),
    ("no-trailing-dash-after-cut", "a" * 38, RUN_ID, "a" * 38),
]


@pytest.mark.parametrize(
    ("model_name", "run_id", "expected"), [n[1:] for n in NAMES], ids=[n[0] for n in NAMES]
)
def test_exposed_model_name(model_name: str | None, run_id: str, expected: str) -> None:
    name = exposed_model_name(model_name, run_id)
    assert name == expected
    assert len(name) <= 39


@pytest.mark.parametrize("model_name", ["m", "a-very-long-model-name-that-goes-on-and-on", "Mixed_Case.Name"])
def test_exposed_name_is_a_valid_kubernetes_name(model_name: str) -> None:
    name = exposed_model_name(model_name, RUN_ID)
    assert name[0] != "-" and name[-1] != "-"
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_nothing_usable_is_an_error() -> None:
    with pytest.raises(ValueError, match="no usable characters"):
        exposed_model_name("!!!", "")
