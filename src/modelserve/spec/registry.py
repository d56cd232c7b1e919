"""The kind registry: which function and serve spec each runtime kind uses, and the parse
entry points that turn user dicts into specs or `InvalidRequest` errors naming the field.

A new kind is a new module plus one entry in `_FUNCTIONS`. Imports the kind modules and `errors`.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from modelserve.errors import InvalidRequest, from_validation_error
from modelserve.spec.common import FunctionSpec
from modelserve.spec.huggingface import HuggingfaceServeFunction
from modelserve.spec.kubeai import KubeAISpeechFunction, KubeAITextFunction
from modelserve.spec.serving import ServeSpec
from modelserve.spec.urls import check_url_override
from modelserve.spec.vllm import VllmServePoolingFunction, VllmServeSpeechFunction, VllmServeTextFunction

_FUNCTIONS: tuple[type[FunctionSpec], ...] = (
    KubeAITextFunction,
    KubeAISpeechFunction,
    VllmServeTextFunction,
    VllmServeSpeechFunction,
    VllmServePoolingFunction,
    HuggingfaceServeFunction,
)

FUNCTION_TYPES: dict[str, type[FunctionSpec]] = {cls.kind: cls for cls in _FUNCTIONS}
KINDS: tuple[str, ...] = tuple(FUNCTION_TYPES)


def function_type(kind: str) -> type[FunctionSpec]:
    """The FunctionSpec class of `kind`; raises InvalidRequest(param="kind") for an unknown kind."""
    try:
        return FUNCTION_TYPES[kind]
    except (KeyError, TypeError):
        raise InvalidRequest(
            f"unknown kind {kind!r}; expected one of: {', '.join(KINDS)}", param="kind", code="invalid_value"
        ) from None


def serve_type(kind: str) -> type[ServeSpec]:
    """The ServeSpec class of `kind`; raises InvalidRequest(param="kind") for an unknown kind."""
    return function_type(kind).serve_type


def parse_function(kind: str, data: dict[str, Any] | None) -> FunctionSpec:
    """Validate a function spec; raises InvalidRequest whose `param` is `spec.<field path>`."""
    cls = function_type(kind)
    try:
        return cls.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise from_validation_error(exc, prefix="spec") from None


def parse_serve(kind: str, data: dict[str, Any] | None) -> ServeSpec:
    """Validate serve fields (task + run merged); raises InvalidRequest with `param` `serve.<path>`."""
    cls = serve_type(kind)
    try:
        return cls.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise from_validation_error(exc, prefix="serve") from None


def model_url(fn_spec: FunctionSpec) -> str:
    """The function's model url: `url`, or `path` for huggingfaceserve."""
    return fn_spec.model_url()


def effective_model_url(fn_spec: FunctionSpec, serve: ServeSpec) -> str:
    """The url a run serves: the serve-level override if set (checked), else the function's url.

    Raises InvalidRequest (`serve.url` / `serve.path`) when the override does not extend the
    function url.
    """
    override = serve.url_override()
    function_url = fn_spec.model_url()
    check_url_override(function_url, override, param=f"serve.{serve.override_field}")
    return override or function_url
