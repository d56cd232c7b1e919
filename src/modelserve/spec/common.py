"""Building blocks shared by every spec model: the strict base, field-located errors,
case-insensitive enums, model-url and adapter types, the `FunctionSpec` base.

Imports only pydantic and `spec.urls`; never the kind modules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from modelserve.spec.urls import ADAPTER_SCHEMES, ALL_SCHEMES, ModelUrlError, parse_model_url

if TYPE_CHECKING:
    from modelserve.spec.serving import ServeSpec


class StrictModel(BaseModel):
    """Base of every user-written spec: unknown fields are errors naming their path."""

    model_config = ConfigDict(extra="forbid", populate_by_name=False)


def problem(message: str, kind: str = "value_error") -> PydanticCustomError:
    """A pydantic error whose message is shown as-is (no "Value error, " prefix)."""
    return PydanticCustomError(kind, "{reason}", {"reason": message})


def field_error(title: str, loc: Sequence[str | int], message: str, value: Any = None) -> ValidationError:
    """A ValidationError located at `loc` inside the model being validated.

    Raised from a model validator, pydantic nests `loc` under the model's own location, so a
    cross-field rule can name the precise field (`scaling.replicas`) instead of the model.
    """
    detail = InitErrorDetails(type=problem(message), loc=tuple(loc), input=value)
    return ValidationError.from_exception_data(title, [detail])


def canonical(choices: Collection[str], hints: dict[str, str] | None = None) -> Callable[[Any], Any]:
    """A before-validator mapping a case-insensitive spelling onto its canonical choice.

    `hints` maps a lower-cased rejected value to a helpful message (e.g. FasterWhisper →
    "use kind kubeai-speech"). Unknown values pass through for the Literal to reject.
    """
    by_lower = {c.lower(): c for c in choices}

    def convert(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if hints and value.lower() in hints:
            raise problem(hints[value.lower()])
        return by_lower.get(value.lower(), value)

    return convert


def matching(pattern: str, what: str) -> AfterValidator:
    """An after-validator requiring a full regex match, with a message saying what is expected."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise problem(f"{value!r} is not {what}", "string_pattern_mismatch")
        return value

    return AfterValidator(check)


def _model_url_check(schemes: Collection[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        try:
            parse_model_url(value, schemes=schemes)
        except ModelUrlError as exc:
            raise problem(str(exc), "invalid_model_url") from None
        return value

    return check


ModelUrlStr = Annotated[str, AfterValidator(_model_url_check(ALL_SCHEMES))]
"""A model url in any accepted form (see `spec.urls`)."""

NoOllamaUrlStr = Annotated[
    str, AfterValidator(_model_url_check(tuple(s for s in ALL_SCHEMES if s != "ollama")))
]
"""A model url in any accepted form except ollama://."""

AdapterUrlStr = Annotated[str, AfterValidator(_model_url_check(ADAPTER_SCHEMES))]
"""A LoRA adapter url: every model url form except ollama://."""

ModelName = Annotated[
    str,
    Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_][^\s]*$"),
]
"""A served model name: 1–128 characters, no whitespace."""

ImageRef = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^[^\s]+$")]
"""A container image reference (no whitespace)."""

Dtype = Literal["AUTO", "FLOAT16", "FLOAT32", "BFLOAT16", "FLOAT", "HALF"]
DtypeField = Annotated[Dtype, BeforeValidator(canonical(get_args(Dtype)))]
"""Weights dtype, case-insensitive, normalised to upper case (the engine gets it lower-cased)."""


class Adapter(StrictModel):
    """A LoRA adapter served on top of the base model, addressed as `<model>_<name>`."""

    name: Annotated[
        str, matching(r"[a-z0-9-]{1,63}", "an adapter name ([a-z0-9-], at most 63 characters)")
    ] = Field(
        description="Adapter name: lower-case letters, digits and '-', at most 63 characters.",
    )
    url: AdapterUrlStr = Field(description="Where the adapter weights are (any model url but ollama://).")


def check_unique_adapters(title: str, adapters: Sequence[Adapter]) -> None:
    """Raise a field-located error on the first adapter whose name repeats an earlier one."""
    seen: set[str] = set()
    for i, adapter in enumerate(adapters):
        if adapter.name in seen:
            raise field_error(
                title, ("adapters", i, "name"), f"duplicate adapter name {adapter.name!r}", adapter.name
            )
        seen.add(adapter.name)


class FunctionSpec(StrictModel):
    """Base of the six function specs. `kind` names the runtime kind; `url_field` the model url field."""

    kind: ClassVar[str]
    url_field: ClassVar[str] = "url"
    serve_type: ClassVar[type[ServeSpec]]

    def model_url(self) -> str:
        """The model url the function serves (`url`, or `path` for huggingfaceserve)."""
        value = getattr(self, self.url_field)
        assert isinstance(value, str)
        return value
