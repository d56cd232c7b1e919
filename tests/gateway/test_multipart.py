"""Finding and rewriting the `model` form field of a multipart body."""

from __future__ import annotations

import pytest

from modelserve import errors
from modelserve.gateway.multipart import parse_form

CT = b"multipart/form-data; boundary=XyZ"


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return b"--XyZ\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\n" + value + b"\r\n"


@pytest.mark.parametrize(
    ("parts", "model", "stream"),
    [
        ([_part("model", b"m1"), _part("file", b"\0" * 100, "a.wav")], "m1", False),
        (
            [
                _part("file", b"--XyZ-looking\r\ndata", "a.wav"),
                _part("model", b"m2"),
                _part("stream", b"true"),
            ],
            "m2",
            True,
        ),
        ([_part("file", b"x", "model")], None, False),  # a file named like the field is not it
        ([_part("language", b"en")], None, False),
    ],
    ids=["model-first", "model-after-file", "file-named-model", "no-model"],
)
def test_fields_are_found(parts: list[bytes], model: str | None, stream: bool) -> None:
    form = parse_form(b"".join(parts) + b"--XyZ--\r\n", CT)
    assert (form.model, form.stream) == (model, stream)


def test_rewrite_keeps_every_other_byte() -> None:
    raw = b"".join([_part("file", b"\1" * 50, "a.wav"), _part("model", b"exposed-name")]) + b"--XyZ--\r\n"
    form = parse_form(raw, b'multipart/form-data; boundary="XyZ"')
    rewritten = b"".join(form.with_model("engine"))
    assert rewritten == raw.replace(b"exposed-name", b"engine")
    assert form.with_model("exposed-name") is raw


@pytest.mark.parametrize(
    "content_type", [b"application/json", b"multipart/form-data"], ids=["not-multipart", "no-boundary"]
)
def test_bad_content_types(content_type: bytes) -> None:
    with pytest.raises(errors.InvalidRequest):
        parse_form(b"--XyZ--", content_type)
