"""Through a real gateway with the official openai client: which replica answers which model name,
what model name the engine receives, /models listing, and the error envelopes."""

from __future__ import annotations

import openai
import pytest

from .conftest import client, endpoint, served
from .harness import HTTP, GatewayServer, Upstream


def _content(resp: openai.types.chat.ChatCompletion) -> str:
    return resp.choices[0].message.content or ""


def test_exposed_name_routes_to_the_run_and_is_rewritten_upstream(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])]), served("runb", [endpoint(ups["runb-0"])])])
    raw = client(f"{gw.url}/openai/v1").chat.completions.with_raw_response.create(
        model="qwen-runb", messages=[{"role": "user", "content": "hi"}]
    )
    assert raw.headers["x-modelserve-replica"] == "runb-0"
    assert _content(raw.parse()) == "replica=runb-0 model=qwen-upstream"


def test_model_name_passes_unchanged_when_the_engine_serves_the_exposed_name(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])], upstream_model="qwen-runa")])
    resp = client(f"{gw.url}/v1").chat.completions.create(
        model="qwen-runa", messages=[{"role": "user", "content": "hi"}]
    )
    assert _content(resp) == "replica=runa-0 model=qwen-runa"


def test_plain_name_routes_when_it_names_one_model(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models(
        [
            served("runa", [endpoint(ups["runa-0"])], model_name="qwen"),
            served("runb", [endpoint(ups["runb-0"])], model="llama-runb", model_name="llama"),
        ]
    )
    resp = client(f"{gw.url}/openai/v1").completions.create(model="llama", prompt="hi")
    assert resp.choices[0].text == "replica=runb-0 model=qwen-upstream"


def test_ambiguous_plain_name_is_a_404_envelope(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])]), served("runb", [endpoint(ups["runb-0"])])])
    with pytest.raises(openai.NotFoundError) as info:
        client(f"{gw.url}/openai/v1").chat.completions.create(
            model="qwen", messages=[{"role": "user", "content": "hi"}]
        )
    err = info.value.body
    assert isinstance(err, dict)
    assert (err["param"], err["code"], err["type"]) == ("model", "model_not_found", "not_found_error")
    assert "qwen-runa" in err["message"] and "qwen-runb" in err["message"]


def test_unknown_model_is_a_404_envelope(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    r = HTTP.post(f"{gw.url}/openai/v1/embeddings", json={"model": "nope", "input": "x"})
    assert r.status_code == 404
    assert r.json() == {
        "error": {
            "message": r.json()["error"]["message"],
            "type": "not_found_error",
            "param": "model",
            "code": "model_not_found",
        }
    }


def test_adapter_name_reaches_the_engine_as_the_adapter(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])], adapters=("sql",))])
    resp = client(f"{gw.url}/openai/v1").chat.completions.create(
        model="qwen-runa_sql", messages=[{"role": "user", "content": "hi"}]
    )
    assert _content(resp) == "replica=runa-0 model=sql"


def test_per_run_channel_routes_to_its_run_and_rewrites(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])]), served("runb", [endpoint(ups["runb-0"])])])
    run_client = client(f"{gw.url}/runs/runb/v1")
    # The plain name is ambiguous globally but not on the run's own channel.
    resp = run_client.chat.completions.create(model="qwen", messages=[{"role": "user", "content": "hi"}])
    assert _content(resp) == "replica=runb-0 model=qwen-upstream"
    assert [m.id for m in run_client.models.list()] == ["qwen-runb"]
    with pytest.raises(openai.NotFoundError):
        run_client.chat.completions.create(model="qwen-runa", messages=[{"role": "user", "content": "hi"}])


def test_per_run_channel_fills_a_missing_model(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    r = HTTP.post(f"{gw.url}/runs/runa/v1/completions", json={"prompt": "hi"})
    assert r.status_code == 200
    assert r.json()["choices"][0]["text"] == "replica=runa-0 model=qwen-upstream"
    assert HTTP.post(f"{gw.url}/runs/nope/v1/completions", json={"prompt": "hi"}).status_code == 404


def test_models_lists_runs_and_adapters_with_feature_filter(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models(
        [
            served("runa", [endpoint(ups["runa-0"])], adapters=("sql",), project="alpha"),
            served("runb", [], model="mini-runb", model_name="mini", features=("TextEmbedding",)),
        ]
    )
    c = client(f"{gw.url}/openai/v1")
    listed = {m.id: m for m in c.models.list()}
    assert sorted(listed) == ["mini-runb", "qwen-runa", "qwen-runa_sql"]
    assert listed["qwen-runa"].owned_by == "alpha"
    assert c.models.retrieve("qwen-runa_sql").id == "qwen-runa_sql"
    embed_only = HTTP.get(f"{gw.url}/v1/models", params={"feature": "TextEmbedding"}).json()["data"]
    assert [m["id"] for m in embed_only] == ["mini-runb"]
    with pytest.raises(openai.NotFoundError):
        c.models.retrieve("nope")


def test_embeddings_and_other_pooling_paths_are_forwarded(
    gw: GatewayServer, ups: dict[str, Upstream]
) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])], features=("TextEmbedding",))])
    emb = client(f"{gw.url}/openai/v1").embeddings.create(model="qwen-runa", input="hello")
    assert emb.data[0].embedding == [0.5, 0.25]
    r = HTTP.post(f"{gw.url}/openai/v1/rerank", json={"model": "qwen-runa", "query": "q", "documents": []})
    assert r.json() == {"path": "/v1/rerank", "model": "qwen-upstream", "replica": "runa-0"}


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        (b"{not json", None, "invalid_json"),
        (b"[1, 2]", None, "invalid_json"),
        (b'{"messages": []}', "model", "missing_required_parameter"),
        (b'{"model": 7, "messages": []}', "model", "invalid_value"),
    ],
    ids=["malformed", "not-an-object", "missing-model", "non-string-model"],
)
def test_bad_bodies_are_400_envelopes_never_422(
    gw: GatewayServer, body: bytes, param: str | None, code: str
) -> None:
    r = HTTP.post(
        f"{gw.url}/openai/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert (r.json()["error"]["param"], r.json()["error"]["code"]) == (param, code)


def test_engine_admin_paths_are_not_exposed(gw: GatewayServer, ups: dict[str, Upstream]) -> None:
    gw.set_models([served("runa", [endpoint(ups["runa-0"])])])
    r = HTTP.post(f"{gw.url}/openai/v1/load_lora_adapter", json={"model": "qwen-runa"})
    assert (r.status_code, r.json()["error"]["code"]) == (404, "unknown_endpoint")
    r = HTTP.get(f"{gw.url}/v1/chat/completions")
    assert (r.status_code, r.json()["error"]["code"]) == (405, "method_not_allowed")
