"""The server's outermost ASGI app: gateway paths go straight to the gateway, the rest to the app.

Every OpenAI request would otherwise cross the web framework's whole stack (error and exception
middleware, body limits, a router that tries each API route in turn) before reaching the gateway's
own pure ASGI endpoints; measured, that was about a sixth of the gateway's CPU per request.
Lifespan and websocket scopes, and every non-gateway path, reach `app` unchanged.
"""

from __future__ import annotations

import logging

from starlette.types import ASGIApp, Receive, Scope, Send

from modelserve import errors
from modelserve.gateway.asgi import send_error
from modelserve.gateway.routes import split_gateway_path

log = logging.getLogger(__name__)


class GatewayFront:
    """`GatewayFront(app, gateway)`: `gateway` answers /openai/v1/*, /v1/*, /runs/{id}/v1/*.

    `gateway` may be wrapped (e.g. by the API-key middleware). An exception escaping it is logged
    and answered with a 500 envelope when the response has not started yet.
    """

    def __init__(self, app: ASGIApp, gateway: ASGIApp) -> None:
        self.app = app
        self.gateway = gateway

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or split_gateway_path(scope["path"]) is None:
            await self.app(scope, receive, send)
            return
        try:
            await self.gateway(scope, receive, send)
        except Exception:
            log.exception("gateway request %s %s failed", scope.get("method"), scope["path"])
            try:
                await send_error(send, errors.ModelServeError("internal error in the gateway"))
            except Exception:  # noqa: BLE001 - the response had started: nothing more can be said
                pass
