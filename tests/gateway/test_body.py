"""The body sent upstream: `model` rewritten (and stream usage asked for) without changing anything else."""

from __future__ import annotations

import json

import pytest

from modelserve.gateway.body import parse_body


@pytest.mark.parametrize(
    "raw",
    [
        b'{"model": "a", "messages": []}',
        b'{ "messages":[{"role":"model"}], "model":"a"}',  # "model" also a value: re-encoded
        b'{"model":"\\u00e9", "stream": true}',  # escaped value: re-encoded
        b'{"stream":true,"model":"a","stream_options":{"x":1}}',
        b'{"model": "a", "tools": [{"function": {"parameters": {"properties": {"model": {}}}}}]}',
        b'{"model":"a","vendor_param":{"k":[1,2,{"z":null}]},"extra_body":{"top_k":3}}',
    ],
    ids=["plain", "model-as-value", "escaped", "has-stream-options", "nested-model-key", "vendor-params"],
)
@pytest.mark.parametrize("add_usage", [False, True], ids=["as-is", "add-usage"])
def test_rewrite_changes_only_model_and_stream_options(raw: bytes, add_usage: bool) -> None:
    body = parse_body(raw)
    out = json.loads(body.with_model("engine-name", add_usage=add_usage))
    expected = {**body.data, "model": "engine-name"}
    if add_usage:
        expected["stream_options"] = {**(body.data.get("stream_options") or {}), "include_usage": True}
    assert out == expected


def test_same_name_sends_the_original_bytes() -> None:
    raw = b'{"model":"a",  "messages":[]}'
    assert parse_body(raw).with_model("a") is raw
