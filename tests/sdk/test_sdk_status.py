"""RunStatus access and the invoke URL rules (pure functions, no server)."""

from __future__ import annotations

import pytest

from modelserve import errors
from modelserve.sdk.status import RunStatus, check_invoke_url, default_invoke_url


def test_status_attributes_and_unknown_keys() -> None:
    status = RunStatus({"state": "RUNNING", "k8s": {"Model": {}}, "openai": {"model": "m"}})
    assert status.state == "RUNNING"
    assert status.k8s == {"Model": {}}
    assert status.service == {}
    copy = status.to_dict()
    copy["openai"]["model"] = "changed"
    assert status.openai["model"] == "m"
    with pytest.raises(AttributeError):
        _ = status.nothing_here


@pytest.mark.parametrize(
    ("openai", "expected"),
    [
        (
            {"baseUrl": "h:1/openai/v1", "features": ["TextGeneration"]},
            "http://h:1/openai/v1/chat/completions",
        ),
        (
            {"baseUrl": "https://h/openai/v1/", "features": ["TextEmbedding"]},
            "https://h/openai/v1/embeddings",
        ),
        ({"baseUrl": "http://h/v1", "features": ["SpeechToText"]}, "http://h/v1/audio/transcriptions"),
        ({"baseUrl": "http://h/v1"}, "http://h/v1/chat/completions"),
        ({}, None),
    ],
    ids=["generation-schemeless", "embeddings", "speech", "no-features", "not-ready"],
)
def test_default_invoke_url(openai: dict[str, object], expected: str | None) -> None:
    assert default_invoke_url(RunStatus({"openai": openai})) == expected


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://svc.ns:8000/v1/chat/completions", True),
        ("svc.ns:8000/v1/models", True),
        ("https://svc.ns:8000", True),
        ("http://svc.ns:80001/v1", False),
        ("http://other:8000/v1", False),
    ],
    ids=["under-service", "schemeless", "exact", "port-prefix-is-not-a-path", "other-host"],
)
def test_check_invoke_url(url: str, allowed: bool) -> None:
    status = RunStatus({"service": {"url": "svc.ns:8000"}})
    if allowed:
        assert check_invoke_url(url, status).startswith(("http://", "https://"))
    else:
        with pytest.raises(errors.InvalidRequest, match="svc.ns:8000"):
            check_invoke_url(url, status)
