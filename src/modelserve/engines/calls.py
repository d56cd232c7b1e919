"""Make a LaunchPlan's HTTP calls (post-start steps, adapter load/unload) against a replica.

Used by executors after readiness and by tests; only httpx and the error hierarchy.
"""

from __future__ import annotations

import httpx

from modelserve.engines.base import HttpCall
from modelserve.errors import UpstreamError, UpstreamTimeout


class EngineRefused(UpstreamError):
    """The engine answered a call with a non-2xx status (`status_code`); the message is its own."""

    def __init__(self, message: str, *, status_code: int, engine_message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.engine_message = engine_message


async def perform(call: HttpCall, port: int, client: httpx.AsyncClient) -> httpx.Response:
    """Send `call` to the replica on 127.0.0.1:`port`; return the 2xx response.

    Raises EngineRefused (an UpstreamError) naming the engine's own message on a non-2xx answer,
    UpstreamError for a refused connection, UpstreamTimeout when the call outlives `call.timeout_s`.
    """
    url = f"http://127.0.0.1:{port}{call.path}"
    try:
        resp = await client.request(call.method, url, json=call.json, timeout=call.timeout_s)
    except httpx.TimeoutException as exc:
        raise UpstreamTimeout(f"{call.method} {call.path} took longer than {call.timeout_s:g} s") from exc
    except httpx.HTTPError as exc:
        raise UpstreamError(f"{call.method} {call.path} failed: {exc}") from exc
    if resp.is_success:
        return resp
    said = engine_message(resp)
    raise EngineRefused(
        f"{call.method} {call.path} answered {resp.status_code}: {said}",
        status_code=resp.status_code,
        engine_message=said,
    )


async def perform_all(calls: tuple[HttpCall, ...], port: int, client: httpx.AsyncClient) -> None:
    """Send `calls` in order, stopping at the first failure (which raises as `perform` does)."""
    for call in calls:
        await perform(call, port, client)


def engine_message(resp: httpx.Response) -> str:
    """The error text an engine put in its answer: `error.message`, `error`, `detail`, or the body."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text.strip()[:500] or resp.reason_phrase
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if err:
            return str(err)
        if body.get("detail"):
            return str(body["detail"])
    return resp.text.strip()[:500]
