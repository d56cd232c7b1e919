"""Python SDK for the modelserve control plane: projects, functions, runs (sync, httpx).

    import modelserve as ms
    project = ms.get_or_create_project("demo")
    fn = project.new_function("qwen", kind="vllmserve-text", url="hf://Qwen/Qwen2.5-0.5B-Instruct")
    run = fn.run("serve", wait=True)
    run.status.openai["baseUrl"], run.status.openai["model"]

Light: imports httpx and `modelserve.errors` only (no server packages).
"""

from __future__ import annotations

from modelserve.sdk.client import (
    Client,
    default_client,
    delete_project,
    delete_run,
    get_function,
    get_or_create_project,
    get_project,
    get_run,
    list_projects,
    list_runs,
    new_function,
    new_project,
    set_default_client,
)
from modelserve.sdk.function import Function
from modelserve.sdk.project import Project
from modelserve.sdk.run import Run
from modelserve.sdk.session import ServerUnreachable, WaitTimeout
from modelserve.sdk.status import SETTLED_STATES, RunStatus

__all__ = [
    "SETTLED_STATES",
    "Client",
    "Function",
    "Project",
    "Run",
    "RunStatus",
    "ServerUnreachable",
    "WaitTimeout",
    "default_client",
    "delete_project",
    "delete_run",
    "get_function",
    "get_or_create_project",
    "get_project",
    "get_run",
    "list_projects",
    "list_runs",
    "new_function",
    "new_project",
    "set_default_client",
]
