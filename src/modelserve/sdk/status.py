"""`RunStatus`: read access to a run's status dict, plus the URL rules of `Run.invoke`.

`status.state`, `status.message`, `status.service`, `status.openai`, ... as attributes; keys the
server adds later are reachable the same way. Imports only `modelserve.errors`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from modelserve import errors

# States after which waiting for readiness is pointless.
SETTLED_STATES = frozenset({"RUNNING", "ERROR", "STOPPED", "DELETED"})

# Feature name fragment (lower case) -> OpenAI path below the base URL; first match wins.
_FEATURE_PATHS: tuple[tuple[str, str], ...] = (
    ("embed", "/embeddings"),
    ("speech", "/audio/transcriptions"),
    ("transcri", "/audio/transcriptions"),
    ("rerank", "/rerank"),
    ("score", "/score"),
    ("classif", "/classify"),
)
_DEFAULT_PATH = "/chat/completions"


class RunStatus:
    """A snapshot of a run's status. Dict-valued fields are `{}` when the server has not set them."""

    _DICT_FIELDS = ("service", "openai", "replicas", "engine")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data or {})

    @property
    def state(self) -> str | None:
        return self._data.get("state")

    @property
    def message(self) -> str | None:
        return self._data.get("message")

    @property
    def service(self) -> dict[str, Any]:
        return self._data.get("service") or {}

    @property
    def openai(self) -> dict[str, Any]:
        return self._data.get("openai") or {}

    @property
    def replicas(self) -> dict[str, Any]:
        return self._data.get("replicas") or {}

    @property
    def engine(self) -> dict[str, Any]:
        return self._data.get("engine") or {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"run status has no field {name!r}") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of the whole status as the server sent it."""
        return copy.deepcopy(self._data)

    def __repr__(self) -> str:
        return f"RunStatus(state={self.state!r}, message={self.message!r})"


def with_scheme(url: str) -> str:
    return url if "://" in url else "http://" + url


def _without_scheme(url: str) -> str:
    return url.split("://", 1)[1] if "://" in url else url


def run_urls(status: RunStatus) -> list[str]:
    """Every URL the run exposes (service url, service urls, OpenAI base URL), with a scheme."""
    found: list[str] = []
    candidates = [
        status.service.get("url"),
        *(status.service.get("urls") or []),
        status.openai.get("baseUrl"),
    ]
    for url in candidates:
        if isinstance(url, str) and url and with_scheme(url) not in found:
            found.append(with_scheme(url))
    return found


def default_invoke_url(status: RunStatus) -> str | None:
    """The OpenAI endpoint a plain `invoke` calls: chat completions, or embeddings etc. by feature."""
    base = status.openai.get("baseUrl") or status.service.get("url")
    if not base:
        return None
    return with_scheme(str(base)).rstrip("/") + feature_path(status)


def feature_path(status: RunStatus) -> str:
    """The OpenAI route (below the base URL) that fits the run's features: `/chat/completions`, ..."""
    features = " ".join(str(f) for f in status.openai.get("features") or []).lower()
    return next((p for fragment, p in _FEATURE_PATHS if fragment in features), _DEFAULT_PATH)


def check_invoke_url(url: str, status: RunStatus) -> str:
    """Return `url` (with a scheme) if it lies under one of the run's URLs; raise InvalidRequest if not.

    The scheme is ignored when comparing, and a prefix only counts at a path boundary.
    """
    target = _without_scheme(url)
    for base in run_urls(status):
        prefix = _without_scheme(base).rstrip("/")
        if target == prefix or target.startswith((prefix + "/", prefix + "?")):
            return with_scheme(url)
    allowed = status.service.get("url") or status.openai.get("baseUrl") or "(none yet)"
    raise errors.InvalidRequest(
        f"url {url} is not an endpoint of this run: it must start with the run's service url {allowed}",
        param="url",
    )
