"""Control-plane REST API (FastAPI): projects, functions, runs and their actions, events, logs.

Validates and persists, then pokes the reconciler; never starts processes itself.
"""

from modelserve.api.app import build_api_router
from modelserve.api.errors import install_error_handlers

__all__ = ["build_api_router", "install_error_handlers"]
