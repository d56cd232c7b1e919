"""The `modelserve` typer app: the global `--url` option and the command registry."""

from __future__ import annotations

from typing import Annotated

import typer

from modelserve.cli import keys, runs, serve, up
from modelserve.cli.context import CliState

app = typer.Typer(
    name="modelserve",
    help="Serve LLMs behind one OpenAI-compatible endpoint, from a laptop to a cluster.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            envvar="MODELSERVE_URL",
            help="Server URL (default: MODELSERVE_URL or http://127.0.0.1:8000).",
            show_envvar=False,
        ),
    ] = None,
) -> None:
    ctx.obj = CliState(url=url)


app.command("up")(up.up)
app.command("serve")(serve.serve)
app.command("demo")(serve.demo)
app.add_typer(runs.app, name="runs")
app.add_typer(keys.app, name="keys")
