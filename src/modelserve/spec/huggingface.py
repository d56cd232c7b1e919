"""The `huggingfaceserve` kind (deprecated upstream, kept): function spec and serve spec.

Serve fields are the Deployment task fields plus KServe's huggingfaceserver flags. The flags
(`backend`, the booleans, `dtype`, ...) default to None ("not set"): the runtime decides, as the
seed did (it passes `--trust_remote_code true` when unset and no `--backend`).
Imports only `spec.common`, `spec.deployment`, `spec.serving`.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, get_args

from pydantic import BeforeValidator, Field

from modelserve.spec.common import DtypeField, FunctionSpec, ModelName, NoOllamaUrlStr, canonical
from modelserve.spec.deployment import DeploymentServe
from modelserve.spec.serving import ServeSpec

HF_IMAGE_PATTERN = r"^kserve/huggingfaceserver(:.+)?$"

HuggingfaceTask = Literal[
    "sequence_classification",
    "token_classification",
    "fill_mask",
    "text_generation",
    "text2text_generation",
    "text_embedding",
]
Backend = Literal["AUTO", "VLLM", "HUGGINGFACE"]


class HuggingfaceServe(DeploymentServe):
    """Serve fields of `huggingfaceserve`."""

    override_field: ClassVar[str] = "path"

    path: NoOllamaUrlStr | None = Field(
        default=None, description="Model path override; must extend the function path."
    )
    huggingface_task: (
        Annotated[HuggingfaceTask, BeforeValidator(canonical(get_args(HuggingfaceTask)))] | None
    ) = Field(default=None, description="Task; unset lets the server infer it from the model.")
    backend: Annotated[Backend, BeforeValidator(canonical(get_args(Backend)))] | None = Field(
        default=None,
        description="AUTO, VLLM or HUGGINGFACE (case-insensitive); unset lets the runtime choose.",
    )
    tokenizer_revision: str | None = Field(default=None, min_length=1, description="Tokenizer revision.")
    max_length: int | None = Field(default=None, ge=1, description="Tokenizer max sequence length.")
    disable_lower_case: bool | None = Field(default=None, description="Do not lower-case input.")
    disable_special_tokens: bool | None = Field(default=None, description="Do not add special tokens.")
    trust_remote_code: bool | None = Field(default=None, description="Allow model repositories' own code.")
    return_token_type_ids: bool | None = Field(default=None, description="Return token type ids.")
    return_probabilities: bool | None = Field(default=None, description="Return class probabilities.")
    disable_log_requests: bool | None = Field(default=None, description="Do not log requests.")
    dtype: DtypeField | None = Field(default=None, description="Weights dtype.")
    tensor_input_names: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list,
        description="Input tensor names (joined with commas for the server).",
    )
    max_log_len: int | None = Field(default=None, ge=0, description="Max characters of a prompt to log.")


class HuggingfaceServeFunction(FunctionSpec):
    """`huggingfaceserve`: any Hugging Face task, served by the built-in engine or vLLM."""

    kind: ClassVar[str] = "huggingfaceserve"
    url_field: ClassVar[str] = "path"
    serve_type: ClassVar[type[ServeSpec]] = HuggingfaceServe

    path: NoOllamaUrlStr = Field(
        description="Model url (hf://, huggingface://, s3://, pvc://, store://, local path)."
    )
    model_name: ModelName = Field(default="model", description="Served model name.")
    image: str | None = Field(
        default=None,
        pattern=HF_IMAGE_PATTERN,
        description="kserve/huggingfaceserver[:tag] image (cluster executor).",
    )
