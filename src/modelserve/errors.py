"""The one error hierarchy, rendered everywhere as the OpenAI error envelope.

    ModelServeError (500 internal_error)
    ├── InvalidRequest (400 invalid_request_error)  — bad input; `param` names the field
    ├── Unauthorized (401) / Forbidden (403)
    ├── NotFound (404 not_found_error)              — unknown model, run, project
    ├── Conflict (409 conflict_error)               — e.g. an action the run's state forbids
    ├── Overloaded (429 rate_limit_error)           — queue full; carries Retry-After
    ├── NotReady (503 service_unavailable)          — no ready replica yet; carries Retry-After
    ├── UpstreamError (502 upstream_error)
    └── UpstreamTimeout (504 upstream_timeout)

Imports nothing from the project.
"""

from __future__ import annotations

from typing import Any, ClassVar


class ModelServeError(Exception):
    """Base error. `code` is a string or None; `param` names the offending field path."""

    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.retry_after = retry_after

    def envelope(self) -> dict[str, Any]:
        """The OpenAI error envelope: {"error": {"message", "type", "param", "code"}}."""
        return error_envelope(self.message, self.type, self.param, self.code)

    def headers(self) -> dict[str, str]:
        if self.retry_after is None:
            return {}
        return {"Retry-After": str(max(1, int(round(self.retry_after))))}


class InvalidRequest(ModelServeError):
    status = 400
    type = "invalid_request_error"


class Unauthorized(ModelServeError):
    status = 401
    type = "authentication_error"


class Forbidden(ModelServeError):
    status = 403
    type = "permission_error"


class NotFound(ModelServeError):
    status = 404
    type = "not_found_error"


class Conflict(ModelServeError):
    status = 409
    type = "conflict_error"


class Overloaded(ModelServeError):
    status = 429
    type = "rate_limit_error"


class NotReady(ModelServeError):
    status = 503
    type = "service_unavailable"


class UpstreamError(ModelServeError):
    status = 502
    type = "upstream_error"


class UpstreamTimeout(ModelServeError):
    status = 504
    type = "upstream_timeout"


def error_envelope(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """Render a pydantic error location as a dotted path: ('scaling', 'replicas') -> 'scaling.replicas'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def from_validation_error(exc: Any, *, prefix: str = "") -> InvalidRequest:
    """Turn a pydantic ValidationError into an InvalidRequest naming the first bad field.

    The message lists every problem so a user fixes them in one go.
    """
    problems = []
    first_param: str | None = None
    for err in exc.errors():
        loc = [p for p in err.get("loc", ()) if not (isinstance(p, str) and p.startswith("function-"))]
        path = field_path(tuple(loc))
        if prefix:
            path = f"{prefix}.{path}" if path else prefix
        if first_param is None:
            first_param = path or None
        msg = err.get("msg", "invalid value")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        problems.append(f"{path or '<root>'}: {msg}")
    return InvalidRequest("; ".join(problems), param=first_param, code="invalid_value")
