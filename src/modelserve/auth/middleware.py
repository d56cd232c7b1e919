"""ApiKeyMiddleware: pure ASGI, guards the OpenAI paths (/openai/v1/, /v1/, /runs/{id}/v1/).

Order of checks: key (401), model allowed (403), requests/min and tokens/min (429 with
Retry-After). When the key restricts models, the request body is read once to find `model` and
replayed to the app through a wrapped `receive`; later `receive` calls reach the server, so the
app still sees the client disconnect. Responses pass through untouched (streaming stays
streaming). The key's id goes to `scope["state"]["modelserve.key_id"]` for usage accounting.
Never logs a key. Imports `auth.*` and `errors` from the project.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from modelserve import errors
from modelserve.auth.access import ModelResolver, check_access, names_only, restricted
from modelserve.auth.authenticator import KeyAuthenticator

STATE_KEY_ID = "modelserve.key_id"
OPENAI_PATH = re.compile(r"^/(?:openai/v1|v1|runs/(?P<run_id>[^/]+)/v1)/")
MAX_BODY_BYTES = 64 * 1024 * 1024


class ApiKeyMiddleware:
    """`app.add_middleware(ApiKeyMiddleware, auth=KeyAuthenticator(store), enabled=...)`.

    Disabled (`enabled=False`) it only forwards. `resolve` says what a requested model answers
    to (see `auth.access.routing_resolver`); the default knows a model only by its given name.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        auth: KeyAuthenticator,
        enabled: bool = True,
        resolve: ModelResolver | None = None,
    ) -> None:
        self.app = app
        self.auth = auth
        self.enabled = enabled
        self.resolve: ModelResolver = resolve or names_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        match = OPENAI_PATH.match(scope.get("path", ""))
        if match is None:
            await self.app(scope, receive, send)
            return
        try:
            key = await self.auth.authenticate(presented_key(scope["headers"]))
            if restricted(key) and scope.get("method") == "POST":
                body = await _read_body(receive)
                if body is None:
                    return  # the client went away
                receive = _replay(body, receive)
                model = body_model(body)
                check_access(key, model, self.resolve(model, match.group("run_id")))
            self.auth.check_limits(key)
        except errors.ModelServeError as exc:
            await send_error(send, exc)
            return
        scope.setdefault("state", {})[STATE_KEY_ID] = key.id
        await self.app(scope, receive, send)


def presented_key(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    """The key from `Authorization: Bearer <key>` (else `api-key: <key>`); "" for another scheme."""
    api_key: str | None = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").strip().partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
        if name == b"api-key":
            api_key = value.decode("latin-1").strip()
    return api_key


def body_model(body: bytes) -> str | None:
    """The `model` of a JSON object body when it is a non-empty string, else None."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    model = data.get("model") if isinstance(data, dict) else None
    return model if isinstance(model, str) and model else None


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client disconnects first.

    Raises errors.InvalidRequest (413) past MAX_BODY_BYTES.
    """
    parts: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _TooLarge(f"The request body is larger than {MAX_BODY_BYTES} bytes.", code="body_too_large")
        if chunk:
            parts.append(chunk)
        if not message.get("more_body", False):
            return b"".join(parts)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that yields the buffered body once, then defers to the server's."""
    replayed = False

    async def wrapped() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped


class _TooLarge(errors.InvalidRequest):
    status = 413


async def send_error(send: Send, exc: errors.ModelServeError) -> None:
    """Answer the OpenAI error envelope with the error's status and headers (e.g. Retry-After)."""
    body = json.dumps(exc.envelope()).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in exc.headers().items()),
    ]
    if isinstance(exc, errors.Unauthorized):
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": exc.status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})
