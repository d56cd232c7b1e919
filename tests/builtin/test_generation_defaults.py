"""--override-generation-config: defaults fill only what a request leaves unset."""

from __future__ import annotations

import pytest

from modelserve.builtin.config import parse_args
from modelserve.builtin.prompts import sampling_params
from modelserve.protocol import ChatCompletionRequest


def test_flag_is_parsed_into_defaults() -> None:
    cfg = parse_args(["--model", "m", "--override-generation-config", '{"temperature": 0, "top_p": 0.5}'])
    assert cfg.generation_defaults == {"temperature": 0, "top_p": 0.5}


@pytest.mark.parametrize(
    "bad", ['{"temperature": ', '{"max_tokens": 3}', "[1]"], ids=["not-json", "unknown-key", "not-object"]
)
def test_bad_flag_values_are_refused(bad: str) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--model", "m", "--override-generation-config", bad])


@pytest.mark.parametrize(
    ("request_fields", "expected_temperature", "expected_top_p"),
    [({}, 0.0, 0.5), ({"temperature": 0.7}, 0.7, 0.5), ({"top_p": 0.9}, 0.0, 0.9)],
    ids=["all-defaults", "request-temperature-wins", "request-top-p-wins"],
)
def test_request_values_win_over_defaults(
    request_fields: dict, expected_temperature: float, expected_top_p: float
) -> None:
    req = ChatCompletionRequest(model="m", messages=[{"role": "user", "content": "hi"}], **request_fields)
    params = sampling_params(req, 8, {"temperature": 0.0, "top_p": 0.5})
    assert (params.temperature, params.top_p) == (expected_temperature, expected_top_p)


def test_without_defaults_openai_default_temperature_applies() -> None:
    req = ChatCompletionRequest(model="m", messages=[{"role": "user", "content": "hi"}])
    assert sampling_params(req, 8).temperature == 1.0
