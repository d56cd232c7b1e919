"""`POST /v1/load_lora_adapter` and `POST /v1/unload_lora_adapter`, with vLLM's bodies, answers and
error messages: 200 with a plain-text "Success: ..." line; 400 for a missing field, a name already
loaded or an adapter that does not fit the model; 404 for a path without an adapter or an unknown
name to unload. Errors use the OpenAI envelope. Only text generation serves adapters.

An unloaded adapter takes no new requests (404 `model_not_found`); requests already accepted with
it finish with it, as in vLLM. The gateway never exposes these routes; the control plane calls them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict

from modelserve.builtin.adapters import adapter_missing
from modelserve.builtin.state import EngineState
from modelserve.errors import InvalidRequest
from modelserve.protocol import parse_body

router = APIRouter()


class LoadLoRAAdapterRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    lora_name: str = ""
    lora_path: str = ""


class UnloadLoRAAdapterRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    lora_name: str = ""
    lora_int_id: int | None = None


def _generator_state(request: Request) -> EngineState:
    state: EngineState = request.app.state.engine
    state.require_ready()
    if state.generator is None:
        raise InvalidRequest(
            f"LoRA adapters are served for text generation only; this engine serves the {state.task} task",
            param="lora_name",
            code="lora_unsupported",
        )
    return state


def adapter_root(state: EngineState, name: str) -> str:
    """The folder adapter `name` was loaded from (for `/v1/models`' `root`)."""
    path = state.generator.adapter_path(name) if state.generator is not None else None
    return path or dict(state.cfg.lora_modules).get(name, name)


@router.post("/v1/load_lora_adapter")
async def load_lora_adapter(request: Request) -> Any:
    state = _generator_state(request)
    req = parse_body(LoadLoRAAdapterRequest, await request.body())
    if not req.lora_name or not req.lora_path:
        raise InvalidRequest(
            "Both 'lora_name' and 'lora_path' must be provided.",
            param="lora_name" if not req.lora_name else "lora_path",
        )
    name = req.lora_name
    if name == state.cfg.served_model_name:
        raise InvalidRequest(
            f"The lora adapter '{name}' cannot take the base model's name.", param="lora_name"
        )
    if name in state.adapters:  # answered here too, so a duplicate never waits for a step
        raise InvalidRequest(
            f"The lora adapter '{name}' has already been loaded.", param="lora_name", code="lora_exists"
        )
    missing = await asyncio.to_thread(adapter_missing, name, req.lora_path)
    if missing is not None:
        raise missing
    await state.generator.load_adapter(name, req.lora_path)
    state.adapters = state.generator.adapter_names()
    return PlainTextResponse(f"Success: LoRA adapter '{name}' added successfully.")


@router.post("/v1/unload_lora_adapter")
async def unload_lora_adapter(request: Request) -> Any:
    state = _generator_state(request)
    req = parse_body(UnloadLoRAAdapterRequest, await request.body())
    if not req.lora_name:
        raise InvalidRequest(
            "'lora_name' needs to be provided to unload a LoRA adapter.", param="lora_name"
        )
    try:
        await state.generator.unload_adapter(req.lora_name)
    finally:
        state.adapters = state.generator.adapter_names()
    return PlainTextResponse(f"Success: LoRA adapter '{req.lora_name}' removed successfully.")
