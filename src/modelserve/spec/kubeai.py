"""The KubeAI kinds: `kubeai-text` and `kubeai-speech` function specs and their serve spec.

Seed rules kept: engine VLLM by default; speech is always FasterWhisper + SpeechToText.
Rules added (KubeAI itself enforces them on the Model CR): adapters need engine VLLM;
`ollama://` urls need engine OLlama; engine Infinity serves embeddings only (its default
features are [TextEmbedding]). Engine LlamaCpp (GGUF files through llama.cpp) is modelserve's
own addition to KubeAI's engines; the local executor serves it. Imports only `spec.common`, `spec.serving`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BeforeValidator, Field, model_validator

from modelserve.spec.common import (
    Adapter,
    FunctionSpec,
    ImageRef,
    ModelName,
    ModelUrlStr,
    NoOllamaUrlStr,
    StrictModel,
    canonical,
    check_unique_adapters,
    field_error,
    matching,
)
from modelserve.spec.serving import ServeSpec
from modelserve.spec.urls import parse_model_url

TextEngine = Literal["OLlama", "VLLM", "Infinity", "LlamaCpp"]
TextFeature = Literal["TextGeneration", "TextEmbedding"]

_SPEECH_HINT = "{} serves speech to text: use kind kubeai-speech"
_ENGINE = canonical(get_args(TextEngine), {"fasterwhisper": _SPEECH_HINT.format("engine FasterWhisper")})
_FEATURE = canonical(get_args(TextFeature), {"speechtotext": _SPEECH_HINT.format("feature SpeechToText")})
_SPEECH_ENGINE = canonical(("FasterWhisper",))
_SPEECH_FEATURE = canonical(("SpeechToText",))


class FileMount(StrictModel):
    """A file written into every replica (KubeAI Model `files`)."""

    path: Annotated[str, matching(r"/[^:]{1,1023}", "an absolute path without ':'")] = Field(
        description="Absolute path without ':', at most 1024 characters.",
    )
    content: str = Field(max_length=100000, description="File content, at most 100000 characters.")


class KubeAIServe(ServeSpec):
    """Serve fields of `kubeai-text` and `kubeai-speech`."""

    url: ModelUrlStr | None = Field(
        default=None, description="Model url override; must extend the function url."
    )
    files: list[FileMount] = Field(default_factory=list, max_length=10, description="Files for the engine.")
    cache_profile: str | None = Field(default=None, min_length=1, description="KubeAI cache profile.")
    processors: int = Field(
        default=1, ge=1, description="Processors per replica: resourceProfile <profile>:<n>."
    )

    @model_validator(mode="after")
    def _unique_files(self) -> KubeAIServe:
        seen: set[str] = set()
        for i, f in enumerate(self.files):
            if f.path in seen:
                raise field_error(
                    type(self).__name__, ("files", i, "path"), f"duplicate file path {f.path!r}", f.path
                )
            seen.add(f.path)
        return self


def _default_text_features() -> list[TextFeature]:
    return ["TextGeneration"]


def _default_speech_features() -> list[Literal["SpeechToText"]]:
    return ["SpeechToText"]


def _no_adapters_unless_vllm(title: str, engine: str, adapters: list[Adapter]) -> None:
    if adapters and engine != "VLLM":
        raise field_error(
            title,
            ("adapters",),
            f"adapters are served only by engine VLLM, not {engine}",
            [a.name for a in adapters],
        )


class KubeAITextFunction(FunctionSpec):
    """`kubeai-text`: text generation or embeddings through a KubeAI-style engine."""

    kind: ClassVar[str] = "kubeai-text"
    serve_type: ClassVar[type[ServeSpec]] = KubeAIServe

    url: ModelUrlStr = Field(description="Model url (hf://, s3://, ollama://, pvc://, store://, local path).")
    model_name: ModelName = Field(default="model", description="Prefix of the exposed model name.")
    image: ImageRef | None = Field(default=None, description="Engine image (cluster executor).")
    adapters: list[Adapter] = Field(default_factory=list, description="LoRA adapters (engine VLLM only).")
    engine: Annotated[TextEngine, BeforeValidator(_ENGINE)] = Field(
        default="VLLM",
        description="OLlama, VLLM, Infinity or LlamaCpp (case-insensitive; LlamaCpp serves a GGUF file).",
    )
    features: list[Annotated[TextFeature, BeforeValidator(_FEATURE)]] = Field(
        default_factory=_default_text_features,
        min_length=1,
        description="TextGeneration and/or TextEmbedding; default [TextGeneration], "
        "[TextEmbedding] with engine Infinity.",
    )

    @model_validator(mode="before")
    @classmethod
    def _infinity_default_features(cls, data: Any) -> Any:
        engine = data.get("engine") if isinstance(data, dict) else None
        if isinstance(engine, str) and engine.lower() == "infinity" and "features" not in data:
            return {**data, "features": ["TextEmbedding"]}
        return data

    @model_validator(mode="after")
    def _engine_rules(self) -> KubeAITextFunction:
        title = type(self).__name__
        self.features = list(dict.fromkeys(self.features))
        if parse_model_url(self.url).scheme == "ollama" and self.engine != "OLlama":
            raise field_error(
                title,
                ("url",),
                f"ollama:// urls are served only by engine OLlama, not {self.engine}",
                self.url,
            )
        if self.engine == "Infinity" and "TextGeneration" in self.features:
            raise field_error(
                title, ("features",), "engine Infinity serves TextEmbedding only", self.features
            )
        _no_adapters_unless_vllm(title, self.engine, self.adapters)
        check_unique_adapters(title, self.adapters)
        return self


class KubeAISpeechFunction(FunctionSpec):
    """`kubeai-speech`: speech to text with FasterWhisper. `engine`/`features` are fixed."""

    kind: ClassVar[str] = "kubeai-speech"
    serve_type: ClassVar[type[ServeSpec]] = KubeAIServe

    url: NoOllamaUrlStr = Field(description="Model url (hf://, s3://, pvc://, store://, local path).")
    model_name: ModelName = Field(default="model", description="Prefix of the exposed model name.")
    image: ImageRef | None = Field(default=None, description="Engine image (cluster executor).")
    adapters: list[Adapter] = Field(
        default_factory=list,
        description="Must stay empty: FasterWhisper serves no adapters.",
    )
    engine: Annotated[Literal["FasterWhisper"], BeforeValidator(_SPEECH_ENGINE)] = Field(
        default="FasterWhisper",
        description="Always FasterWhisper; other values are rejected.",
    )
    features: list[Annotated[Literal["SpeechToText"], BeforeValidator(_SPEECH_FEATURE)]] = Field(
        default_factory=_default_speech_features,
        min_length=1,
        max_length=1,
        description="Always [SpeechToText]; other values are rejected.",
    )

    @model_validator(mode="after")
    def _no_adapters(self) -> KubeAISpeechFunction:
        _no_adapters_unless_vllm(type(self).__name__, self.engine, self.adapters)
        return self
