"""The exposed (OpenAI) model name of a run: the seed's "randomized" KubeAI model name.

Imports nothing from the project.
"""

from __future__ import annotations

import re

EXPOSED_NAME_MAX = 39
"""KubeAI limits a Model's metadata.name to 40 characters; the seed truncates to 39."""

_DROP = re.compile(r"[^a-z0-9-]")


def exposed_model_name(model_name: str | None, run_id: str) -> str:
    """Return `<model_name>-<run_id>` lower-cased, without characters outside [a-z0-9-], cut to 39.

    Without a model name it is the run id alone (same cleaning). Leading and trailing '-' are
    stripped after truncation (a small change from the seed, so the name stays a valid
    Kubernetes name). Raises ValueError if nothing is left.
    """
    raw = f"{model_name}-{run_id}" if model_name else run_id
    name = _DROP.sub("", raw.lower())[:EXPOSED_NAME_MAX].strip("-")
    if not name:
        raise ValueError(f"no usable characters in model name {model_name!r} and run id {run_id!r}")
    return name
