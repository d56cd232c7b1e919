"""`modelserve up`: run the server (API, gateway, console) in the foreground.

Builds `Settings` from the environment plus the flags; imports the server lazily (it needs the
`server` extra).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from modelserve.cli.output import err_console, print_error
from modelserve.settings import Settings


def build_settings(
    host: str | None = None,
    port: int | None = None,
    data_dir: Path | None = None,
    database_url: str | None = None,
) -> Settings:
    """Settings from MODELSERVE_* variables, with each flag that was given taking precedence."""
    flags: dict[str, Any] = {"host": host, "port": port, "data_dir": data_dir, "database_url": database_url}
    return Settings(**{key: value for key, value in flags.items() if value is not None})


def up(
    host: Annotated[
        str | None, typer.Option(help="Address to bind (default: MODELSERVE_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: MODELSERVE_PORT or 8000).")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the database, logs and models live (default: ~/.modelserve).")
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL of the store (default: SQLite in the data dir).")
    ] = None,
) -> None:
    """Run the modelserve server in the foreground (Ctrl-C stops it)."""
    settings = build_settings(host, port, data_dir, database_url)
    try:
        from modelserve.server import run_server
    except ImportError as exc:
        print_error(f"the server cannot load ({exc}).", "Install it with: pip install 'modelserve[server]'")
        raise typer.Exit(1) from None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    err_console().print(
        Text(
            f"modelserve at {settings.base_url} (data in {settings.data_dir}); console: {settings.base_url}/console",
            style="bold",
        )
    )
    run_server(settings)
