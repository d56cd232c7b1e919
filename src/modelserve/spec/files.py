"""Spec files: the YAML form of "a function and how to serve it" used by `examples/` and the CLI.

    kind: kubeai-text
    name: smollm2
    project: demo          # optional
    spec: {...}            # function fields of the kind
    serve: {...}           # serve fields (optional)

Imports `spec.registry`, `errors` and PyYAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator

from modelserve.errors import InvalidRequest, from_validation_error
from modelserve.spec.common import FunctionSpec, StrictModel, problem
from modelserve.spec.registry import KINDS, effective_model_url, parse_function, parse_serve
from modelserve.spec.serving import ServeSpec

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$"


class SpecFile(StrictModel):
    """One function of one kind plus its serve fields, as written in a YAML file."""

    kind: str = Field(description="Runtime kind, one of KINDS.")
    name: str = Field(pattern=NAME_PATTERN, description="Function name.")
    project: str | None = Field(default=None, pattern=NAME_PATTERN, description="Project (optional).")
    spec: dict[str, Any] = Field(description="Function spec fields of the kind.")
    serve: dict[str, Any] = Field(default_factory=dict, description="Serve fields (task + run).")

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise problem(f"unknown kind {value!r}; expected one of: {', '.join(KINDS)}")
        return value

    @field_validator("serve", mode="before")
    @classmethod
    def _empty_serve(cls, value: Any) -> Any:
        return {} if value is None else value

    def function_spec(self) -> FunctionSpec:
        """The validated function spec (raises InvalidRequest, param `spec.<field>`)."""
        return parse_function(self.kind, self.spec)

    def serve_spec(self) -> ServeSpec:
        """The validated serve spec (raises InvalidRequest, param `serve.<field>`)."""
        return parse_serve(self.kind, self.serve)


def _in_file(path: Path, exc: InvalidRequest) -> InvalidRequest:
    return InvalidRequest(f"{path}: {exc.message}", param=exc.param, code=exc.code)


def load_spec_file(path: str | Path) -> SpecFile:
    """Read and fully validate a YAML spec file (function spec, serve spec, url override).

    Raises InvalidRequest whose message starts with the file path and whose `param` names the
    field (`spec.url`, `serve.scaling.replicas`, `kind`); unreadable files and bad YAML too.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidRequest(f"{path}: cannot read spec file: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidRequest(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidRequest(f"{path}: a spec file is a mapping with kind, name, spec and serve")
    try:
        spec_file = SpecFile.model_validate(data)
    except ValidationError as exc:
        raise _in_file(path, from_validation_error(exc)) from None
    try:
        effective_model_url(spec_file.function_spec(), spec_file.serve_spec())
    except InvalidRequest as exc:
        raise _in_file(path, exc) from None
    return spec_file
