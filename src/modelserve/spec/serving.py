"""`ServeSpec`: the serve fields every kind shares (profile, envs, secrets, args, scaling).

`envs` accepts the seed's two shapes, a list of `{name, value}` and a map, and is always stored
as a map; the legacy key `env` is accepted with a DeprecationWarning. Imports only `spec.common`
and `spec.scaling`.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, ClassVar

from pydantic import BeforeValidator, Field, field_validator, model_validator

from modelserve.spec.common import StrictModel, field_error, matching
from modelserve.spec.scaling import Scaling

ENV_NAME_PATTERN = r"[-._a-zA-Z][-._a-zA-Z0-9]{0,255}"
EnvName = Annotated[str, matching(ENV_NAME_PATTERN, "an environment variable name")]
SecretName = Annotated[str, matching(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,252}", "a secret name")]


def _env_value(value: Any) -> Any:
    """YAML turns `value: 1` / `value: true` into numbers and bools; env values are strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


def normalize_envs(title: str, key: str, value: Any) -> Any:
    """Turn `[{name, value}, ...]` into `{name: value}`; located errors name `key[i].field`."""
    if isinstance(value, dict):
        return {k: _env_value(v) for k, v in value.items()}
    if not isinstance(value, list):
        return value  # the dict type rejects it with a clear message
    out: dict[Any, Any] = {}
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise field_error(title, (key, i), "expected {name, value}", item)
        unknown = sorted(set(item) - {"name", "value"})
        if unknown:
            raise field_error(title, (key, i, unknown[0]), "unknown field", item[unknown[0]])
        if "name" not in item:
            raise field_error(title, (key, i, "name"), "field required", item)
        if item["name"] in out:
            raise field_error(title, (key, i, "name"), f"duplicate env {item['name']!r}", item["name"])
        out[item["name"]] = _env_value(item.get("value", ""))
    return out


def _scalar_args(value: Any) -> Any:
    """`args: [--max-model-len, 4096]` in YAML yields an int; engine args are strings."""
    if isinstance(value, list):
        return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]
    return value


class ServeSpec(StrictModel):
    """Serve fields shared by every kind (task and run fields merged; run wins)."""

    override_field: ClassVar[str] = "url"

    profile: str | None = Field(
        default=None, min_length=1, description="Resource profile, e.g. cpu or 1xa100."
    )
    envs: dict[EnvName, str] = Field(
        default_factory=dict,
        description="Environment for the engine: a map, or a list of {name, value} (normalised to a map).",
    )
    secrets: list[SecretName] = Field(
        default_factory=list,
        description="Project secret names whose values are injected as env.",
    )
    args: Annotated[list[str], BeforeValidator(_scalar_args)] = Field(
        default_factory=list,
        description="Extra engine arguments, added after the ones the runtime sets.",
    )
    scaling: Scaling = Field(default_factory=Scaling, description="Replicas, autoscaling and load balancing.")

    @model_validator(mode="before")
    @classmethod
    def _envs(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        key = "envs"
        if "env" in data:
            if "envs" in data:
                raise field_error(
                    cls.__name__, ("env",), "set envs only (env is its deprecated spelling)", data["env"]
                )
            warnings.warn("serve field 'env' is deprecated; use 'envs'", DeprecationWarning, stacklevel=2)
            key = "env"
            data["envs"] = data.pop("env")
        if data.get("envs") is not None:
            data["envs"] = normalize_envs(cls.__name__, key, data["envs"])
        return data

    @field_validator("secrets")
    @classmethod
    def _unique_secrets(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))

    def url_override(self) -> str | None:
        """The run-level model url override (`url`, or `path` for huggingfaceserve), if any."""
        value = getattr(self, self.override_field, None)
        return value if isinstance(value, str) and value else None
