"""Engine configuration: the command line parsed into a frozen `EngineConfig`.

Imports nothing heavy (no torch), so `--help` and argument errors are instant.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# pooling: whichever of embed, classify or token_classification the model folder holds (never generate)
TASKS = ("generate", "embed", "classify", "token_classification", "fill_mask", "pooling",
         "transcribe", "auto")
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class EngineConfig:
    model: str
    served_model_name: str
    gguf_file: str | None = None
    task: str = "auto"
    host: str = "127.0.0.1"
    port: int = 8000
    dtype: str = "auto"
    device: str = "auto"
    max_model_len: int | None = None
    lora_modules: tuple[tuple[str, str], ...] = ()
    cache_dir: Path | None = None
    max_num_seqs: int = 32
    max_queue: int = 256
    max_embed_batch: int = 256
    return_probabilities: bool = False  # KServe protocols answer class probabilities, not class ids
    max_audio_mb: float = 25.0  # largest audio upload accepted (OpenAI's limit)
    prefill_chunk_tokens: int = 512
    prefix_cache_mb: int = 256
    packed_weights: bool = True  # oneDNN-packed linear weights on CPU (builtin/packed_linear.py)
    fused_forward: bool = True  # the lean Llama-family forward (builtin/fused_forward.py)
    log_level: str = "info"
    # Sampling defaults for fields a request leaves unset (vLLM's --override-generation-config).
    generation_defaults: dict[str, Any] = field(default_factory=dict)


def _lora(value: str) -> tuple[str, str]:
    name, sep, path = value.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--lora-modules expects name=path, got {value!r}")
    return name, path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m modelserve.builtin",
        description="OpenAI-compatible server for a transformers model (generation or embeddings).",
    )
    p.add_argument("--model", required=True, help="model folder, or a .gguf file")
    p.add_argument("--gguf-file", default=None, help="GGUF file name inside --model")
    p.add_argument("--served-model-name", default=None, help="model name clients use (default: --model)")
    p.add_argument("--task", choices=TASKS, default="auto")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--dtype", choices=DTYPES, default="auto")
    p.add_argument("--device", choices=DEVICES, default="auto")
    p.add_argument("--max-model-len", type=int, default=None)
    p.add_argument("--lora-modules", nargs="+", type=_lora, default=[], metavar="NAME=PATH")
    p.add_argument("--cache-dir", type=Path, default=None, help="where dequantized GGUF models are kept")
    p.add_argument("--max-num-seqs", type=int, default=32, help="sequences decoded together per step")
    p.add_argument("--max-queue", type=int, default=256, help="waiting requests before answering 429")
    p.add_argument(
        "--prefill-chunk-tokens",
        type=int,
        default=512,
        help="prompt tokens per prefill forward (chunked prefill)",
    )
    p.add_argument(
        "--prefix-cache-mb", type=int, default=256, help="memory for reusing prompt prefixes' KV (0: off)"
    )
    p.add_argument(
        "--packed-weights",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="text generation on CPU multiplies with oneDNN-packed copies of the linear weights "
        "(faster; their memory doubles)",
    )
    p.add_argument(
        "--fused-forward",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Llama, Qwen2 and Mistral models run a leaner forward with fused q|k|v and gate|up weights "
        "(checked against transformers' at start); off: transformers' forward",
    )
    p.add_argument(
        "--max-embed-batch", type=int, default=256,
        help="inputs gathered into one pooling batch (run sorted by length, 32 per forward pass on CPU, 64 on GPU)",
    )
    p.add_argument(
        "--return-probabilities",
        action="store_true",
        help="KServe v1/v2 inference answers class probabilities instead of class ids",
    )
    p.add_argument(
        "--max-audio-mb", type=float, default=25.0, help="largest audio upload to transcribe, in MB (413 past it)"
    )
    p.add_argument("--log-level", default="info")
    p.add_argument(
        "--override-generation-config",
        type=_generation_config,
        default={},
        metavar="JSON",
        help="sampling defaults for requests that leave them unset, e.g. '{\"temperature\": 0.2}'",
    )
    return p


_GENERATION_KEYS = {
    "temperature",
    "top_p",
    "top_k",
    "presence_penalty",
    "frequency_penalty",
    "repetition_penalty",
}


def _generation_config(value: str) -> dict[str, Any]:
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"--override-generation-config is not JSON: {exc}") from None
    if not isinstance(parsed, dict) or not set(parsed) <= _GENERATION_KEYS:
        raise argparse.ArgumentTypeError(
            f"--override-generation-config takes an object with keys among {sorted(_GENERATION_KEYS)}"
        )
    return parsed


def parse_args(argv: Sequence[str] | None = None) -> EngineConfig:
    a = build_parser().parse_args(argv)
    return EngineConfig(
        model=a.model,
        served_model_name=a.served_model_name or a.model,
        gguf_file=a.gguf_file,
        task=a.task,
        host=a.host,
        port=a.port,
        dtype=a.dtype,
        device=a.device,
        max_model_len=a.max_model_len,
        lora_modules=tuple(a.lora_modules),
        cache_dir=a.cache_dir,
        max_num_seqs=max(1, a.max_num_seqs),
        max_queue=max(1, a.max_queue),
        max_embed_batch=max(1, a.max_embed_batch),
        return_probabilities=a.return_probabilities,
        max_audio_mb=max(0.001, a.max_audio_mb),
        prefill_chunk_tokens=max(1, a.prefill_chunk_tokens),
        prefix_cache_mb=max(0, a.prefix_cache_mb),
        packed_weights=a.packed_weights,
        fused_forward=a.fused_forward,
        log_level=a.log_level,
        generation_defaults=dict(a.override_generation_config),
    )
