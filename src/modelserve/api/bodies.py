"""Request bodies of the control-plane API (strict: unknown fields are errors)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectBody(_Strict):
    name: str


class FunctionBody(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    kind: str
    spec: dict[str, Any] = Field(default_factory=dict)


class RunBody(_Strict):
    function: str
    function_version: int | None = Field(default=None, ge=1)
    action: Literal["serve"] = "serve"
    spec: dict[str, Any] = Field(default_factory=dict)
