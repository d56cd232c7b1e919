"""modelserve: an LLM model-serving runtime. This package root re-exports the Python SDK.

The SDK names (`ms.get_or_create_project`, `ms.Client`, ...) load on first use, so importing a
submodule such as `modelserve.errors` never pulls in the SDK or httpx.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Function",
    "Project",
    "Run",
    "RunStatus",
    "ServerUnreachable",
    "WaitTimeout",
    "__version__",
    "delete_project",
    "delete_run",
    "errors",
    "get_function",
    "get_or_create_project",
    "get_project",
    "get_run",
    "list_projects",
    "list_runs",
    "new_function",
    "new_project",
    "set_default_client",
]
_SDK_NAMES = frozenset(__all__) - {"__version__", "errors"}


def __getattr__(name: str) -> Any:
    if name in _SDK_NAMES:
        return getattr(importlib.import_module("modelserve.sdk"), name)
    if name == "errors":
        return importlib.import_module("modelserve.errors")
    raise AttributeError(f"module 'modelserve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
