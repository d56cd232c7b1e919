"""Terminal rendering for the CLI: consoles, error lines, run tables, the "ready" panel and examples.

Pure presentation over SDK objects; no HTTP calls. Imports rich and the SDK types only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import typer
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from modelserve import errors
from modelserve.sdk import Run
from modelserve.sdk.status import feature_path

SHORT_ID = 8


def out_console() -> Console:
    """A console on stdout; built per command so the terminal width is read at that moment."""
    return Console(highlight=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_error(message: str, hint: str | None = None) -> None:
    console = err_console()
    console.print(Text.assemble(("Error: ", "bold red"), message))
    if hint:
        console.print(Text(hint, style="dim"))


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn a `modelserve.errors` exception into one red line on stderr and exit code 1."""
    try:
        yield
    except errors.ModelServeError as exc:
        print_error(f"{exc.message}{field_hint(exc)}")
        raise typer.Exit(1) from None


def field_hint(exc: errors.ModelServeError) -> str:
    """' (field spec.url)' for a bad-input error whose message does not name the field already."""
    if (
        isinstance(exc, errors.InvalidRequest)
        and exc.param
        and exc.param not in exc.message
        and exc.param != "run_id"
    ):
        return f" (field {exc.param})"
    return ""


def short_id(run_id: str) -> str:
    return run_id[:SHORT_ID]


def age(timestamp: str | None, now: datetime | None = None) -> str:
    """'42s', '5m', '3h', '2d' since an ISO-8601 timestamp; '' when it cannot be read."""
    if not timestamp:
        return ""
    try:
        then = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_STATE_STYLES = {"RUNNING": "green", "ERROR": "red", "STOPPED": "yellow", "DELETED": "dim"}


def state_text(state: str | None) -> Text:
    return Text(state or "?", style=_STATE_STYLES.get(state or "", "cyan"))


def runs_table(runs: list[Run]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("ID", "PROJECT", "FUNCTION", "KIND", "STATE", "MODEL", "REPLICAS", "AGE"):
        table.add_column(column, no_wrap=column in ("ID", "KIND", "STATE", "REPLICAS", "AGE"))
    for run in runs:
        replicas = run.status.replicas
        table.add_row(
            short_id(run.id),
            run.project,
            run.function,
            run.kind,
            state_text(run.status.state),
            str(run.status.openai.get("model") or ""),
            f"{replicas.get('ready', 0)}/{replicas.get('desired', 0)}",
            age(run.created_at),
        )
    return table


def events_table(events: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("TIME", "STATE", "EVENT", "REASON", "MESSAGE"):
        table.add_column(column, no_wrap=column != "MESSAGE")
    for event in events:
        table.add_row(
            str(event.get("ts") or "")[:19].replace("T", " "),
            state_text(event.get("state")),
            str(event.get("event") or ""),
            str(event.get("reason") or ""),
            Text(str(event.get("message") or "")),
        )
    return table


def print_json(data: Any) -> None:
    # Plain print (not rich) so the output stays valid JSON whatever the terminal width.
    typer.echo(json.dumps(data, indent=2, sort_keys=True))


def ready_panel(run: Run, server_url: str) -> Panel:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row("Run", run.id)
    grid.add_row("Base URL", str(run.status.openai.get("baseUrl") or ""))
    grid.add_row("Model", str(run.status.openai.get("model") or ""))
    grid.add_row("Console", f"{server_url}/console/runs/{run.id}")
    title = Text.assemble((run.function, "bold"), " is ", ("RUNNING", "bold green"))
    return Panel(grid, title=title, title_align="left", expand=False)


def examples(run: Run) -> tuple[str, str]:
    """A ready-to-paste (curl, python) pair calling the run through its OpenAI base URL."""
    base = str(run.status.openai.get("baseUrl") or "")
    model = str(run.status.openai.get("model") or "")
    route = feature_path(run.status)
    if route == "/embeddings":
        body: dict[str, Any] = {"model": model, "input": "Hello!"}
        call = f'client.embeddings.create(model="{model}", input="Hello!").data[0].embedding[:8]'
    elif route == "/audio/transcriptions":
        curl = f"curl {base}/audio/transcriptions -F model={model} -F file=@audio.wav"
        call = f'client.audio.transcriptions.create(model="{model}", file=open("audio.wav", "rb")).text'
        return curl, _python(base, call)
    else:
        route = "/chat/completions"
        body = {"model": model, "messages": [{"role": "user", "content": "Hello!"}]}
        call = (
            f'client.chat.completions.create(model="{model}", '
            'messages=[{"role": "user", "content": "Hello!"}]).choices[0].message.content'
        )
    curl = f"curl {base}{route} \\\n  -H 'Content-Type: application/json' \\\n  -d '{json.dumps(body)}'"
    return curl, _python(base, call)


def _python(base: str, call: str) -> str:
    return f'from openai import OpenAI\nclient = OpenAI(base_url="{base}", api_key="none")\nprint({call})'


def print_ready(run: Run, server_url: str) -> None:
    console = out_console()
    console.print(ready_panel(run, server_url))
    curl, python = examples(run)
    # soft_wrap: long lines are left to the terminal, so copy-paste gets them whole.
    console.print(Text("curl:", style="bold"))
    console.print(Text(curl), soft_wrap=True)
    console.print(Text("python:", style="bold"))
    console.print(Text(python), soft_wrap=True)
    console.print(Text(f"Stop it with: modelserve runs stop {short_id(run.id)}", style="dim"))


def print_failed(run: Run, events: list[dict[str, Any]], last: int = 8) -> None:
    console = err_console()
    console.print(
        Text.assemble(
            ("Run ", "bold red"),
            (short_id(run.id), "bold"),
            (" failed: ", "bold red"),
            str(run.status.message or "no message"),
        )
    )
    if events:
        console.print(events_table(events[-last:]))
    console.print(Text(f"Logs: modelserve runs logs {short_id(run.id)}", style="dim"))
