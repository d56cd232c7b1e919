"""Model URLs: the one parser for the `url` / `path` fields of every runtime kind.

Owns `ModelUrl`, `parse_model_url` and the run-level override rule. Imports only `errors`.

Accepted forms, for every kind (a decision: the seed's regexes let `h://`, `pv://` and `s://`
slip through and its vLLM kinds took only `store://`; we take one well-defined set everywhere):

    hf://<org>/<name>[:<revision>]          Hugging Face Hub repository (also `hf://<name>`)
    huggingface://<org>/<name>[:<revision>] same as hf:// (scheme normalised to "hf")
    s3://<bucket>[/<key>]                   an S3 (or S3-compatible) object or prefix
    ollama://<name>[:<tag>]                 Ollama library model; kubeai-text with engine OLlama only
    pvc://<claim>[/<subpath>]               a Kubernetes PersistentVolumeClaim (cluster executor)
    store://<project>/model/huggingface/<name>[:<version>]   a registered model artifact
    /absolute/path                          a local folder or file (scheme normalised to "file")
    file:///absolute/path                   same as an absolute path

Anything else (`ftp://x`, `h://x`, a relative path) is rejected with a message listing these.
Schemes are matched case-insensitively; `ModelUrl.scheme` is always the lower-case canonical name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from modelserve.errors import InvalidRequest

ALL_SCHEMES: tuple[str, ...] = ("hf", "s3", "ollama", "pvc", "store", "file")
"""Canonical scheme names a `ModelUrl` can carry."""

ADAPTER_SCHEMES: tuple[str, ...] = ("hf", "s3", "pvc", "store", "file")
"""Schemes accepted for LoRA adapter urls (everything except ollama://)."""

_FORMS: dict[str, str] = {
    "hf": "hf://<org>/<name>[:<revision>] (or huggingface://)",
    "s3": "s3://<bucket>/<key>",
    "ollama": "ollama://<name>[:<tag>]",
    "pvc": "pvc://<claim>[/<subpath>]",
    "store": "store://<project>/model/huggingface/<name>[:<version>]",
    "file": "/absolute/path or file:///absolute/path",
}

_SCHEME_ALIASES = {
    "hf": "hf",
    "huggingface": "hf",
    "s3": "s3",
    "ollama": "ollama",
    "pvc": "pvc",
    "store": "store",
    "file": "file",
}

_URL = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>.*)$")
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_HF = re.compile(rf"^(?P<loc>{_NAME}(?:/{_NAME})?)/?(?::(?P<rev>[A-Za-z0-9][A-Za-z0-9._/-]*))?$")
_S3 = re.compile(r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")
_OLLAMA = re.compile(rf"^(?P<loc>{_NAME}(?:/{_NAME})*)(?::(?P<rev>[A-Za-z0-9][A-Za-z0-9._-]*))?$")
_PVC = re.compile(r"^(?P<claim>[a-z0-9](?:[a-z0-9-]{0,251}[a-z0-9])?)(?:/(?P<sub>.*))?$")
_STORE = re.compile(
    rf"^(?P<loc>(?P<project>{_NAME})/model/huggingface/(?P<name>{_NAME}))(?::(?P<rev>{_NAME}))?$"
)


class ModelUrlError(ValueError):
    """A model url that is not one of the accepted forms (a ValueError, so pydantic wraps it)."""


@dataclass(frozen=True, slots=True)
class ModelUrl:
    """A parsed model url.

    `scheme` is canonical (`hf`, `s3`, `ollama`, `pvc`, `store`, `file`); `location` is what
    follows the scheme without the revision (`org/name`, `bucket/key`, `claim/sub`,
    `project/model/huggingface/name`, `/abs/path`); `revision` is the `:suffix` for hf, ollama
    and store urls (None otherwise); `raw` is the string as the user wrote it.
    """

    scheme: str
    location: str
    revision: str | None
    raw: str

    def __str__(self) -> str:
        return self.raw


def accepted_forms(schemes: Collection[str] = ALL_SCHEMES) -> str:
    """Human-readable list of the accepted url forms, for error messages and docs."""
    return ", ".join(_FORMS[s] for s in ALL_SCHEMES if s in schemes)


def parse_model_url(s: str, *, schemes: Collection[str] = ALL_SCHEMES) -> ModelUrl:
    """Parse a model url; raise `ModelUrlError` (a ValueError) when it is not an accepted form.

    `schemes` restricts the canonical schemes allowed (e.g. `ADAPTER_SCHEMES`).
    """
    if not isinstance(s, str) or not s:
        raise ModelUrlError(f"model url must be a non-empty string; accepted: {accepted_forms(schemes)}")
    if any(c.isspace() for c in s):
        raise ModelUrlError(f"model url {s!r} must not contain whitespace")
    if s.startswith("/"):
        return _restrict(ModelUrl("file", s, None, s), schemes)
    m = _URL.match(s)
    scheme = _SCHEME_ALIASES.get(m.group("scheme").lower()) if m else None
    if m is None or scheme is None:
        raise ModelUrlError(f"unsupported model url {s!r}; accepted: {accepted_forms(schemes)}")
    if scheme not in schemes:
        raise ModelUrlError(f"{scheme}:// urls are not accepted here; accepted: {accepted_forms(schemes)}")
    return _PARSERS[scheme](m.group("rest"), s)


def _restrict(url: ModelUrl, schemes: Collection[str]) -> ModelUrl:
    if url.scheme not in schemes:
        raise ModelUrlError(f"local paths are not accepted here; accepted: {accepted_forms(schemes)}")
    return url


def _bad(raw: str, scheme: str) -> ModelUrlError:
    return ModelUrlError(f"invalid {scheme}:// url {raw!r}: expected {_FORMS[scheme]}")


def _parse_hf(rest: str, raw: str) -> ModelUrl:
    m = _HF.match(rest)
    if m is None:
        raise _bad(raw, "hf")
    return ModelUrl("hf", m.group("loc"), m.group("rev"), raw)


def _parse_s3(rest: str, raw: str) -> ModelUrl:
    m = _S3.match(rest)
    if m is None:
        raise _bad(raw, "s3")
    key = m.group("key")
    return ModelUrl("s3", m.group("bucket") + (f"/{key}" if key else ""), None, raw)


def _parse_ollama(rest: str, raw: str) -> ModelUrl:
    m = _OLLAMA.match(rest)
    if m is None:
        raise _bad(raw, "ollama")
    return ModelUrl("ollama", m.group("loc"), m.group("rev"), raw)


def _parse_pvc(rest: str, raw: str) -> ModelUrl:
    m = _PVC.match(rest)
    if m is None:
        raise _bad(raw, "pvc")
    sub = m.group("sub")
    return ModelUrl("pvc", m.group("claim") + (f"/{sub}" if sub else ""), None, raw)


def _parse_store(rest: str, raw: str) -> ModelUrl:
    m = _STORE.match(rest)
    if m is None:
        raise _bad(raw, "store")
    return ModelUrl("store", m.group("loc"), m.group("rev"), raw)


def _parse_file(rest: str, raw: str) -> ModelUrl:
    if rest.startswith("localhost/"):
        rest = rest[len("localhost") :]
    if not rest.startswith("/"):
        raise _bad(raw, "file")
    return ModelUrl("file", rest, None, raw)


_PARSERS: dict[str, Callable[[str, str], ModelUrl]] = {
    "hf": _parse_hf,
    "s3": _parse_s3,
    "ollama": _parse_ollama,
    "pvc": _parse_pvc,
    "store": _parse_store,
    "file": _parse_file,
}


def check_url_override(function_url: str, override: str | None, *, param: str = "serve.url") -> None:
    """Check a run-level model url override against the function's url (seed rule).

    The override must start with the function url, compared case-insensitively (e.g. to add a
    `:revision` suffix or a sub path). None or "" means "no override". Raises `InvalidRequest`
    with `param` (`serve.url`; `serve.path` for huggingfaceserve).
    """
    if not override:
        return
    if not override.lower().startswith(function_url.lower()):
        raise InvalidRequest(
            "invalid url override, must be subpath of function url", param=param, code="invalid_value"
        )
