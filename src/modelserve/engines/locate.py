"""Find an engine's interpreter or command: configured in Settings, installed beside the data, or here.

Lookup order for Python engines: `settings.engines[name].python`
(`MODELSERVE_ENGINES__<NAME>__PYTHON`), then `<data_dir>/engines/<name>/bin/python`
(where `scripts/engines/install.sh NAME --dir <data_dir>/engines` puts it), then this interpreter.
Must not import executors, control or the gateway.
"""

from __future__ import annotations

import importlib.util
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from modelserve.engines.base import Availability
from modelserve.settings import Settings

_HAS_MODULE: set[tuple[str, str]] = set()  # (python, module) pairs seen importable; never stale-negative


def configured_python(settings: Settings, engine: str) -> str | None:
    """The interpreter set for `engine` in settings, else one installed under data_dir/engines."""
    cfg = settings.engines.get(engine)
    if cfg and cfg.python:
        return cfg.python
    local = settings.data_dir / "engines" / engine / "bin" / "python"
    return str(local) if local.exists() else None


def engine_python(settings: Settings, engine: str) -> str:
    """The interpreter that runs `engine`: the configured one, else this one."""
    return configured_python(settings, engine) or sys.executable


def configured_command(settings: Settings, engine: str, binary: str) -> list[str] | None:
    """argv prefix for a binary engine: the configured command line, else `binary` on PATH."""
    cfg = settings.engines.get(engine)
    if cfg and cfg.command:
        return shlex.split(cfg.command)
    found = shutil.which(binary)
    return [found] if found else None


def has_module(python: str, module: str) -> bool:
    """Whether `python` can import `module` (checked without importing it; a subprocess for others)."""
    if (python, module) in _HAS_MODULE:
        return True
    # Not resolve(): a venv's python is a symlink to the base interpreter, yet imports differently.
    if Path(python).absolute() == Path(sys.executable).absolute():
        ok = importlib.util.find_spec(module) is not None
    else:
        code = f"import importlib.util,sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
        try:
            ok = subprocess.run([python, "-c", code], check=False, capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
    if ok:
        _HAS_MODULE.add((python, module))
    return ok


def python_module_availability(
    settings: Settings, engine: str, module: str, install_hint: str
) -> Availability:
    """An engine run as `python -m module`: available when its interpreter can import the module."""
    env_name = f"MODELSERVE_ENGINES__{engine.upper()}__PYTHON"
    python = configured_python(settings, engine)
    if python:
        if not (Path(python).exists() or shutil.which(python)):
            return Availability(False, f"configured interpreter {python} does not exist ({env_name})")
        if has_module(python, module):
            return Availability(True, f"module {module} in {python}")
        return Availability(False, f"interpreter {python} cannot import {module}: {install_hint}")
    if has_module(sys.executable, module):
        return Availability(True, f"module {module} in {sys.executable}")
    return Availability(False, f"{install_hint}, or set {env_name} to an interpreter that has it")
