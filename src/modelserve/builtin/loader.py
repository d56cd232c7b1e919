"""Model loading: resolve the source (folder, folder + GGUF, .gguf file), pick task, device and dtype,
load the transformers model/tokenizer (plus LoRA adapters) or a sentence-transformers embedder.

A dequantized GGUF model is kept as safetensors under `--cache-dir`, so a second start skips the
slow dequantize. torch/transformers are imported inside the functions only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelserve.builtin.config import EngineConfig
from modelserve.errors import InvalidRequest

log = logging.getLogger("modelserve.builtin")


class LoadError(Exception):
    """The model cannot be served; the message is one line for the operator."""


@dataclass(frozen=True)
class ModelSource:
    folder: Path
    gguf_file: str | None


@dataclass
class LoadedGenerator:
    model: Any
    tokenizer: Any
    device: Any
    max_model_len: int
    eos_token_ids: frozenset[int]
    adapters: tuple[str, ...]
    fused: Any = None  # FusedForward for rows without an adapter, when the model has one


@dataclass
class LoadedEmbedder:
    model: Any  # sentence_transformers.SentenceTransformer
    tokenizer: Any
    device: Any
    max_model_len: int
    dimensions: int


def resolve_source(cfg: EngineConfig) -> ModelSource:
    p = Path(cfg.model).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return ModelSource(p.parent.resolve(), p.name)
    if not p.is_dir():
        raise LoadError(f"model path {cfg.model!r} is neither a folder nor a .gguf file")
    if cfg.gguf_file and not (p / cfg.gguf_file).is_file():
        raise LoadError(f"GGUF file {cfg.gguf_file!r} not found in {p}")
    return ModelSource(p.resolve(), cfg.gguf_file)


def detect_task(src: ModelSource, requested: str) -> str:
    """`generate`, `embed` or `transcribe`: sentence-transformers folders and encoder-only models
    embed, Whisper folders transcribe."""
    if requested == "pooling":  # what vLLM's pooling runner serves: a classifier head or embeddings
        from modelserve.builtin.encoders import pooling_task

        return pooling_task(detect_task(src, "auto"))
    if requested != "auto":
        return requested
    if src.gguf_file:
        return "generate"
    from modelserve.builtin.encoders import head_task

    head = head_task(src.folder)  # classifier, cross-encoder, token classifier, masked LM
    if head is not None:
        return head
    if (src.folder / "modules.json").is_file():
        return "embed"
    from modelserve.builtin.speech_models import is_speech_folder

    if is_speech_folder(src.folder):  # Whisper, transformers or CTranslate2 (faster-whisper)
        return "transcribe"
    cfg_path = src.folder / "config.json"
    if not cfg_path.is_file():
        raise LoadError(f"{src.folder} has no config.json; is it a transformers model folder?")
    archs = json.loads(cfg_path.read_text()).get("architectures") or []
    if any(a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")) for a in archs):
        return "generate"
    return "embed"


def pick_device(requested: str) -> Any:
    import torch

    if requested == "cuda" and not torch.cuda.is_available():
        raise LoadError("--device cuda was requested but CUDA is not available")
    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(requested)


def cpu_has_native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX512-BF16/AMX); without it bf16 is emulated and slow."""
    import torch

    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def pick_dtype(requested: str, folder: Path, device: Any, gguf: bool) -> Any:
    import torch

    if requested != "auto":
        dtype = getattr(torch, requested)
        if device.type == "cpu" and dtype == torch.bfloat16 and not cpu_has_native_bf16():
            log.warning(
                "this CPU has no native bfloat16: matmuls are emulated and slow; float32 is faster here"
            )
        return dtype
    if gguf:  # dequantized weights are float32; half precision on GPU
        return torch.float16 if device.type == "cuda" else torch.float32
    cfg = json.loads((folder / "config.json").read_text()) if (folder / "config.json").is_file() else {}
    stored = str(cfg.get("dtype") or cfg.get("torch_dtype") or "float32")
    dtype = getattr(torch, stored, torch.float32)
    if device.type == "cpu" and dtype in (torch.float16, torch.bfloat16):
        # half-precision matmuls are slow on CPU unless it has native bf16 (AVX512-BF16/AMX)
        return torch.bfloat16 if cpu_has_native_bf16() else torch.float32
    return dtype


def _gguf_cache_dir(cache_dir: Path, src: ModelSource, dtype: Any) -> Path:
    f = src.folder / str(src.gguf_file)
    st = f.stat()
    key = hashlib.sha256(f"{f}|{st.st_size}|{st.st_mtime_ns}|{dtype}".encode()).hexdigest()[:16]
    return cache_dir / f"gguf-{f.stem}-{key}"


def _load_gguf(src: ModelSource, dtype: Any, cache_dir: Path | None) -> tuple[Any, Any]:
    """Dequantize a GGUF (slow) or reuse its cached safetensors copy."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cached = _gguf_cache_dir(cache_dir, src, dtype) if cache_dir else None
    if cached is not None and (cached / "config.json").is_file():
        log.info("loading dequantized GGUF from cache %s", cached)
        return AutoModelForCausalLM.from_pretrained(cached, dtype=dtype), AutoTokenizer.from_pretrained(
            cached
        )
    log.info("dequantizing %s (this takes a while)", src.gguf_file)
    tok = AutoTokenizer.from_pretrained(src.folder, gguf_file=src.gguf_file)
    model = AutoModelForCausalLM.from_pretrained(src.folder, gguf_file=src.gguf_file, dtype=dtype)
    if cached is not None:
        _save_plain_copy(model, tok, cached)
    return model, tok


def plain_copy_of_gguf(gguf_path: Path, cache_dir: Path, dtype_name: str = "float32") -> Path:
    """The folder holding `gguf_path` dequantized to `dtype_name` safetensors under `cache_dir`
    (made on first use; the same folder the engine uses with `--cache-dir`)."""
    import torch

    dtype = getattr(torch, dtype_name)
    src = ModelSource(gguf_path.parent.resolve(), gguf_path.name)
    dest = _gguf_cache_dir(cache_dir, src, dtype)
    if not (dest / "config.json").is_file():
        _load_gguf(src, dtype, cache_dir)
    return dest


def _save_plain_copy(model: Any, tok: Any, dest: Path) -> None:
    """Save a GGUF-loaded model as plain safetensors (atomically: temp folder, then rename)."""
    cfg = model.config
    if hasattr(cfg, "quantization_config"):
        del cfg.quantization_config  # a gguf-quantized model refuses save_pretrained
    if hasattr(model, "hf_quantizer"):
        model.hf_quantizer = None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=dest.name + ".", dir=dest.parent))
    try:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        tmp.rename(dest)
        log.info("cached dequantized model in %s", dest)
    except Exception as e:  # noqa: BLE001 - a cache is an optimisation: never fail the start over it
        log.warning("could not cache dequantized model: %s", e)
        shutil.rmtree(tmp, ignore_errors=True)


def _max_len(cfg: EngineConfig, model_cfg: Any, tok: Any) -> int:
    limits = [int(getattr(model_cfg, "max_position_embeddings", 0) or 0)]
    tml = getattr(tok, "model_max_length", None)
    if isinstance(tml, int) and 0 < tml < 10**7:
        limits.append(tml)
    natural = min(x for x in limits if x > 0) if any(limits) else 2048
    if cfg.max_model_len:
        if cfg.max_model_len > natural:
            raise LoadError(f"--max-model-len {cfg.max_model_len} exceeds the model's {natural}")
        return cfg.max_model_len
    return natural


def _eos_ids(model: Any, tok: Any) -> frozenset[int]:
    ids: set[int] = set()
    for source in (getattr(model, "generation_config", None), model.config):
        eos = getattr(source, "eos_token_id", None) if source is not None else None
        if isinstance(eos, int):
            ids.add(eos)
        elif isinstance(eos, (list, tuple)):
            ids.update(int(x) for x in eos)
    if tok.eos_token_id is not None:
        ids.add(int(tok.eos_token_id))
    return frozenset(ids)


def load_generator(cfg: EngineConfig, src: ModelSource) -> LoadedGenerator:
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = pick_device(cfg.device)
    dtype = pick_dtype(cfg.dtype, src.folder, device, bool(src.gguf_file))
    if src.gguf_file:
        model, tok = _load_gguf(src, dtype, cfg.cache_dir)
    else:
        tok = AutoTokenizer.from_pretrained(src.folder)
        model = AutoModelForCausalLM.from_pretrained(src.folder, dtype=dtype)
    model = model.to(device).eval()
    fused = None
    if cfg.fused_forward:
        from modelserve.builtin.fused_forward import FusedForward

        fused = FusedForward.build(model, pack=cfg.packed_weights)
    if fused is None and cfg.packed_weights:
        _pack(model)
    adapters: list[str] = []
    if cfg.lora_modules:
        model = _attach_adapters(model, cfg.lora_modules)
        adapters = [name for name, _ in cfg.lora_modules]
    model.eval()
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    return LoadedGenerator(
        model=model,
        tokenizer=tok,
        device=device,
        max_model_len=_max_len(cfg, model.config, tok),
        eos_token_ids=_eos_ids(model, tok),
        adapters=tuple(adapters),
        fused=fused,
    )


def _pack(model: Any) -> None:
    """Pack the linear weights for oneDNN where the device and dtype allow (before adapters wrap them)."""
    from modelserve.builtin.packed_linear import pack_linears

    packed = pack_linears(model)
    if packed:
        log.info("packed %d linear layers' weights for oneDNN (--no-packed-weights: plain torch)", packed)


def _attach_adapters(model: Any, modules: tuple[tuple[str, str], ...]) -> Any:
    from peft import PeftModel

    first_name, first_path = modules[0]
    for name, path in modules:
        if not (Path(path) / "adapter_config.json").is_file():
            raise LoadError(f"LoRA adapter {name!r}: {path} has no adapter_config.json")
    pm = PeftModel.from_pretrained(model, first_path, adapter_name=first_name)
    for name, path in modules[1:]:
        pm.load_adapter(path, adapter_name=name)
    return pm


def load_embedder(cfg: EngineConfig, src: ModelSource) -> LoadedEmbedder:
    from sentence_transformers import SentenceTransformer

    if src.gguf_file:
        raise LoadError("embeddings from a GGUF file are not supported; give a transformers folder")
    device = pick_device(cfg.device)
    dtype = pick_dtype(cfg.dtype, src.folder, device, False)
    st = SentenceTransformer(str(src.folder), device=str(device), model_kwargs={"dtype": dtype})
    st.eval()
    max_len = int(st.max_seq_length or 512)
    if cfg.max_model_len:
        max_len = min(max_len, cfg.max_model_len)
        st.max_seq_length = max_len
    dim = int(st.get_sentence_embedding_dimension() or 0)
    return LoadedEmbedder(
        model=st, tokenizer=st.tokenizer, device=device, max_model_len=max_len, dimensions=dim
    )


def check_adapter(name: str | None, adapters: tuple[str, ...]) -> None:
    if name is not None and name not in adapters:
        raise InvalidRequest(f"unknown adapter {name!r}", param="model")
