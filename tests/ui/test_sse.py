"""The console's SSE reader (sse.js), run in the browser on byte streams cut at awkward places."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

READ = """async ([chunks, kind]) => {
  const sse = await import('/console/static/sse.js');
  // A chunk is a string, or a list of byte values to cut inside a UTF-8 character.
  const bytes = chunks.map((c) => (typeof c === 'string' ? new TextEncoder().encode(c) : new Uint8Array(c)));
  const body = new ReadableStream({ start(ctl) { bytes.forEach((b) => ctl.enqueue(b)); ctl.close(); } });
  const out = [];
  try {
    if (kind === 'data') { for await (const d of sse.sseData(body)) out.push(d); }
    else { for await (const c of sse.openaiChunks(body)) out.push(c.choices[0].delta.content); }
  } catch (err) { out.push(`${err.name}: ${err.message}`); }
  return out;
}"""

CASES = [
    ("whole-frames", ["data: a\n\n", "data: b\n\n"], "data", ["a", "b"]),
    ("split-mid-line", ["da", "ta: he", "llo\n", "\ndata: x\n\n"], "data", ["hello", "x"]),
    ("crlf", ["data: a\r\n\r\ndata: b\r\n\r\n"], "data", ["a", "b"]),
    ("crlf-split-between-cr-and-lf", ["data: a\r", "\n\r", "\ndata: b\r\n\r\n"], "data", ["a", "b"]),
    ("multi-line-data-and-comments", [": keep-alive\n", "event: x\ndata: 1\ndata: 2\n\n"], "data", ["1\n2"]),
    ("no-final-blank-line", ["data: a\n\ndata: tail"], "data", ["a", "tail"]),
    ("utf8-split-inside-a-character", ["data: caf", [0xC3], [0xA9, 0x0A, 0x0A]], "data", ["caf\u00e9"]),
    (
        "done-stops-reading",
        [
            'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n',
            "data: [DONE]\n\n",
            'data: {"choices":[{"delta":{"content":"after"}}]}\n\n',
        ],
        "openai",
        ["Hi"],
    ),
    (
        "error-frame",
        [
            'data: {"choices":[{"delta":{"content":"Hi"}}]}\n\n',
            'data: {"error":{"message":"boom","type":"server_error"}}\n\n',
            "data: [DONE]\n\n",
        ],
        "openai",
        ["Hi", "StreamError: boom"],
    ),
]


@pytest.fixture(scope="module")
def sse_page(browser: Any, console: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=console.url)
    page = context.new_page()
    page.goto("/console/runs/none")
    yield page
    context.close()


@pytest.mark.parametrize(("chunks", "kind", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_sse_reader(sse_page: Any, chunks: list[Any], kind: str, expected: list[str]) -> None:
    assert sse_page.evaluate(READ, [chunks, kind]) == expected
