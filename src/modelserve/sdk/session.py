"""The HTTP session to the control-plane REST API (`/api/v1`): JSON calls, errors mapped back.

Owns the base URL, timeouts and the mapping of error responses (the OpenAI envelope) to
`modelserve.errors`. Imports only httpx and `modelserve.errors`; never server packages.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from typing_extensions import Self

from modelserve import errors

DEFAULT_URL = "http://127.0.0.1:8000"
API_PREFIX = "/api/v1"

_BY_STATUS: dict[int, type[errors.ModelServeError]] = {
    cls.status: cls
    for cls in (
        errors.InvalidRequest,
        errors.Unauthorized,
        errors.Forbidden,
        errors.NotFound,
        errors.Conflict,
        errors.Overloaded,
        errors.NotReady,
        errors.UpstreamError,
        errors.UpstreamTimeout,
    )
}


class ServerUnreachable(errors.ModelServeError, ConnectionError):
    """No modelserve server answers at the configured URL (connection refused, DNS, reset)."""

    status = 503
    type = "connection_error"


class WaitTimeout(errors.ModelServeError, TimeoutError):
    """`Run.wait` gave up before the run reached a settled state; `.run` is the last view of it."""

    status = 504
    type = "wait_timeout"
    run: Any = None


def unreachable_message(base_url: str) -> str:
    return (
        f"No modelserve server answers at {base_url}. Start one with `modelserve up` "
        "(or point MODELSERVE_URL / --url at a running server)."
    )


def normalize_base_url(url: str) -> str:
    """Server root URL without a trailing slash or `/api/v1` (both spellings are accepted)."""
    url = url.strip().rstrip("/").removesuffix(API_PREFIX)
    if "://" not in url:
        url = "http://" + url
    return url


def error_from_response(response: httpx.Response) -> errors.ModelServeError:
    """Build the `modelserve.errors` class matching the status, keeping message, param and code."""
    message, param, code = _error_fields(response)
    cls = _BY_STATUS.get(response.status_code)
    if cls is None:
        cls = errors.InvalidRequest if 400 <= response.status_code < 500 else errors.ModelServeError
    retry_after: float | None = None
    header = response.headers.get("retry-after")
    if header:
        try:
            retry_after = float(header)
        except ValueError:
            retry_after = None
    return cls(message, param=param, code=code, retry_after=retry_after)


def _error_fields(response: httpx.Response) -> tuple[str, str | None, str | None]:
    fallback = f"HTTP {response.status_code} {response.reason_phrase}".strip()
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        return (text[:500] or fallback), None, None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        code = err.get("code")
        return (
            str(err.get("message") or fallback),
            err.get("param"),
            None if code is None else str(code),
        )
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"]), None, None
    return fallback, None, None


class ApiSession:
    """A connection to one modelserve server. Close it (or use it as a context manager) when done.

    `base_url` defaults to the `MODELSERVE_URL` environment variable, else http://127.0.0.1:8000.
    `timeout` bounds each control-plane call; `poll_interval` is the pause between polls in waits.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = 30.0,
        poll_interval: float = 1.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        # The client constructor is an entry point: the one place the SDK reads the environment.
        self.base_url = normalize_base_url(base_url or os.environ.get("MODELSERVE_URL") or DEFAULT_URL)
        self.timeout = timeout
        self.poll_interval = poll_interval
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """Send one control-plane request (`path` below `/api/v1`); raise the mapped error on 4xx/5xx."""
        kwargs: dict[str, Any] = {}
        if params:
            kwargs["params"] = {k: v for k, v in params.items() if v is not None}
        if json is not None:
            kwargs["json"] = json
        response = self.send(method, API_PREFIX + path, **kwargs)
        if response.is_error:
            raise error_from_response(response)
        return response

    def get_json(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params).json()

    def post_json(self, path: str, body: Any = None, **params: Any) -> Any:
        return self.call("POST", path, params=params, json=body).json()

    def delete_json(self, path: str) -> Any:
        return self.call("DELETE", path).json()

    def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send any request (relative to the server or absolute) with transport errors mapped.

        Returns the response whatever its status: callers decide what an error status means.
        """
        try:
            return self._http.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ServerUnreachable(unreachable_message(self.base_url)) from exc
        except httpx.TimeoutException as exc:
            raise errors.UpstreamTimeout(f"no answer from {self.base_url} in time ({exc})") from exc
        except httpx.TransportError as exc:
            raise ServerUnreachable(f"lost the connection to {self.base_url}: {exc}") from exc
