"""Render every error as the OpenAI envelope; request-shape errors are 400, never 422."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelserve.errors import ModelServeError, error_envelope, field_path

log = logging.getLogger("modelserve.api")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ModelServeError)
    async def _known(_: Request, exc: ModelServeError) -> JSONResponse:
        return JSONResponse(exc.envelope(), status_code=exc.status, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        loc = [p for p in first.get("loc", ()) if p != "body"]
        if first.get("type") == "json_invalid":
            body = error_envelope("request body is not valid JSON", "invalid_request_error", None, "invalid_json")
            return JSONResponse(body, status_code=400)
        param = field_path(tuple(loc)) or None
        msg = "unknown field" if first.get("type") == "extra_forbidden" else first.get("msg", "invalid value")
        body = error_envelope(f"{param or 'body'}: {msg}", "invalid_request_error", param, "invalid_value")
        return JSONResponse(body, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(error_envelope(str(exc.detail), kind), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = error_envelope("internal server error", "internal_error", None, "internal_error")
        return JSONResponse(body, status_code=500)
