"""The web console: static HTML/CSS/ES modules under `static/`, served at /console by the server.

Owns only the routes that deliver the page; everything it shows comes from the control-plane
REST API and the OpenAI gateway on the same origin. Imports fastapi, starlette and settings only.
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from modelserve.settings import Settings

__all__ = ["STATIC_DIR", "mount_console", "render_index"]

STATIC_DIR = Path(str(resources.files("modelserve.ui") / "static"))
# The page is never cached, so a server upgrade shows the new console on the next load.
_NO_CACHE = {"Cache-Control": "no-cache"}


def render_index(settings: Settings) -> str:
    """index.html with the server's public URL filled in (shown in the header and snippets)."""
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    return page.replace("__MODELSERVE_SERVER_URL__", html.escape(settings.base_url, quote=True))


def mount_console(app: FastAPI, settings: Settings) -> None:
    """Serve the console at /console (deep links /console/runs/{run_id}) and redirect / to it.

    Assets are served from /console/static/; the page itself is one index.html whose script reads
    `location.pathname` to decide which view to show.
    """
    page = render_index(settings)

    async def index() -> HTMLResponse:
        return HTMLResponse(page, headers=_NO_CACHE)

    async def run_page(run_id: str) -> HTMLResponse:
        return HTMLResponse(page, headers=_NO_CACHE)

    async def root() -> RedirectResponse:
        return RedirectResponse("/console", status_code=307)

    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    app.add_api_route("/console", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/console/", index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/console/runs/{run_id}", run_page, methods=["GET"], include_in_schema=False)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
