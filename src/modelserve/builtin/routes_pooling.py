"""vLLM's pooling routes: `/pooling`, `/classify`, `/score` (+ `/v1/score`), `/rerank` (+ `/v1/rerank`,
`/v2/rerank`). Each request is one job on the model's batcher (see `batcher.py`).

A cross-encoder (one-label classifier) scores text pairs; a bi-encoder (embedding model) scores by
the cosine of the two embeddings. A route the served model's task cannot answer is a 400 naming `model`.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from modelserve.builtin import pooling
from modelserve.builtin.batcher import Item, PoolingBatcher
from modelserve.builtin.state import EngineState
from modelserve.errors import InvalidRequest
from modelserve.protocol import Usage, parse_body
from modelserve.protocol.pooling import (
    ClassificationData,
    ClassificationRequest,
    ClassificationResponse,
    PoolingData,
    PoolingRequest,
    PoolingResponse,
    RerankDocument,
    RerankRequest,
    RerankResponse,
    RerankResult,
    RerankUsage,
    ScoreData,
    ScoreRequest,
    ScoreResponse,
)

router = APIRouter()


def _serving(request: Request, model: str | None, allowed: tuple[str, ...], route: str) -> PoolingBatcher:
    """The batcher, once the engine is ready, `model` names what it serves and its task fits `route`."""
    state: EngineState = request.app.state.engine
    state.require_ready()
    state.resolve_model(model)
    pooling.require_task(state.task, allowed, route)
    batcher: PoolingBatcher = state.pooler
    return batcher


def _model_name(request: Request, model: str | None) -> str:
    return model or str(request.app.state.engine.cfg.served_model_name)


def _runner_model(batcher: PoolingBatcher) -> Any:
    return getattr(batcher.runner, "m", None)


def _flatten(row: list[Any]) -> list[float]:
    if row and isinstance(row[0], list):
        return [v for r in row for v in _flatten(r)]
    return [float(v) for v in row]


def _base64(row: list[Any]) -> str:
    """Little-endian float32 of the row (flattened when it is 2-D), as vLLM encodes it."""
    flat = _flatten(row)
    return base64.b64encode(struct.pack(f"<{len(flat)}f", *flat)).decode()


@router.post("/pooling")
async def pool(request: Request) -> Any:
    req = parse_body(PoolingRequest, await request.body())
    batcher = _serving(request, req.model, ("embed", "classify", "token_classification"), "/pooling")
    task = request.app.state.engine.task
    if task == "embed":
        finish = pooling.activated_rows("none")  # the model's own modules already pooled/normalized
    else:
        m = _runner_model(batcher)
        finish = pooling.activated_rows(pooling.pick_activation(m.activation, req.use_activation))
    items: list[Item] = list(req.inputs())
    res = await batcher.submit(items, finish, param="input")
    data = [
        PoolingData(index=i, data=_base64(row) if req.encoding_format == "base64" else row)
        for i, row in enumerate(res.value)
    ]
    body = PoolingResponse(
        model=_model_name(request, req.model), data=data, usage=Usage.of(res.prompt_tokens, 0)
    )
    return JSONResponse(body.model_dump(mode="json"))


@router.post("/classify")
async def classify(request: Request) -> Any:
    req = parse_body(ClassificationRequest, await request.body())
    batcher = _serving(request, req.model, ("classify",), "/classify")
    m = _runner_model(batcher)
    activation = pooling.pick_activation(m.activation, req.use_activation)
    items: list[Item] = list(req.inputs())
    res = await batcher.submit(items, pooling.classifications(m.labels, activation), param="input")
    data = [
        ClassificationData(index=i, label=label, probs=probs, num_classes=len(probs))
        for i, (label, probs) in enumerate(res.value)
    ]
    body = ClassificationResponse(
        model=_model_name(request, req.model), data=data, usage=Usage.of(res.prompt_tokens, 0)
    )
    return JSONResponse(body.model_dump(mode="json"))


def _cross_encoder(batcher: PoolingBatcher) -> Any:
    m = _runner_model(batcher)
    if len(m.labels) != 1:
        raise InvalidRequest(
            f"scoring needs a cross-encoder (a classifier with one output label); this model has "
            f"{len(m.labels)} labels: use /classify",
            param="model",
            code="model_task_mismatch",
        )
    return m


async def _scores(
    request: Request,
    batcher: PoolingBatcher,
    pairs: list[tuple[str, str]],
    names: list[tuple[str, str]],
    use_activation: bool | None,
) -> tuple[list[float], int]:
    """Scores of text pairs and the prompt tokens used; `names` are each pair's field paths, for errors."""
    if request.app.state.engine.task == "classify":
        m = _cross_encoder(batcher)
        finish = pooling.cross_scores(pooling.pick_activation(m.activation, use_activation))
        items: list[Item] = list(pairs)
        res = await batcher.submit(items, finish, names=[b for _, b in names])
        return res.value, res.prompt_tokens
    # bi-encoder: embed every distinct text once, then the cosine of each pair
    texts: list[str] = []
    where: dict[str, int] = {}
    text_names: list[str] = []
    for pair, pair_names in zip(pairs, names):
        for t, n in zip(pair, pair_names):
            if t not in where:
                where[t] = len(texts)
                texts.append(t)
                text_names.append(n)
    finish = pooling.cosine_scores([(where[a], where[b]) for a, b in pairs])
    res = await batcher.submit(list(texts), finish, names=text_names)
    return res.value, res.prompt_tokens


async def _score(request: Request) -> Any:
    req = parse_body(ScoreRequest, await request.body())
    batcher = _serving(request, req.model, ("classify", "embed"), "/score")
    text_1, text_2 = req.texts()
    pairs = pooling.score_pairs(text_1, text_2)
    names = [
        (
            "text_1" if len(text_1) == 1 else f"text_1[{i}]",
            "text_2" if len(text_2) == 1 else f"text_2[{i}]",
        )
        for i in range(len(pairs))
    ]
    scores, tokens = await _scores(request, batcher, pairs, names, req.use_activation)
    data = [ScoreData(index=i, score=s) for i, s in enumerate(scores)]
    body = ScoreResponse(model=_model_name(request, req.model), data=data, usage=Usage.of(tokens, 0))
    return JSONResponse(body.model_dump(mode="json"))


async def _rerank(request: Request) -> Any:
    req = parse_body(RerankRequest, await request.body())
    batcher = _serving(request, req.model, ("classify", "embed"), "/rerank")
    docs = req.texts()
    pairs = [(req.query, d) for d in docs]
    names = [("query", f"documents[{i}]") for i in range(len(docs))]
    scores, tokens = await _scores(request, batcher, pairs, names, req.use_activation)
    ranked = sorted(range(len(docs)), key=lambda i: scores[i], reverse=True)
    if req.top_n:
        ranked = ranked[: req.top_n]
    results = [
        RerankResult(
            index=i,
            document=RerankDocument(text=docs[i]) if req.return_documents else None,
            relevance_score=scores[i],
        )
        for i in ranked
    ]
    body = RerankResponse(
        model=_model_name(request, req.model),
        usage=RerankUsage(prompt_tokens=tokens, total_tokens=tokens),
        results=results,
    )
    return JSONResponse(body.model_dump(mode="json", exclude_none=True))


for _path in ("/score", "/v1/score"):
    router.add_api_route(_path, _score, methods=["POST"])
for _path in ("/rerank", "/v1/rerank", "/v2/rerank"):
    router.add_api_route(_path, _rerank, methods=["POST"])
