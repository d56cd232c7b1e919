"""The vLLM kinds: `vllmserve-text`, `vllmserve-speech`, `vllmserve-pooling` and their serve spec.

The three function specs are the same fields (as in the seed); the kind decides the OpenAI
surface. Unlike the seed's HEAD (store:// only) every model url form is accepted but ollama://.
Imports only `spec.common`, `spec.deployment`, `spec.serving`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from modelserve.spec.common import (
    Adapter,
    DtypeField,
    FunctionSpec,
    ModelName,
    NoOllamaUrlStr,
    check_unique_adapters,
)
from modelserve.spec.deployment import DeploymentServe, Quantity
from modelserve.spec.serving import ServeSpec

VLLM_IMAGE_PATTERN = r"^vllm/vllm-openai(:.*)?$"


class VllmServe(DeploymentServe):
    """Serve fields of the three vllmserve kinds."""

    url: NoOllamaUrlStr | None = Field(
        default=None, description="Model url override; must extend the function url."
    )
    enable_telemetry: bool = Field(
        default=True, description="Send OTLP traces when the platform has an endpoint."
    )
    use_cpu_image: bool = Field(default=True, description="Run vLLM's CPU build (VLLM_BACKEND=cpu).")
    storage_space: Quantity | None = Field(
        default=None,
        description="Space for model caching, e.g. 10Gi (seed SDK field; resources.disk wins).",
    )
    dtype: DtypeField | None = Field(default=None, description="Weights dtype passed as --dtype.")


class VllmServeFunction(FunctionSpec):
    """Fields common to the three vllmserve function kinds."""

    serve_type: ClassVar[type[ServeSpec]] = VllmServe

    url: NoOllamaUrlStr = Field(description="Model url (hf://, s3://, pvc://, store://, local path).")
    model_name: ModelName = Field(default="model", description="Served model name (--served-model-name).")
    image: str | None = Field(
        default=None,
        pattern=VLLM_IMAGE_PATTERN,
        description="vllm/vllm-openai[:tag] image (cluster executor).",
    )
    adapters: list[Adapter] = Field(default_factory=list, description="LoRA adapters (--lora-modules).")

    @model_validator(mode="after")
    def _adapters(self) -> VllmServeFunction:
        check_unique_adapters(type(self).__name__, self.adapters)
        return self


class VllmServeTextFunction(VllmServeFunction):
    """`vllmserve-text`: chat and completions."""

    kind: ClassVar[str] = "vllmserve-text"


class VllmServeSpeechFunction(VllmServeFunction):
    """`vllmserve-speech`: audio transcriptions and translations."""

    kind: ClassVar[str] = "vllmserve-speech"


class VllmServePoolingFunction(VllmServeFunction):
    """`vllmserve-pooling`: embeddings, pooling, classify, score and rerank."""

    kind: ClassVar[str] = "vllmserve-pooling"
