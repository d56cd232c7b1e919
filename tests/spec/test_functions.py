"""Function specs of the six kinds: defaults, validation rules, unknown fields."""

from __future__ import annotations

from typing import Any

import pytest

from modelserve.spec import (
    KINDS,
    HuggingfaceServeFunction,
    KubeAISpeechFunction,
    KubeAITextFunction,
    VllmServePoolingFunction,
    VllmServeSpeechFunction,
    VllmServeTextFunction,
    model_url,
    parse_function,
)

from .helpers import rejected


def _url_key(kind: str) -> str:
    return "path" if kind == "huggingfaceserve" else "url"


def test_kinds_are_the_six_seed_kinds() -> None:
    assert KINDS == (
        "kubeai-text",
        "kubeai-speech",
        "vllmserve-text",
        "vllmserve-speech",
        "vllmserve-pooling",
        "huggingfaceserve",
    )


DEFAULTS = [
    (
        "kubeai-text",
        KubeAITextFunction,
        {
            "model_name": "model",
            "image": None,
            "adapters": [],
            "engine": "VLLM",
            "features": ["TextGeneration"],
        },
    ),
    (
        "kubeai-speech",
        KubeAISpeechFunction,
        {
            "model_name": "model",
            "image": None,
            "adapters": [],
            "engine": "FasterWhisper",
            "features": ["SpeechToText"],
        },
    ),
    ("vllmserve-text", VllmServeTextFunction, {"model_name": "model", "image": None, "adapters": []}),
    ("vllmserve-speech", VllmServeSpeechFunction, {"model_name": "model", "image": None, "adapters": []}),
    ("vllmserve-pooling", VllmServePoolingFunction, {"model_name": "model", "image": None, "adapters": []}),
    ("huggingfaceserve", HuggingfaceServeFunction, {"model_name": "model", "image": None}),
]


@pytest.mark.parametrize(("kind", "cls", "defaults"), DEFAULTS, ids=[d[0] for d in DEFAULTS])
def test_defaults_per_kind(kind: str, cls: type, defaults: dict[str, Any]) -> None:
    spec = parse_function(kind, {_url_key(kind): "hf://org/name"})
    assert type(spec) is cls and spec.kind == kind
    dumped = spec.model_dump()
    assert dumped == {_url_key(kind): "hf://org/name", **defaults}
    assert model_url(spec) == "hf://org/name"


@pytest.mark.parametrize("kind", KINDS)
def test_model_url_is_required(kind: str) -> None:
    err = rejected(parse_function, kind, {"model_name": "m"})
    assert err.param == f"spec.{_url_key(kind)}"


@pytest.mark.parametrize("kind", KINDS)
def test_unknown_field_is_named(kind: str) -> None:
    err = rejected(parse_function, kind, {_url_key(kind): "hf://org/name", "modle_name": "x"})
    assert err.param == "spec.modle_name"
    assert "unknown field" in err.message


def test_unknown_nested_field_is_named_with_its_index() -> None:
    data = {
        "url": "hf://o/n",
        "adapters": [{"name": "a", "url": "hf://o/a"}, {"name": "b", "url": "hf://o/b", "x": 1}],
    }
    assert rejected(parse_function, "kubeai-text", data).param == "spec.adapters[1].x"


@pytest.mark.parametrize("kind", KINDS)
def test_bad_url_scheme_rejected_for_every_kind(kind: str) -> None:
    err = rejected(parse_function, kind, {_url_key(kind): "ftp://host/model"})
    assert err.param == f"spec.{_url_key(kind)}"
    assert "hf://" in err.message and "store://" in err.message


OLLAMA = [
    ("kubeai-text-ollama-engine", "kubeai-text", {"engine": "OLlama"}, None),
    ("kubeai-text-vllm-engine", "kubeai-text", {}, "spec.url"),
    ("kubeai-speech", "kubeai-speech", {}, "spec.url"),
    ("vllmserve-text", "vllmserve-text", {}, "spec.url"),
    ("vllmserve-pooling", "vllmserve-pooling", {}, "spec.url"),
    ("huggingfaceserve", "huggingfaceserve", {}, "spec.path"),
]


@pytest.mark.parametrize(("kind", "extra", "param"), [o[1:] for o in OLLAMA], ids=[o[0] for o in OLLAMA])
def test_ollama_urls_only_for_kubeai_text_with_engine_ollama(
    kind: str, extra: dict[str, Any], param: str | None
) -> None:
    data = {_url_key(kind): "ollama://llama3.2:1b", **extra}
    if param is None:
        assert parse_function(kind, data).model_url() == "ollama://llama3.2:1b"
    else:
        assert rejected(parse_function, kind, data).param == param


ENGINE_CASES = [
    ("lower-case-engine", {"engine": "ollama"}, {"engine": "OLlama"}),
    ("infinity-defaults-to-embedding", {"engine": "Infinity"}, {"features": ["TextEmbedding"]}),
    ("llamacpp-any-case", {"engine": "llamacpp"}, {"engine": "LlamaCpp", "features": ["TextGeneration"]}),
    (
        "embedding-with-vllm",
        {"features": ["TextEmbedding"]},
        {"engine": "VLLM", "features": ["TextEmbedding"]},
    ),
    (
        "both-features",
        {"features": ["TextGeneration", "textembedding"]},
        {"features": ["TextGeneration", "TextEmbedding"]},
    ),
    (
        "duplicate-features-collapse",
        {"features": ["TextGeneration", "TextGeneration"]},
        {"features": ["TextGeneration"]},
    ),
]


@pytest.mark.parametrize(
    ("data", "expected"), [c[1:] for c in ENGINE_CASES], ids=[c[0] for c in ENGINE_CASES]
)
def test_kubeai_text_engine_and_features(data: dict[str, Any], expected: dict[str, Any]) -> None:
    dumped = parse_function("kubeai-text", {"url": "hf://o/n", **data}).model_dump()
    assert {k: dumped[k] for k in expected} == expected


ADAPTER = {"name": "colorist", "url": "hf://jashing/tinyllama-colorist-lora"}

FUNCTION_ERRORS = [
    (
        "fasterwhisper-points-to-speech",
        "kubeai-text",
        {"engine": "FasterWhisper"},
        "spec.engine",
        "kubeai-speech",
    ),
    (
        "speech-feature-points-to-speech",
        "kubeai-text",
        {"features": ["SpeechToText"]},
        "spec.features[0]",
        "kubeai-speech",
    ),
    ("unknown-engine", "kubeai-text", {"engine": "TGI"}, "spec.engine", "VLLM"),
    ("unknown-feature", "kubeai-text", {"features": ["Reranking"]}, "spec.features[0]", "TextEmbedding"),
    ("no-features", "kubeai-text", {"features": []}, "spec.features", "at least 1"),
    (
        "infinity-cannot-generate",
        "kubeai-text",
        {"engine": "Infinity", "features": ["TextGeneration"]},
        "spec.features",
        "Infinity",
    ),
    (
        "adapters-need-vllm",
        "kubeai-text",
        {"engine": "OLlama", "adapters": [ADAPTER]},
        "spec.adapters",
        "VLLM",
    ),
    (
        "llamacpp-serves-no-adapters",
        "kubeai-text",
        {"engine": "LlamaCpp", "adapters": [ADAPTER]},
        "spec.adapters",
        "not LlamaCpp",
    ),
    ("speech-other-engine", "kubeai-speech", {"engine": "VLLM"}, "spec.engine", "FasterWhisper"),
    (
        "speech-other-feature",
        "kubeai-speech",
        {"features": ["TextGeneration"]},
        "spec.features[0]",
        "SpeechToText",
    ),
    ("speech-no-adapters", "kubeai-speech", {"adapters": [ADAPTER]}, "spec.adapters", "VLLM"),
    (
        "adapter-name-upper",
        "vllmserve-text",
        {"adapters": [{"name": "Color", "url": "hf://o/a"}]},
        "spec.adapters[0].name",
        "adapter name",
    ),
    (
        "adapter-name-too-long",
        "vllmserve-text",
        {"adapters": [{"name": "a" * 64, "url": "hf://o/a"}]},
        "spec.adapters[0].name",
        "adapter name",
    ),
    (
        "adapter-ollama-url",
        "kubeai-text",
        {"adapters": [{"name": "a", "url": "ollama://x"}]},
        "spec.adapters[0].url",
        "not accepted here",
    ),
    (
        "adapter-bad-url",
        "vllmserve-pooling",
        {"adapters": [{"name": "a", "url": "gs://b/a"}]},
        "spec.adapters[0].url",
        "unsupported",
    ),
    (
        "adapter-duplicate",
        "vllmserve-text",
        {"adapters": [ADAPTER, ADAPTER]},
        "spec.adapters[1].name",
        "duplicate",
    ),
    ("vllm-image", "vllmserve-text", {"image": "nvcr.io/vllm:latest"}, "spec.image", "vllm/vllm-openai"),
    (
        "hf-image",
        "huggingfaceserve",
        {"image": "kserve/sklearnserver:latest"},
        "spec.image",
        "huggingfaceserver",
    ),
    ("empty-model-name", "vllmserve-speech", {"model_name": ""}, "spec.model_name", "at least 1"),
    ("model-name-space", "kubeai-text", {"model_name": "my model"}, "spec.model_name", "pattern"),
    ("null-model-name", "kubeai-text", {"model_name": None}, "spec.model_name", "string"),
]


@pytest.mark.parametrize(
    ("kind", "data", "param", "message"),
    [e[1:] for e in FUNCTION_ERRORS],
    ids=[e[0] for e in FUNCTION_ERRORS],
)
def test_function_validation_errors(kind: str, data: dict[str, Any], param: str, message: str) -> None:
    err = rejected(parse_function, kind, {_url_key(kind): "hf://org/name", **data})
    assert err.param == param
    assert message in err.message


SPEECH_FIXED = [
    ("as-written", {"engine": "FasterWhisper", "features": ["SpeechToText"]}),
    ("any-case", {"engine": "fasterwhisper", "features": ["speechtotext"]}),
]


@pytest.mark.parametrize("data", [s[1] for s in SPEECH_FIXED], ids=[s[0] for s in SPEECH_FIXED])
def test_speech_accepts_its_fixed_engine_and_features(data: dict[str, Any]) -> None:
    spec = parse_function("kubeai-speech", {"url": "hf://Systran/faster-whisper-tiny", **data})
    assert (spec.engine, spec.features) == ("FasterWhisper", ["SpeechToText"])


def test_adapters_kept_for_vllm_kinds() -> None:
    spec = parse_function(
        "vllmserve-text", {"url": "store://p/model/huggingface/base", "adapters": [ADAPTER]}
    )
    assert [a.model_dump() for a in spec.adapters] == [ADAPTER]


@pytest.mark.parametrize("image", ["vllm/vllm-openai", "vllm/vllm-openai:v0.8.3"])
def test_vllm_image_pattern_accepts_official_image(image: str) -> None:
    assert parse_function("vllmserve-text", {"url": "hf://o/n", "image": image}).image == image


def test_unknown_kind_lists_the_kinds() -> None:
    err = rejected(parse_function, "kubeai", {"url": "hf://o/n"})
    assert err.param == "kind"
    assert all(kind in err.message for kind in KINDS)


def test_every_problem_is_listed_in_the_message() -> None:
    err = rejected(parse_function, "vllmserve-text", {"url": "ftp://x", "image": "bad", "extra": 1})
    assert err.param == "spec.url"
    assert "spec.image" in err.message and "spec.extra: unknown field" in err.message
