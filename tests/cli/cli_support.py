"""Shared by the CLI tests: the fake control-plane API module (from tests/sdk) and the runner type."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from click.testing import Result


def _load_fake_api() -> ModuleType:
    # tests/ is not a package: load the one fake from tests/sdk by path.
    path = Path(__file__).resolve().parents[1] / "sdk" / "fake_api.py"
    spec = importlib.util.spec_from_file_location("modelserve_tests_fake_api", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


fake_api = _load_fake_api()

Invoke = Callable[..., Result]
