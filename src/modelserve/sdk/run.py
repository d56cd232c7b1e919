"""`Run`: one `serve` action of a function version, as seen through the control-plane REST API.

Lifecycle calls (refresh, wait, stop, resume, delete), logs and events, and `invoke` for
calling the served model. Imports only the SDK session/status and `modelserve.errors`.
"""

from __future__ import annotations

import copy
import sys
import time
from typing import Any

import httpx

from modelserve import errors
from modelserve.sdk.session import API_PREFIX, ApiSession, WaitTimeout, error_from_response
from modelserve.sdk.status import (
    SETTLED_STATES,
    RunStatus,
    check_invoke_url,
    default_invoke_url,
    run_urls,
)

INVOKE_TIMEOUT_S = 600.0
ADAPTER_TIMEOUT_S = 1800.0  # an adapter url may be downloaded before every replica loads it


class Run:
    """A run. Attributes mirror the server's run object; `status` is a `RunStatus`."""

    def __init__(self, session: ApiSession, data: dict[str, Any]) -> None:
        self._session = session
        self._update(data)

    def _update(self, data: dict[str, Any]) -> None:
        self._data = dict(data)
        self.id: str = data["id"]
        self.project: str = data.get("project", "")
        self.function: str = data.get("function", "")
        self.function_version: int | None = data.get("function_version")
        self.kind: str = data.get("kind", "")
        self.action: str = data.get("action", "serve")
        self.spec: dict[str, Any] = dict(data.get("spec") or {})
        self.desired: str | None = data.get("desired")
        self.status = RunStatus(data.get("status"))
        self.created_at: str | None = data.get("created_at")
        self.updated_at: str | None = data.get("updated_at")

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, function={self.function!r}, state={self.status.state!r})"

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._data)

    # -- lifecycle -------------------------------------------------------------------------

    def refresh(self) -> Run:
        """Re-read the run from the server; returns self."""
        self._update(self._session.get_json(f"/runs/{self.id}"))
        return self

    def wait(
        self,
        timeout: float | None = 600.0,
        *,
        log_info: bool = False,
        interval: float | None = None,
    ) -> Run:
        """Poll until the run is RUNNING, ERROR, STOPPED or DELETED and return self.

        An ERROR run is returned, not raised: check `run.status.state`. Raises `WaitTimeout`
        (its `.run` is this run) when `timeout` seconds pass first; None waits forever.
        With `log_info=True` each state change and new event is printed to stderr.
        """
        pause = self._session.poll_interval if interval is None else interval
        deadline = None if timeout is None else time.monotonic() + timeout
        seen_events = 0
        last_state: str | None = None
        while True:
            self.refresh()
            state = self.status.state
            if log_info:
                seen_events = self._log_progress(last_state, seen_events)
                last_state = state
            if state in SETTLED_STATES:
                return self
            if deadline is not None and time.monotonic() >= deadline:
                exc = WaitTimeout(
                    f"run {self.id} is still {state} after {timeout:g} s; it keeps going "
                    "(call run.wait() again, or run.stop())"
                )
                exc.run = self
                raise exc
            time.sleep(pause)

    def _log_progress(self, last_state: str | None, seen_events: int) -> int:
        if self.status.state != last_state:
            detail = f": {self.status.message}" if self.status.message else ""
            print(f"run {self.id[:8]} {self.status.state}{detail}", file=sys.stderr)
        events = self.events()
        for event in events[seen_events:]:
            print(f"  {event.get('event') or ''} {event.get('message') or ''}".rstrip(), file=sys.stderr)
        return len(events)

    def stop(self) -> Run:
        """Ask the server to stop the run (its replicas go away; it can be resumed); returns self."""
        self._update(self._session.post_json(f"/runs/{self.id}/stop"))
        return self

    def resume(self) -> Run:
        """Ask the server to serve a stopped run again; returns self."""
        self._update(self._session.post_json(f"/runs/{self.id}/resume"))
        return self

    def delete(self) -> Run:
        """Ask the server to delete the run and everything it started; returns self."""
        self._update(self._session.delete_json(f"/runs/{self.id}"))
        return self

    # -- adapters --------------------------------------------------------------------------

    def add_adapter(self, name: str, url: str) -> Run:
        """Serve LoRA adapter `name` (weights at `url`, any model url but ollama://) on this RUNNING
        run without restarting it, as model `<model>_<name>`; returns self, updated.

        Returns once every ready replica serves it. Raises InvalidRequest (bad name or url, an
        engine that cannot load adapters while it runs, or one that refuses this adapter),
        Conflict (the run is not RUNNING, or the name is taken), NotFound (unknown run).
        """
        response = self._session.send(
            "POST", f"{API_PREFIX}/runs/{self.id}/adapters", json={"name": name, "url": url},
            timeout=ADAPTER_TIMEOUT_S,
        )  # fmt: skip
        if response.is_error:
            raise error_from_response(response)
        self._update(response.json())
        return self

    def remove_adapter(self, name: str) -> Run:
        """Stop serving adapter `name` (requests already accepted finish); returns self, updated.

        Raises NotFound (unknown run or adapter), Conflict (the run is not RUNNING).
        """
        self._update(self._session.delete_json(f"/runs/{self.id}/adapters/{name}"))
        return self

    # -- observing -------------------------------------------------------------------------

    def logs(self, replica: int = 0, tail: int = 200) -> str:
        """The last `tail` lines of one replica's log."""
        response = self._session.call(
            "GET", f"/runs/{self.id}/logs", params={"replica": replica, "tail": tail}
        )
        return response.text

    def events(self) -> list[dict[str, Any]]:
        """The run's events, oldest first: `{"id", "run_id", "ts", "state", "event", "reason", "message"}`."""
        return list(self._session.get_json(f"/runs/{self.id}/events"))

    def list_endpoints(self) -> list[str]:
        """Every URL the run exposes, with `http://` added where the server gave none."""
        return run_urls(self.status)

    # -- calling the model -----------------------------------------------------------------

    def invoke(self, method: str = "POST", url: str | None = None, **kwargs: Any) -> httpx.Response:
        """Send an HTTP request to the served model and return the response (errors not raised).

        Default url: the OpenAI base URL + `/chat/completions` (or `/embeddings` etc. by the
        run's features). An explicit `url` must start with one of the run's URLs (InvalidRequest
        otherwise). The method becomes GET when neither `json` nor `data` is given. Other keyword
        arguments are those of `requests`/httpx (`json`, `data`, `headers`, `params`, `timeout`).
        """
        if not run_urls(self.status):
            self.refresh()
        if not run_urls(self.status):
            raise errors.NotReady(
                f"run {self.id} exposes no URL yet (state {self.status.state}); wait until it is RUNNING"
            )
        target = default_invoke_url(self.status) if url is None else check_invoke_url(url, self.status)
        if "json" not in kwargs and "data" not in kwargs:
            method = "GET"
        data = kwargs.pop("data", None)
        if isinstance(data, (str, bytes)):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = data
        kwargs.setdefault("timeout", INVOKE_TIMEOUT_S)
        return self._session.send(method.upper(), str(target), **kwargs)
