"""PrefixHash: KubeAI's consistent hashing with bounded loads on the request's prefix.

The key is `adapter + prefix`, the prefix being the first `prefix_char_length` characters of the
first user message (chat; array content concatenated) or of the prompt (completions), hashed with
xxHash64; the ring and the load bound are KubeAI's (see `ring`). Defaults are KubeAI's:
mean_load_factor 125 (percent), replication 256, prefix_char_length 100.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from modelserve.gateway.balancers.base import BalanceRequest
from modelserve.gateway.balancers.params import int_param
from modelserve.gateway.balancers.ring import RingCache, hash64, kubeai_load_ok
from modelserve.gateway.table import Endpoint


def text_of(content: Any) -> str:
    """A message's text: the string, or the `text` of each part of an array, concatenated."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def request_prefix(body: Mapping[str, Any], length: int) -> str:
    """KubeAI's prefix: first user message (chat) or first prompt (completions), cut to `length`."""
    messages = body.get("messages")
    if isinstance(messages, list):
        for m in messages:
            if isinstance(m, dict) and m.get("role") == "user":
                return text_of(m.get("content"))[:length]
        return ""
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt else ""
    return prompt[:length] if isinstance(prompt, str) else ""


class PrefixHash:
    """Same prefix (and adapter) -> same replica, unless it carries more than its share of load."""

    def __init__(
        self, mean_load_factor: int = 125, replication: int = 256, prefix_char_length: int = 100
    ) -> None:
        self.factor = mean_load_factor / 100
        self.prefix_char_length = prefix_char_length
        self._rings = RingCache(replication)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PrefixHash:
        """From `{"mean_load_factor", "replication", "prefix_char_length"}`; ValueError when bad."""
        return cls(
            mean_load_factor=int_param(params, "mean_load_factor", 125, 100),
            replication=int_param(params, "replication", 256, 1),
            prefix_char_length=int_param(params, "prefix_char_length", 100, 1),
        )

    def key(self, request: BalanceRequest) -> int:
        """The ring position of a request."""
        text = (request.adapter or "") + request_prefix(request.body, self.prefix_char_length)
        return hash64(text.encode("utf-8", "surrogatepass"))

    def pick(
        self,
        candidates: Sequence[Endpoint],
        inflight: Mapping[Endpoint, int],
        request: BalanceRequest,
    ) -> Endpoint:
        if len(candidates) == 1:
            return candidates[0]
        ring = self._rings.ring(candidates)
        return ring.pick(self.key(request), candidates, inflight, self.factor, kubeai_load_ok)
