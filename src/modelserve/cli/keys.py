"""`modelserve keys ...`: create (the key is printed once), list, revoke API keys; show usage.

A KEY_ID may be a unique prefix of at least 4 characters. Talks to the server's /api/v1 only,
through the SDK's HTTP session.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from modelserve import errors
from modelserve.cli.context import cli_state
from modelserve.cli.output import age, err_console, out_console, print_json, reporting_errors
from modelserve.sdk import Client

app = typer.Typer(help="Create, list and revoke API keys for the OpenAI endpoints.", no_args_is_help=True)

MIN_PREFIX = 4
KeyId = Annotated[str, typer.Argument(help="Key id or a unique prefix (at least 4 characters).")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def resolve_key_id(client: Client, ref: str) -> str:
    """The full id for `ref` (an id or a unique prefix). InvalidRequest / NotFound otherwise."""
    ref = ref.strip().lower()
    if len(ref) < MIN_PREFIX:
        raise errors.InvalidRequest(f"key id {ref!r} is too short: give at least {MIN_PREFIX} characters")
    matches = [k["id"] for k in client.get_json("/keys") if str(k["id"]).startswith(ref)]
    if not matches:
        raise errors.NotFound(f"no API key id starts with {ref}")
    if len(matches) > 1:
        raise errors.InvalidRequest(
            f"{ref} matches {len(matches)} keys ({', '.join(matches)}); give more characters"
        )
    return str(matches[0])


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name to recognise the key by.")],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", "-m", help="A model the key may use (repeatable; default: every model)."),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option("--rpm", min=1, help="Requests per minute (default: unlimited).")
    ] = None,
    tpm: Annotated[
        int | None, typer.Option("--tpm", min=1, help="Tokens per minute (default: unlimited).")
    ] = None,
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Only this project's models.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the key.")] = False,
) -> None:
    """Create a key and print it. It is shown this one time only."""
    body = {"name": name, "models": model or [], "rpm": rpm, "tpm": tpm, "project": project}
    with reporting_errors(), cli_state(ctx).client() as client:
        created = client.post_json("/keys", body)
    if quiet:
        typer.echo(created["key"])
        return
    console = out_console()
    console.print(Text.assemble("Created API key ", (created["id"], "bold"), f" ({created['name']}):"))
    typer.echo(created["key"])  # plain, so it is never wrapped or styled when copied
    err_console().print(
        Text("Store this key now: it is shown only once and cannot be recovered.", style="bold yellow")
    )
    console.print(
        Text("Send it as 'Authorization: Bearer <key>' (the OpenAI client's api_key).", style="dim")
    )


@app.command("list")
def list_keys(ctx: typer.Context, as_json: JsonOut = False) -> None:
    """Show keys (never the keys themselves: KEY shows their first and last characters)."""
    with reporting_errors(), cli_state(ctx).client() as client:
        keys = client.get_json("/keys")
    if as_json:
        print_json(keys)
        return
    if not keys:
        out_console().print(Text("No API keys. Create one with: modelserve keys create NAME", style="dim"))
        return
    out_console().print(keys_table(keys))


def keys_table(keys: list[dict[str, Any]]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False)
    for column in ("ID", "NAME", "KEY", "PROJECT", "MODELS", "RPM", "TPM", "STATUS", "AGE", "LAST USED"):
        table.add_column(column, no_wrap=column not in ("NAME", "MODELS"))
    for key in keys:
        status = Text("active", style="green") if key["active"] else Text("revoked", style="dim")
        table.add_row(
            key["id"],
            key["name"],
            key["hint"],
            key.get("project") or "",
            ", ".join(key.get("models") or []) or "all",
            _limit(key.get("rpm")),
            _limit(key.get("tpm")),
            status,
            age(key.get("created_at")),
            age(key.get("last_used_at")) or "never",
        )
    return table


def _limit(value: int | None) -> str:
    return "-" if value is None else str(value)


@app.command("revoke")
def revoke(ctx: typer.Context, key_id: KeyId) -> None:
    """Revoke a key: requests with it are refused from now on."""
    with reporting_errors(), cli_state(ctx).client() as client:
        key = client.delete_json(f"/keys/{resolve_key_id(client, key_id)}")
    out_console().print(Text.assemble("API key ", (key["id"], "bold"), f" ({key['name']}) revoked."))


@app.command("usage")
def usage(
    ctx: typer.Context,
    key_id: Annotated[str | None, typer.Argument(help="Key id or prefix (default: every key).")] = None,
    since: Annotated[str | None, typer.Option(help="Only usage since this ISO-8601 time.")] = None,
    as_json: JsonOut = False,
) -> None:
    """Show requests and tokens per key and model."""
    with reporting_errors(), cli_state(ctx).client() as client:
        names = {k["id"]: k["name"] for k in client.get_json("/keys")}
        if key_id is None:
            summary = client.get_json("/usage", since=since)
        else:
            summary = client.get_json(f"/keys/{resolve_key_id(client, key_id)}/usage", since=since)
    if as_json:
        print_json(summary)
        return
    if not summary["models"]:
        out_console().print(Text("No usage recorded.", style="dim"))
        return
    out_console().print(usage_table(summary, names))


def usage_table(summary: dict[str, Any], names: dict[str, str]) -> Table:
    table = Table(box=None, header_style="bold", pad_edge=False, show_footer=True)
    columns = ("KEY", "NAME", "MODEL", "REQUESTS", "PROMPT", "COMPLETION", "TOTAL")
    footers = (
        "total",
        "",
        "",
        *(str(summary[f]) for f in ("requests", "prompt_tokens", "completion_tokens", "total_tokens")),
    )
    for column, footer in zip(columns, footers):
        table.add_column(column, footer=footer, justify="right" if footer.isdigit() else "left", no_wrap=True)
    for row in summary["models"]:
        table.add_row(
            row["key_id"],
            names.get(row["key_id"], ""),
            row["model"],
            *(str(row[f]) for f in ("requests", "prompt_tokens", "completion_tokens", "total_tokens")),
        )
    return table
