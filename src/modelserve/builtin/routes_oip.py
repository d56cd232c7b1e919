"""KServe's inference protocols for the huggingface tasks, shaped as KServe's huggingfaceserver answers:
Open Inference Protocol v2 (`/v2/models/{name}/infer`, model metadata and readiness, server health)
and v1 (`/v1/models/{name}:predict`).

The input is the first tensor, BYTES texts. Outputs ("output-0"): sequence_classification -> INT64 [N]
class ids (FP32 [N, labels] with --return-probabilities); token_classification -> INT64 [N, 1, T]
label ids per token (KServe's shape; T the request's longest input, -1 past an input's own tokens;
FP32 [N, T, labels] with --return-probabilities); fill_mask -> BYTES [N] predicted tokens;
text_embedding -> FP32 [N, dim]. Text generation is served by the OpenAI routes only, as in KServe.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from modelserve import __version__
from modelserve.builtin import pooling
from modelserve.builtin.batcher import Item, PoolingBatcher
from modelserve.builtin.state import EngineState
from modelserve.errors import InvalidRequest, NotFound
from modelserve.protocol import parse_body
from modelserve.protocol.oip import (
    InferOutputTensor,
    InferRequest,
    InferResponse,
    ModelMetadata,
    PredictRequest,
    TensorMetadata,
)

router = APIRouter()

# engine task -> KServe's huggingface_task name
KSERVE_TASKS = {
    "classify": "sequence_classification",
    "token_classification": "token_classification",
    "fill_mask": "fill_mask",
    "embed": "text_embedding",
}


@dataclass(frozen=True)
class _Output:
    datatype: str
    shape: list[int]
    nested: list[Any]  # the predictions, nested as `shape`
    probabilities: bool  # innermost lists are class probabilities (v1 renders them as dicts)


def _state(request: Request, name: str) -> EngineState:
    state: EngineState = request.app.state.engine
    if name != state.cfg.served_model_name:
        raise NotFound(f"The model `{name}` does not exist.", param="model", code="model_not_found")
    state.require_ready()
    return state


def _batcher(state: EngineState) -> PoolingBatcher:
    if state.task not in KSERVE_TASKS:
        serves = pooling.DESCRIPTIONS.get(str(state.task), str(state.task))
        raise InvalidRequest(
            f"this model serves {serves}, which the inference protocol does not (use the OpenAI routes); "
            f"it serves {', '.join(KSERVE_TASKS.values())}",
            param="model",
            code="model_task_mismatch",
        )
    batcher: PoolingBatcher = state.pooler
    return batcher


# ---------------------------------------------------------------------- finishers (worker thread)
def _finisher(state: EngineState, batcher: PoolingBatcher) -> Callable[[list[Any]], _Output]:
    task = state.task
    probs = state.cfg.return_probabilities
    m = getattr(batcher.runner, "m", None)
    if task == "embed":
        return lambda rows: _Output("FP32", [len(rows), len(rows[0])], [r.tolist() for r in rows], False)
    if task == "classify":
        activation = m.activation

        def classify(rows: list[Any]) -> _Output:
            if probs:
                p = [pooling.activate(r, activation).tolist() for r in rows]
                return _Output("FP32", [len(rows), len(p[0])], p, True)
            return _Output("INT64", [len(rows)], [int(r.argmax()) for r in rows], False)

        return classify
    if task == "token_classification":
        return lambda rows: _tokens(rows, probs)
    tok = m.tokenizer

    def fill_mask(rows: list[Any]) -> _Output:
        words = [tok.decode(r.argmax(dim=-1).tolist()) for r in rows]
        return _Output("BYTES", [len(rows)], words, False)

    return fill_mask


def _tokens(rows: list[Any], probs: bool) -> _Output:
    width = max(r.shape[0] for r in rows)
    if probs:
        labels = rows[0].shape[1]
        nested = [r.softmax(dim=-1).tolist() + [[0.0] * labels] * (width - r.shape[0]) for r in rows]
        return _Output("FP32", [len(rows), width, labels], nested, True)
    ids = [[r.argmax(dim=-1).tolist() + [-1] * (width - r.shape[0])] for r in rows]
    return _Output("INT64", [len(rows), 1, width], ids, False)


async def _run(state: EngineState, texts: list[str], param: str) -> _Output:
    batcher = _batcher(state)
    if state.task == "fill_mask":
        mask = str(batcher.runner.tokenizer.mask_token)
        for i, t in enumerate(texts):
            if mask not in t:
                raise InvalidRequest(f"{param}[{i}] has no {mask} token to fill", param=param)
    items: list[Item] = list(texts)
    res = await batcher.submit(items, _finisher(state, batcher), param=param)
    out: _Output = res.value
    return out


def _flatten(x: Any) -> list[Any]:
    if isinstance(x, list):
        return [v for item in x for v in _flatten(item)]
    return [x]


def _as_v1(x: Any, probabilities: bool) -> Any:
    """KServe v1 predictions: probabilities as {class index: probability to 4 decimals}."""
    if probabilities and isinstance(x, list) and x and not isinstance(x[0], list):
        return {j: round(float(p), 4) for j, p in enumerate(x)}
    if isinstance(x, list):
        return [_as_v1(item, probabilities) for item in x]
    return x


def _input_texts(req: InferRequest) -> list[str]:
    t = req.inputs[0]
    if t.datatype.upper() != "BYTES":
        raise InvalidRequest(
            f"the input tensor must be BYTES (texts), not {t.datatype}", param="inputs[0].datatype"
        )
    texts = _flatten(t.data)
    if not texts or not all(isinstance(x, str) for x in texts):
        raise InvalidRequest(
            "the input tensor's data must be a non-empty list of texts", param="inputs[0].data"
        )
    count = 1
    for d in t.shape:
        count *= d
    if count != len(texts):
        raise InvalidRequest(
            f"shape {t.shape} holds {count} elements but data has {len(texts)}", param="inputs[0].shape"
        )
    return texts


# ---------------------------------------------------------------------- routes
@router.get("/v2/health/live")
async def live() -> Any:
    return {"live": True}


@router.get("/v2/health/ready")
async def ready(request: Request) -> Any:
    request.app.state.engine.require_ready()
    return {"ready": True}


@router.get("/v2")
async def server_metadata() -> Any:
    return {"name": "modelserve-builtin", "version": __version__, "extensions": []}


@router.get("/v2/models/{name}/ready")
async def model_ready(request: Request, name: str) -> Any:
    _state(request, name)
    return {"name": name, "ready": True}


@router.get("/v2/models/{name}")
async def model_metadata(request: Request, name: str) -> Any:
    state = _state(request, name)
    _batcher(state)
    task = state.task
    probs = state.cfg.return_probabilities
    out = {
        "classify": ("FP32", [-1, -1]) if probs else ("INT64", [-1]),
        "token_classification": ("FP32", [-1, -1, -1]) if probs else ("INT64", [-1, 1, -1]),
        "fill_mask": ("BYTES", [-1]),
        "embed": ("FP32", [-1, -1]),
    }[str(task)]
    meta = ModelMetadata(
        name=name,
        platform=f"modelserve-builtin/{KSERVE_TASKS[str(task)]}",
        inputs=[TensorMetadata(name="input-0", datatype="BYTES", shape=[-1])],
        outputs=[TensorMetadata(name="output-0", datatype=out[0], shape=out[1])],
    )
    return meta.model_dump(mode="json")


@router.post("/v2/models/{name}/infer")
async def infer(request: Request, name: str) -> Any:
    state = _state(request, name)
    req = parse_body(InferRequest, await request.body())
    out = await _run(state, _input_texts(req), "inputs[0].data")
    data = _flatten(out.nested)
    tensor = InferOutputTensor(name="output-0", shape=out.shape, datatype=out.datatype, data=data)
    body = InferResponse(model_name=name, id=req.id or str(uuid.uuid4()), outputs=[tensor])
    return JSONResponse(body.model_dump(mode="json"))


@router.post("/v1/models/{name}:predict")
async def predict(request: Request, name: str) -> Any:
    state = _state(request, name)
    req = parse_body(PredictRequest, await request.body())
    texts = req.texts()
    param = "instances" if req.instances is not None else "inputs"
    if (req.instances is None) == (req.inputs is None) or not texts:
        raise InvalidRequest("give a non-empty list of texts as instances", param="instances")
    out = await _run(state, texts, param)
    return JSONResponse({"predictions": _as_v1(out.nested, out.probabilities)})
