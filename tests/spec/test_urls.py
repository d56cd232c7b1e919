"""Model url forms every kind accepts, the ones it rejects, and the run-level override rule."""

from __future__ import annotations

import pytest

from modelserve.errors import InvalidRequest
from modelserve.spec import ModelUrl, ModelUrlError, check_url_override, parse_model_url
from modelserve.spec.urls import ADAPTER_SCHEMES

ACCEPTED = [
    ("hf-org-name", "hf://Qwen/Qwen2.5-0.5B", ("hf", "Qwen/Qwen2.5-0.5B", None)),
    ("hf-revision", "hf://org/name:v1.0", ("hf", "org/name", "v1.0")),
    ("hf-single-name", "hf://gpt2", ("hf", "gpt2", None)),
    ("hf-trailing-slash", "hf://org/name/", ("hf", "org/name", None)),
    ("hf-upper-scheme", "HF://org/name", ("hf", "org/name", None)),
    ("huggingface", "huggingface://meta-llama/Llama-3-8B:main", ("hf", "meta-llama/Llama-3-8B", "main")),
    ("s3-key", "s3://models/qwen/0.5b/", ("s3", "models/qwen/0.5b/", None)),
    ("s3-bucket-only", "s3://my-bucket", ("s3", "my-bucket", None)),
    ("ollama", "ollama://llama3.2:1b", ("ollama", "llama3.2", "1b")),
    ("ollama-no-tag", "ollama://qwen2", ("ollama", "qwen2", None)),
    ("pvc", "pvc://model-cache/qwen", ("pvc", "model-cache/qwen", None)),
    (
        "store",
        "store://demo/model/huggingface/qwen:abc123",
        ("store", "demo/model/huggingface/qwen", "abc123"),
    ),
    ("store-latest", "store://demo/model/huggingface/qwen", ("store", "demo/model/huggingface/qwen", None)),
    ("abs-folder", "/data/models/qwen/", ("file", "/data/models/qwen/", None)),
    ("abs-file", "/data/models/smollm2.gguf", ("file", "/data/models/smollm2.gguf", None)),
    ("file-url", "file:///data/models/qwen", ("file", "/data/models/qwen", None)),
    ("file-localhost", "file://localhost/data/m", ("file", "/data/m", None)),
]


@pytest.mark.parametrize(("raw", "expected"), [a[1:] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted_urls_parse_to_scheme_location_revision(
    raw: str, expected: tuple[str, str, str | None]
) -> None:
    url = parse_model_url(raw)
    assert (url.scheme, url.location, url.revision) == expected
    assert url.raw == raw and str(url) == raw
    assert url == ModelUrl(*expected, raw)


REJECTED = [
    ("ftp", "ftp://x", "unsupported model url"),
    ("seed-sloppy-h", "h://x", "unsupported model url"),
    ("seed-sloppy-pv", "pv://claim", "unsupported model url"),
    ("seed-sloppy-ollam", "ollam://llama", "unsupported model url"),
    ("relative-path", "models/qwen", "unsupported model url"),
    ("http", "https://huggingface.co/org/name", "unsupported model url"),
    ("empty", "", "non-empty"),
    ("whitespace", "hf://org/my model", "whitespace"),
    ("hf-empty", "hf://", "invalid hf:// url"),
    ("hf-too-deep", "hf://a/b/c", "invalid hf:// url"),
    ("s3-no-bucket", "s3:///key", "invalid s3:// url"),
    ("s3-bad-bucket", "s3://UPPER/key", "invalid s3:// url"),
    ("ollama-empty", "ollama://", "invalid ollama:// url"),
    ("pvc-bad-claim", "pvc://Bad_Claim", "invalid pvc:// url"),
    ("store-not-model", "store://demo/dataitem/huggingface/x", "invalid store:// url"),
    ("store-wrong-kind", "store://demo/model/sklearn/x", "invalid store:// url"),
    ("file-relative", "file://data/m", "invalid file:// url"),
]


@pytest.mark.parametrize(("raw", "message"), [r[1:] for r in REJECTED], ids=[r[0] for r in REJECTED])
def test_rejected_urls_name_the_problem(raw: str, message: str) -> None:
    with pytest.raises(ModelUrlError, match=message):
        parse_model_url(raw)


def test_rejection_lists_every_accepted_scheme() -> None:
    with pytest.raises(ModelUrlError) as info:
        parse_model_url("ftp://x")
    for form in (
        "hf://",
        "huggingface://",
        "s3://",
        "ollama://",
        "pvc://",
        "store://",
        "file:///",
        "/absolute",
    ):
        assert form in str(info.value)


@pytest.mark.parametrize(
    "raw", ["ollama://llama3", "/abs/path"], ids=["ollama-not-adapter", "restricted-local-path"]
)
def test_restricted_schemes(raw: str) -> None:
    schemes = ADAPTER_SCHEMES if raw.startswith("ollama") else ("hf",)
    with pytest.raises(ModelUrlError, match="not accepted here"):
        parse_model_url(raw, schemes=schemes)


OVERRIDES = [
    ("same", "hf://org/name", "hf://org/name", True),
    ("add-revision", "hf://org/name", "hf://org/name:v2", True),
    ("case-insensitive", "hf://Org/Name", "HF://org/name:main", True),
    ("sub-path", "s3://bucket/models", "s3://bucket/models/qwen", True),
    ("none", "hf://org/name", None, True),
    ("other-model", "hf://org/name", "hf://org/other", False),
    ("shorter", "hf://org/name:v1", "hf://org/name", False),
]


@pytest.mark.parametrize(
    ("function_url", "override", "ok"), [o[1:] for o in OVERRIDES], ids=[o[0] for o in OVERRIDES]
)
def test_url_override_must_extend_the_function_url(function_url: str, override: str | None, ok: bool) -> None:
    if ok:
        check_url_override(function_url, override)
        return
    with pytest.raises(InvalidRequest) as info:
        check_url_override(function_url, override)
    assert info.value.message == "invalid url override, must be subpath of function url"
    assert info.value.param == "serve.url"
    assert info.value.status == 400
