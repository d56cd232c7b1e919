"""The SDK and the CLI stay light: importing them loads no server or engine packages."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("fastapi", "uvicorn", "sqlalchemy", "torch", "transformers", "starlette")


def test_sdk_and_cli_import_without_server_packages() -> None:
    code = (
        "import sys, modelserve as ms\n"
        "ms.Client, ms.get_or_create_project, ms.errors.NotFound\n"
        "import modelserve.cli.main\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_importing_errors_does_not_load_the_sdk() -> None:
    code = "import sys, modelserve.errors\nprint('httpx' in sys.modules, 'modelserve.sdk' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False False"
