"""Follow a run until it settles, with a spinner showing its state and latest event message.

Polls `GET /runs/{id}` and `GET /runs/{id}/events` through the SDK; prints each state change.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.text import Text

from modelserve.cli.output import short_id, state_text
from modelserve.sdk import Run, WaitTimeout
from modelserve.sdk.status import SETTLED_STATES


def watch_run(run: Run, console: Console, *, timeout: float, interval: float = 1.0) -> Run:
    """Poll `run` until RUNNING, ERROR, STOPPED or DELETED and return it.

    Raises WaitTimeout after `timeout` seconds (the run is left as is). KeyboardInterrupt
    propagates to the caller, which says how to stop the run.
    """
    started = time.monotonic()
    last_state: str | None = None
    with console.status(f"Waiting for run {short_id(run.id)}") as spinner:
        while True:
            run.refresh()
            events = run.events()
            state = run.status.state
            latest = str((events[-1].get("message") if events else None) or run.status.message or "")
            if state != last_state:
                console.print(Text.assemble("  ", state_text(state), "  ", str(run.status.message or "")))
                last_state = state
            elapsed = int(time.monotonic() - started)
            spinner.update(Text.assemble(state_text(state), f"  {latest}  ({elapsed}s)"))
            if state in SETTLED_STATES:
                return run
            if time.monotonic() - started >= timeout:
                exc = WaitTimeout(f"run {run.id} is still {state} after {timeout:g} s")
                exc.run = run
                raise exc
            time.sleep(interval)
