"""Where engine interpreters are found, and whether they can import the engine: what `available()` reports."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from modelserve.engines import ENGINES
from modelserve.engines.locate import configured_python, has_module, python_module_availability
from modelserve.settings import Settings


def _fake_install(data_dir: Path, engine: str) -> Path:
    """An interpreter where install.sh --dir <data_dir>/engines would put it (a link to this Python)."""
    python = data_dir / "engines" / engine / "bin" / "python"
    python.parent.mkdir(parents=True)
    os.symlink(sys.executable, python)
    return python


def test_interpreter_under_data_dir_is_found(tmp_path: Path) -> None:
    python = _fake_install(tmp_path, "infinity")
    assert configured_python(Settings(data_dir=tmp_path), "infinity") == str(python)
    assert configured_python(Settings(data_dir=tmp_path), "vllm") is None


def test_configured_interpreter_wins(tmp_path: Path) -> None:
    _fake_install(tmp_path, "vllm")
    settings = Settings(data_dir=tmp_path, engines={"vllm": {"python": "/opt/v/bin/python"}})
    assert configured_python(settings, "vllm") == "/opt/v/bin/python"


@pytest.mark.parametrize(("module", "ok"), [("json", True), ("no_such_module_zz", False)], ids=["stdlib", "missing"])
def test_module_checked_in_the_other_interpreter(tmp_path: Path, module: str, ok: bool) -> None:
    python = _fake_install(tmp_path, "x")
    assert has_module(str(python), module) is ok
    found = python_module_availability(Settings(data_dir=tmp_path), "x", module, "pip install it")
    assert found.ok is ok
    assert str(python) in found.detail
    if not ok:
        assert "cannot import no_such_module_zz: pip install it" in found.detail


def test_missing_configured_interpreter_names_the_variable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, engines={"vllm": {"python": str(tmp_path / "nope")}})
    found = ENGINES["vllm"].available(settings)
    assert not found.ok
    assert "does not exist" in found.detail and "MODELSERVE_ENGINES__VLLM__PYTHON" in found.detail


def test_ollama_command_is_configurable(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, engines={"ollama": {"command": f"{sys.executable} -m fake serve"}})
    found = ENGINES["ollama"].available(settings)
    assert found.ok and sys.executable in found.detail
