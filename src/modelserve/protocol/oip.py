"""Open Inference Protocol (KServe v2) REST types, and KServe's v1 `:predict` body, as KServe's
huggingfaceserver uses them: one BYTES input tensor of texts (e.g. named "input-0"), one output
tensor "output-0". Imports only pydantic.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow")


class InferInputTensor(_Body):
    name: str
    shape: list[int]
    datatype: str
    data: list[Any]
    parameters: dict[str, Any] | None = None


class InferRequest(_Body):
    id: str | None = None
    inputs: list[InferInputTensor] = Field(min_length=1)
    outputs: list[dict[str, Any]] | None = None
    parameters: dict[str, Any] | None = None


class InferOutputTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str  # BOOL, INT64, FP32, BYTES, ...
    data: list[Any]  # row-major, flattened


class InferResponse(BaseModel):
    model_name: str
    model_version: str | None = None
    id: str
    parameters: dict[str, Any] | None = None
    outputs: list[InferOutputTensor]


class TensorMetadata(BaseModel):
    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    name: str
    versions: list[str] = Field(default_factory=list)
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class PredictRequest(_Body):
    """KServe v1: `{"instances": [...]}` (or `{"inputs": [...]}`), each instance a text."""

    instances: list[str] | None = None
    inputs: list[str] | None = None

    def texts(self) -> list[str]:
        return list(self.instances if self.instances is not None else self.inputs or [])
