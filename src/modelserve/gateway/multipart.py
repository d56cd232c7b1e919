"""multipart/form-data bodies (audio transcriptions and translations): find the `model` and
`stream` form fields, and rewrite `model` for the engine, without parsing the upload.

The body stays the one bytes object it was read into: fields are located by offsets (`bytes.find`
over the file part, no copy), and a rewritten body is a tuple of memoryview segments around the
new value, sent as is (no second copy of the upload). Pure; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modelserve import errors

_BOUNDARY = re.compile(rb'boundary="?([^";,\s]+)"?', re.IGNORECASE)
_NAME = re.compile(rb'\bname="([^"]*)"', re.IGNORECASE)
FORM_FIELDS = frozenset({b"model", b"stream"})


@dataclass(frozen=True)
class Form:
    """A multipart body and where its interesting fields' values lie in it."""

    raw: bytes
    fields: dict[str, tuple[int, int]]  # name -> (start, end) offsets of the value in `raw`

    def value(self, name: str) -> str | None:
        span = self.fields.get(name)
        if span is None:
            return None
        return self.raw[span[0] : span[1]].decode("utf-8", "replace")

    @property
    def model(self) -> str | None:
        return self.value("model")

    @property
    def stream(self) -> bool:
        return (self.value("stream") or "").strip().lower() == "true"

    def with_model(self, name: str) -> bytes | tuple[memoryview, ...]:
        """The body to send upstream with the `model` value set to `name`: the original bytes when
        equal (or absent), else segments around the new value."""
        span = self.fields.get("model")
        if span is None or self.model == name:
            return self.raw
        view = memoryview(self.raw)
        return (view[: span[0]], memoryview(name.encode()), view[span[1] :])


def boundary_of(content_type: bytes) -> bytes:
    """The boundary of a `multipart/form-data` content type. Raises errors.InvalidRequest otherwise."""
    if not content_type.lower().startswith(b"multipart/form-data"):
        raise errors.InvalidRequest(
            "This endpoint takes multipart/form-data (a file and form fields).", code="invalid_content_type"
        )
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise errors.InvalidRequest("The multipart content type has no boundary.", code="invalid_multipart")
    return found.group(1)


def parse_form(raw: bytes, content_type: bytes) -> Form:
    """Locate the `model` and `stream` fields (non-file parts). Raises errors.InvalidRequest for a
    body that is not multipart/form-data."""
    delimiter = b"--" + boundary_of(content_type)
    fields: dict[str, tuple[int, int]] = {}
    pos = raw.find(delimiter)
    if pos < 0:
        raise errors.InvalidRequest("The multipart body has no parts.", code="invalid_multipart")
    while len(fields) < len(FORM_FIELDS):
        pos += len(delimiter)
        if raw.startswith(b"--", pos):
            break  # the closing delimiter
        head = raw.find(b"\r\n", pos)
        end_of_head = raw.find(b"\r\n\r\n", head) if head >= 0 else -1
        if end_of_head < 0:
            break
        start = end_of_head + 4
        nxt = raw.find(b"\r\n" + delimiter, start)
        if nxt < 0:
            break
        headers = raw[head:end_of_head]
        name = _NAME.search(headers)
        if name and name.group(1) in FORM_FIELDS and b"filename=" not in headers.lower():
            fields.setdefault(name.group(1).decode(), (start, nxt))
        pos = nxt + 2
    return Form(raw, fields)
