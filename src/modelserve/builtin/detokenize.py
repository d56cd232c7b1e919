"""Incremental detokenization with stop strings, one instance per sequence.

Text is produced from a sliding window of token ids (so multi-byte characters split over tokens and
leading-space rules come out right) and held back while it could still be the start of a stop
string, so a stop string never reaches the client. Runs on the scheduler thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

_PROMPT_WINDOW = 5  # prompt tokens kept as decoding context for the first output tokens


class IncrementalText:
    def __init__(self, tokenizer: Any, prompt_ids: Sequence[int], stop: Sequence[str]) -> None:
        self._tok = tokenizer
        self._ids: list[int] = list(prompt_ids[-_PROMPT_WINDOW:])
        self._prefix = 0
        self._read = len(self._ids)
        self._stop = tuple(s for s in stop if s)
        self._hold = max((len(s) for s in self._stop), default=1) - 1
        self.text = ""  # everything decoded so far (stop string cut once found)
        self._sent = 0  # how much of `text` was handed out
        self.stopped = False

    def _decode(self, ids: Sequence[int]) -> str:
        return str(self._tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=False))

    def add(self, token_id: int) -> None:
        """Append one generated token; sets `stopped` when a stop string appears."""
        if self.stopped:
            return
        self._ids.append(token_id)
        prefix_text = self._decode(self._ids[self._prefix : self._read])
        new_text = self._decode(self._ids[self._prefix :])
        if len(new_text) <= len(prefix_text) or new_text.endswith("\ufffd"):
            return  # an incomplete UTF-8 sequence: wait for the next token
        start = max(0, len(self.text) - self._hold)
        self.text += new_text[len(prefix_text) :]
        self._prefix, self._read = self._read, len(self._ids)
        if self._stop:
            self._find_stop(start)

    def _find_stop(self, start: int) -> None:
        hits = [i for i in (self.text.find(s, start) for s in self._stop) if i >= 0]
        if hits:
            self.text = self.text[: min(hits)]
            self.stopped = True

    def _flush_pending(self) -> None:
        """At the end, tokens still waiting for UTF-8 completion are decoded as they are (with U+FFFD)."""
        if self.stopped or self._read >= len(self._ids):
            return
        prefix_text = self._decode(self._ids[self._prefix : self._read])
        new_text = self._decode(self._ids[self._prefix :])
        start = max(0, len(self.text) - self._hold)
        self.text += new_text[len(prefix_text) :]
        self._prefix = self._read = len(self._ids)
        if self._stop:
            self._find_stop(start)

    def take(self, final: bool) -> str:
        """New text safe to send: all of it when `final`, else all but a possible stop-string prefix."""
        if final:
            self._flush_pending()
        end = len(self.text) if (final or self.stopped or not self._stop) else len(self.text) - self._hold
        if end <= self._sent:
            return ""
        out = self.text[self._sent : end]
        self._sent = end
        return out

    def token_text(self, token_id: int) -> str:
        return self._decode([token_id])
