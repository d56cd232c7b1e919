"""The gateway's HTTP surface: OpenAI routes under /openai/v1 and /v1, per-run channels under
/runs/{run_id}/v1, as one pure ASGI app (no body validation, never 422) that `GatewayFront` puts
in front of the server's other routes.

Only the paths in `INFERENCE_PATHS` reach an engine: exposing every engine path would let
clients call engine admin routes (e.g. vLLM's /v1/load_lora_adapter).
"""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from modelserve import errors
from modelserve.gateway.asgi import ClientGone, read_body, send_error, send_json
from modelserve.gateway.balancers import BalanceRequest
from modelserve.gateway.body import parse_body
from modelserve.gateway.headers import upstream_request_headers
from modelserve.gateway.multipart import parse_form
from modelserve.gateway.proxy import Exchange
from modelserve.gateway.table import RoutingTable, ServedModel

# gateway sub-path -> the engine path it is forwarded to (the vLLM server's layout).
INFERENCE_PATHS: dict[str, str] = {
    "chat/completions": "/v1/chat/completions",
    "completions": "/v1/completions",
    "embeddings": "/v1/embeddings",
    "rerank": "/v1/rerank",
    "score": "/v1/score",
    "classify": "/classify",
    "pooling": "/pooling",
    "tokenize": "/tokenize",
    "detokenize": "/detokenize",
}
# multipart/form-data paths (the `model` is a form field).
FORM_PATHS: dict[str, str] = {
    "audio/transcriptions": "/v1/audio/transcriptions",
    "audio/translations": "/v1/audio/translations",
}
# Paths whose streams can carry a usage chunk (`stream_options.include_usage`).
USAGE_STREAM_PATHS = frozenset({"/v1/chat/completions", "/v1/completions"})
KEY_ID_STATE = "modelserve.key_id"


class GatewayCore(Protocol):
    """What the endpoints need from the Gateway."""

    @property
    def table(self) -> RoutingTable: ...

    async def forward(self, x: Exchange, receive: Receive, send: Send) -> None: ...


class _Inference:
    """POST <prefix>/<path>: resolve the model, rewrite it when needed, forward."""

    def __init__(self, core: GatewayCore, upstream_path: str, per_run: bool) -> None:
        self._core = core
        self._path = upstream_path
        self._per_run = per_run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            raw = await read_body(receive)
        except ClientGone:
            return
        try:
            x = self._prepare(scope, raw)
        except errors.ModelServeError as exc:
            await send_error(send, exc)
            return
        await self._core.forward(x, receive, send)

    def _prepare(self, scope: Scope, raw: bytes) -> Exchange:
        body = parse_body(raw, model_required=not self._per_run)
        table = self._core.table
        if self._per_run:
            route = table.lookup_in_run(scope["path_params"]["run_id"], body.model)
        else:
            route = table.lookup(body.model or "")
        query = scope.get("query_string", b"")
        add_usage = body.stream and self._path in USAGE_STREAM_PATHS and not body.wants_usage
        return Exchange(
            route=route,
            path=self._path + ("?" + query.decode("latin-1") if query else ""),
            headers=upstream_request_headers(scope["headers"]),
            body=body.with_model(route.upstream, add_usage=add_usage),
            stream=body.stream,
            balance=BalanceRequest(route.model.model, route.adapter, body.data),
            strip_usage=add_usage,
            key_id=key_id(scope),
        )


class _FormInference(_Inference):
    """POST <prefix>/audio/...: the same, with the `model` read from (and rewritten in) the form."""

    def _prepare(self, scope: Scope, raw: bytes) -> Exchange:
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), b"")
        form = parse_form(raw, content_type)
        table = self._core.table
        if self._per_run:
            route = table.lookup_in_run(scope["path_params"]["run_id"], form.model)
        elif not form.model:
            raise errors.InvalidRequest(
                "The request must name a model: the 'model' form field is missing or empty.",
                param="model",
                code="missing_required_parameter",
            )
        else:
            route = table.lookup(form.model)
        query = scope.get("query_string", b"")
        return Exchange(
            route=route,
            path=self._path + ("?" + query.decode("latin-1") if query else ""),
            headers=upstream_request_headers(scope["headers"]),
            body=form.with_model(route.upstream),
            stream=form.stream,
            balance=BalanceRequest(route.model.model, route.adapter, {}),
            key_id=key_id(scope),
        )


def key_id(scope: Scope) -> str | None:
    """The API key id an auth middleware left in `scope["state"]`, if any."""
    state = scope.get("state")
    value = state.get(KEY_ID_STATE) if isinstance(state, dict) else None
    return value if isinstance(value, str) else None


def model_objects(m: ServedModel) -> list[dict[str, Any]]:
    """The /models entries of one served model: itself, then `<model>_<adapter>` per adapter."""
    base = {"object": "model", "created": m.created, "owned_by": m.project, "features": list(m.features)}
    out = [{"id": m.model, **base, "root": m.upstream_model, "parent": None}]
    out += [{"id": f"{m.model}_{a}", **base, "root": a, "parent": m.model} for a in m.adapters]
    return out


def _wanted(m: ServedModel, features: list[str]) -> bool:
    return not features or any(f in m.features for f in features)


class _Models:
    """GET <prefix>/models[/{model_id}]; `?feature=X` (repeatable) keeps models with any of them."""

    def __init__(self, core: GatewayCore, per_run: bool) -> None:
        self._core = core
        self._per_run = per_run

    async def answer(self, scope: Scope, send: Send, model_id: str | None) -> None:
        try:
            payload = self._payload(scope, model_id)
        except errors.ModelServeError as exc:
            await send_error(send, exc)
            return
        await send_json(send, 200, payload)

    def _payload(self, scope: Scope, model_id: str | None) -> dict[str, Any]:
        table = self._core.table
        models = [table.by_run(scope["path_params"]["run_id"])] if self._per_run else table.models()
        if model_id is not None:
            for m in models:
                for obj in model_objects(m):
                    if obj["id"] == model_id:
                        return obj
            raise errors.NotFound(
                f"The model '{model_id}' does not exist.", param="model", code="model_not_found"
            )
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        features = query.get("feature", [])
        data = [obj for m in models if _wanted(m, features) for obj in model_objects(m)]
        return {"object": "list", "data": data}


class _MethodNotAllowed(errors.InvalidRequest):
    status = 405


class _Prefix:
    """Everything under one prefix, dispatched by a dict lookup on the rest of the path.

    Unknown paths answer a 404 envelope, known paths with the wrong method a 405 envelope.
    """

    def __init__(self, core: GatewayCore, per_run: bool) -> None:
        self._post: dict[str, _Inference] = {
            sub: _Inference(core, up, per_run) for sub, up in INFERENCE_PATHS.items()
        }
        self._post.update({sub: _FormInference(core, up, per_run) for sub, up in FORM_PATHS.items()})
        self._models = _Models(core, per_run)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        rest: str = scope["path_params"]["rest"]
        method: str = scope["method"]
        if method == "POST":
            handler = self._post.get(rest)
            if handler is not None:
                await handler(scope, receive, send)
                return
        elif method == "GET":
            if rest == "models":
                await self._models.answer(scope, send, None)
                return
            if rest.startswith("models/"):
                await self._models.answer(scope, send, rest[len("models/") :])
                return
        await send_error(send, self._unknown(method, rest, scope.get("path", "")))

    def _unknown(self, method: str, rest: str, path: str) -> errors.ModelServeError:
        if rest in self._post or rest == "models" or rest.startswith("models/"):
            return _MethodNotAllowed(
                f"Method {method} is not allowed on this path.", code="method_not_allowed"
            )
        return errors.NotFound(f"Unknown endpoint: {method} {path}", code="unknown_endpoint")


def split_gateway_path(path: str) -> tuple[str | None, str] | None:
    """`(run_id or None, rest)` for a path under one of the gateway's prefixes, else None.

    `/openai/v1/chat/completions` → `(None, "chat/completions")`;
    `/runs/abc/v1/models` → `("abc", "models")`. Plain string tests: this runs on every request.
    """
    if path.startswith("/v1/"):
        return None, path[4:]
    if path.startswith("/openai/v1/"):
        return None, path[11:]
    if path.startswith("/runs/"):
        run_id, sep, tail = path[6:].partition("/")
        if sep and run_id and tail.startswith("v1/"):
            return run_id, tail[3:]
    return None


class GatewayApp:
    """Every gateway route as one pure ASGI app (no router, no middleware stack in between).

    Paths outside the gateway's prefixes answer the 404 envelope; `GatewayFront` sends only
    gateway paths here.
    """

    def __init__(self, core: GatewayCore) -> None:
        self._plain = _Prefix(core, per_run=False)
        self._per_run = _Prefix(core, per_run=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        split = split_gateway_path(scope["path"])
        if split is None:
            method, path = scope.get("method", "GET"), scope["path"]
            await send_error(send, errors.NotFound(f"Unknown endpoint: {method} {path}", code="unknown_endpoint"))
            return
        run_id, rest = split
        if run_id is None:
            scope["path_params"] = {"rest": rest}
            await self._plain(scope, receive, send)
        else:
            scope["path_params"] = {"rest": rest, "run_id": run_id}
            await self._per_run(scope, receive, send)
