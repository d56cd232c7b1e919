"""Builders of tiny deterministic models and locators of packaged real models, for tests and benchmarks.

Imports torch/transformers only inside the builder functions, never at import time.
"""

from __future__ import annotations

from modelserve.testing.engine_process import BuiltinEngineProcess, EngineStartError, free_port
from modelserve.testing.gguf_models import make_tiny_llama_gguf
from modelserve.testing.packaged import minilm_path, smollm2_gguf_path
from modelserve.testing.tiny_models import make_tiny_bert_embed, make_tiny_llama, make_tiny_llama_lora

__all__ = [
    "BuiltinEngineProcess",
    "EngineStartError",
    "free_port",
    "make_tiny_bert_embed",
    "make_tiny_llama",
    "make_tiny_llama_gguf",
    "make_tiny_llama_lora",
    "minilm_path",
    "smollm2_gguf_path",
]
