"""The import direction of docs/design.md holds: checked on the source, module by module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "modelserve"

# package → packages of modelserve it must never import
FORBIDDEN = {
    "gateway": {"control", "executors", "api", "server", "cli", "sdk", "builtin"},
    "builtin": {"control", "executors", "api", "server", "cli", "sdk", "gateway", "store", "spec",
                "runtimes", "engines", "sources", "auth", "ui"},
    "sdk": {"control", "executors", "api", "server", "gateway", "builtin", "store", "runtimes", "engines"},
    "spec": {"control", "executors", "api", "server", "gateway", "builtin", "store", "cli", "sdk"},
    "store": {"control", "executors", "api", "server", "gateway", "builtin", "cli", "sdk"},
    "engines": {"control", "executors", "api", "server", "gateway", "cli", "sdk"},
    "runtimes": {"control", "executors", "api", "server", "gateway", "cli", "sdk", "builtin"},
    "executors": {"control", "api", "server", "gateway", "cli", "sdk"},
    "control": {"api", "server", "gateway", "cli", "sdk"},
    "protocol": {"control", "executors", "api", "server", "gateway", "builtin", "store", "cli", "sdk"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "modelserve" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN), ids=sorted(FORBIDDEN))
def test_package_does_not_import_upward(package: str) -> None:
    offenders = []
    for path in sorted((SRC / package).rglob("*.py")):
        bad = imported_packages(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(SRC)} imports {sorted(bad)}")
    assert offenders == []
