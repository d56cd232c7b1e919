"""The engine's FastAPI application: lifespan (background model load, worker shutdown), the OpenAI
error envelope for every error (never 422), and the routers.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from modelserve.builtin.config import EngineConfig
from modelserve.builtin.metrics import router as metrics_router
from modelserve.builtin.routes_audio import router as audio_router
from modelserve.builtin.routes_generate import router as generate_router
from modelserve.builtin.routes_lora import router as lora_router
from modelserve.builtin.routes_misc import router as misc_router
from modelserve.builtin.routes_oip import router as oip_router
from modelserve.builtin.routes_pooling import router as pooling_router
from modelserve.builtin.state import EngineState
from modelserve.errors import ModelServeError, error_envelope

log = logging.getLogger("modelserve.builtin")

_HTTP_TYPES = {404: "not_found_error", 405: "invalid_request_error", 413: "invalid_request_error"}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ModelServeError)
    async def _modelserve_error(_: Request, exc: ModelServeError) -> JSONResponse:
        if exc.status >= 500 and not isinstance(exc.retry_after, (int, float)):
            log.error("request failed: %s", exc.message)
        return JSONResponse(exc.envelope(), status_code=exc.status, headers=exc.headers())

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_envelope(str(exc), "invalid_request_error"), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = _HTTP_TYPES.get(
            exc.status_code, "invalid_request_error" if exc.status_code < 500 else "internal_error"
        )
        return JSONResponse(error_envelope(str(exc.detail), kind), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_envelope("internal error", "internal_error"), status_code=500)


def create_app(cfg: EngineConfig, state: EngineState | None = None) -> FastAPI:
    """The ASGI app; the model starts loading when the app starts (lifespan), not before."""
    engine = state or EngineState(cfg)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        engine.start_loading()
        try:
            yield
        finally:
            engine.close()

    app = FastAPI(title="modelserve built-in engine", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.engine = engine
    _install_error_handlers(app)
    app.include_router(misc_router)
    app.include_router(generate_router)
    app.include_router(lora_router)
    app.include_router(metrics_router)
    app.include_router(pooling_router)
    app.include_router(oip_router)
    app.include_router(audio_router)
    return app
