"""The CLI's shared state: which server to talk to (global `--url`, else MODELSERVE_URL)."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from modelserve.sdk import Client


@dataclass(frozen=True)
class CliState:
    url: str | None = None  # None: the SDK default (MODELSERVE_URL, else http://127.0.0.1:8000)

    def client(self, poll_interval: float = 1.0) -> Client:
        return Client(self.url, poll_interval=poll_interval)


def cli_state(ctx: typer.Context) -> CliState:
    """The CliState stored by the root callback."""
    root = ctx.find_root()
    return root.obj if isinstance(root.obj, CliState) else CliState()
