"""User-written specs: function specs of the six runtime kinds, `serve` specs, model urls,
spec files. I/O-free pydantic types (apart from `load_spec_file`, which reads YAML).
Imports only `errors` from the project.
"""

from __future__ import annotations

from modelserve.spec.common import Adapter, FunctionSpec
from modelserve.spec.deployment import DeploymentServe, Resources, Volume
from modelserve.spec.files import SpecFile, load_spec_file
from modelserve.spec.huggingface import HuggingfaceServe, HuggingfaceServeFunction
from modelserve.spec.kubeai import FileMount, KubeAIServe, KubeAISpeechFunction, KubeAITextFunction
from modelserve.spec.naming import exposed_model_name
from modelserve.spec.registry import (
    FUNCTION_TYPES,
    KINDS,
    effective_model_url,
    function_type,
    model_url,
    parse_function,
    parse_serve,
    serve_type,
)
from modelserve.spec.scaling import LoadBalancing, PrefixHash, Scaling
from modelserve.spec.serving import ServeSpec
from modelserve.spec.urls import ModelUrl, ModelUrlError, check_url_override, parse_model_url
from modelserve.spec.vllm import (
    VllmServe,
    VllmServeFunction,
    VllmServePoolingFunction,
    VllmServeSpeechFunction,
    VllmServeTextFunction,
)

__all__ = [
    "FUNCTION_TYPES",
    "KINDS",
    "Adapter",
    "DeploymentServe",
    "FileMount",
    "FunctionSpec",
    "HuggingfaceServe",
    "HuggingfaceServeFunction",
    "KubeAIServe",
    "KubeAISpeechFunction",
    "KubeAITextFunction",
    "LoadBalancing",
    "ModelUrl",
    "ModelUrlError",
    "PrefixHash",
    "Resources",
    "Scaling",
    "ServeSpec",
    "SpecFile",
    "VllmServe",
    "VllmServeFunction",
    "VllmServePoolingFunction",
    "VllmServeSpeechFunction",
    "VllmServeTextFunction",
    "Volume",
    "check_url_override",
    "effective_model_url",
    "exposed_model_name",
    "function_type",
    "load_spec_file",
    "model_url",
    "parse_function",
    "parse_model_url",
    "parse_serve",
    "serve_type",
]
