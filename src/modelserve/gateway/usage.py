"""Token usage of one exchange: read from a whole JSON body or from a stream's usage chunk.

`UsageRecord` is what the gateway hands its `usage_sink` after each request (API-key accounting).
For streams the gateway asks the engine for `stream_options.include_usage`; when the client did
not ask for it, the usage-only chunk is cut out before it reaches the client. Pure; no I/O.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_USAGE_KEY = b'"usage"'
_NULL_USAGE = re.compile(rb'"usage"\s*:\s*null')
_WS = re.compile(r"\s*")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class UsageRecord:
    """One answered request, as accounting sees it."""

    run_id: str
    model: str  # the exposed model name the request resolved to
    replica: str  # "" when no replica was tried (e.g. a hold timed out)
    key_id: str | None  # the API key's id from ASGI scope["state"]["modelserve.key_id"], if any
    prompt_tokens: int
    completion_tokens: int
    status: int  # the HTTP status the client got (499: it left first)
    adapter: str | None = None


UsageSink = Callable[[UsageRecord], None]


class UsageTap:
    """Watches one response for its `usage`. For streams, `stream(chunk)` returns the bytes to
    forward: the chunk itself, or (when `strip`) complete events without the usage-only chunk."""

    __slots__ = ("_strip", "_tail", "completion_tokens", "found", "prompt_tokens")

    def __init__(self, strip: bool = False) -> None:
        self._strip = strip
        self._tail = b""  # the incomplete event at the end of what was seen so far
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.found = False

    def whole(self, body: bytes) -> None:
        """Read the top-level `usage` of a JSON response body (the last `"usage"` key in it)."""
        at = body.rfind(_USAGE_KEY)
        if at < 0:
            return
        text = body[at + len(_USAGE_KEY) :].decode("utf-8", "replace")
        colon = text.find(":")
        if colon < 0:
            return
        try:
            value, _ = _DECODER.raw_decode(text, _WS.match(text, colon + 1).end())  # type: ignore[union-attr]
        except ValueError:
            return
        self._take(value)

    def stream(self, chunk: bytes) -> bytes:
        """Account one upstream chunk; returns what to send on."""
        data = self._tail + chunk if self._tail else chunk
        end = data.rfind(b"\n\n")
        if end < 0:
            self._tail = data
            return b"" if self._strip else chunk
        complete, self._tail = data[: end + 2], data[end + 2 :]
        if _USAGE_KEY in complete:
            kept = self._events(complete)
            if self._strip:
                return kept
        return complete if self._strip else chunk

    def flush(self) -> bytes:
        """What is still held back (an unterminated last event when stripping)."""
        tail, self._tail = self._tail, b""
        return tail if self._strip else b""

    def _events(self, complete: bytes) -> bytes:
        """Read usage from complete events; drop usage-only chunks when stripping."""
        kept: list[bytes] = []
        for event in complete.split(b"\n\n"):
            if not event:
                continue
            if _USAGE_KEY in event and not _NULL_USAGE.search(event):
                payload = _payload(event)
                took = isinstance(payload, dict) and self._take(payload.get("usage"))
                if took and self._strip and not payload.get("choices"):
                    continue  # the usage-only chunk the client did not ask for
            kept.append(event + b"\n\n")
        return b"".join(kept)

    def _take(self, usage: Any) -> bool:
        if not isinstance(usage, dict):
            return False
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        self.prompt_tokens = prompt if isinstance(prompt, int) else 0
        self.completion_tokens = completion if isinstance(completion, int) else 0
        self.found = True
        return True


def _payload(event: bytes) -> Any:
    data = b"".join(line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:"))
    try:
        return json.loads(data)
    except ValueError:
        return None
