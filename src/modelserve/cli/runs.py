"""`modelserve runs ...`: list, inspect, stop, resume, delete runs; their logs and events.

A RUN_ID may be a unique prefix of at least 6 characters. Talks to the server only via the SDK.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.text import Text

from modelserve.cli.context import cli_state
from modelserve.cli.output import (
    events_table,
    out_console,
    print_json,
    reporting_errors,
    runs_table,
    short_id,
    state_text,
)
from modelserve.sdk import Client, Run

app = typer.Typer(help="List and manage runs.", no_args_is_help=True)

RunId = Annotated[str, typer.Argument(help="Run id or a unique prefix (at least 6 characters).")]


def _run(client: Client, ref: str) -> Run:
    return client.get_run(client.resolve_run_id(ref))


@app.command("list")
def list_runs(
    ctx: typer.Context,
    project: Annotated[str | None, typer.Option("--project", "-p", help="Only this project's runs.")] = None,
) -> None:
    """Show runs as a table."""
    with reporting_errors(), cli_state(ctx).client() as client:
        runs = client.list_runs(project)
        if not runs:
            out_console().print(Text("No runs. Start one with: modelserve serve", style="dim"))
            return
        out_console().print(runs_table(runs))


@app.command("get")
def get(ctx: typer.Context, run_id: RunId) -> None:
    """Print a run as JSON."""
    with reporting_errors(), cli_state(ctx).client() as client:
        print_json(_run(client, run_id).to_dict())


def _act(ctx: typer.Context, ref: str, action: str) -> None:
    with reporting_errors(), cli_state(ctx).client() as client:
        run = _run(client, ref)
        run = {"stop": run.stop, "resume": run.resume, "delete": run.delete}[action]()
        out_console().print(
            Text.assemble(
                f"Run {short_id(run.id)}: {action} requested (state ", state_text(run.status.state), ")"
            )
        )


@app.command("stop")
def stop(ctx: typer.Context, run_id: RunId) -> None:
    """Stop a run (its replicas go away; `resume` brings it back)."""
    _act(ctx, run_id, "stop")


@app.command("resume")
def resume(ctx: typer.Context, run_id: RunId) -> None:
    """Serve a stopped run again."""
    _act(ctx, run_id, "resume")


@app.command("delete")
def delete(ctx: typer.Context, run_id: RunId) -> None:
    """Delete a run and everything it started."""
    _act(ctx, run_id, "delete")


@app.command("add-adapter")
def add_adapter(
    ctx: typer.Context,
    run_id: RunId,
    name: Annotated[str, typer.Argument(help="Adapter name ([a-z0-9-]); clients send <model>_<name>.")],
    url: Annotated[str, typer.Argument(help="Where the adapter is: a path, file://, hf:// or s3:// url.")],
) -> None:
    """Serve a LoRA adapter on a RUNNING run, without restarting it."""
    with reporting_errors(), cli_state(ctx).client() as client:
        run = _run(client, run_id).add_adapter(name, url)
        model = next((a["model"] for a in run.status.openai.get("adapters") or [] if a["name"] == name), name)
        out_console().print(Text(f"Run {short_id(run.id)}: adapter {name} served as model {model}"))


@app.command("remove-adapter")
def remove_adapter(
    ctx: typer.Context,
    run_id: RunId,
    name: Annotated[str, typer.Argument(help="Adapter name.")],
) -> None:
    """Stop serving a LoRA adapter on a RUNNING run (requests already accepted finish)."""
    with reporting_errors(), cli_state(ctx).client() as client:
        run = _run(client, run_id).remove_adapter(name)
        out_console().print(Text(f"Run {short_id(run.id)}: adapter {name} removed"))


@app.command("events")
def events(ctx: typer.Context, run_id: RunId) -> None:
    """Show a run's events, oldest first."""
    with reporting_errors(), cli_state(ctx).client() as client:
        out_console().print(events_table(_run(client, run_id).events()))


@app.command("logs")
def logs(
    ctx: typer.Context,
    run_id: RunId,
    replica: Annotated[int, typer.Option(help="Replica index.")] = 0,
    tail: Annotated[int, typer.Option(help="Number of last lines.")] = 200,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines (Ctrl-C ends).")
    ] = False,
    poll_interval: Annotated[float, typer.Option(hidden=True)] = 1.0,
) -> None:
    """Print the last lines of a replica's log."""
    with reporting_errors(), cli_state(ctx).client() as client:
        run = _run(client, run_id)
        lines = run.logs(replica=replica, tail=tail).splitlines()
        for line in lines:
            typer.echo(line)
        if not follow:
            return
        try:
            while True:
                time.sleep(poll_interval)
                current = run.logs(replica=replica, tail=max(tail, 1000)).splitlines()
                for line in new_lines(lines, current):
                    typer.echo(line)
                lines = current
        except KeyboardInterrupt:
            return


def new_lines(previous: list[str], current: list[str], anchor_size: int = 20) -> list[str]:
    """The lines of `current` that follow the last lines of `previous` (all of it if they are gone)."""
    if not previous:
        return current
    anchor = previous[-anchor_size:]
    size = len(anchor)
    for end in range(len(current), size - 1, -1):
        if current[end - size : end] == anchor:
            return current[end:]
    return current
