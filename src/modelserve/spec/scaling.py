"""`scaling` and `load_balancing`: KubeAI's autoscaling and routing knobs, used by every kind.

Names and defaults follow the seed (snake_case fields mapping to KubeAI's camelCase CR fields).
`target_request` (the seed SDK's spelling) is accepted with a DeprecationWarning.
Imports only `spec.common`.
"""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, model_validator

from modelserve.spec.common import StrictModel, canonical, field_error

Strategy = Literal["LeastLoad", "PrefixHash", "PrefixCache"]


class PrefixHash(StrictModel):
    """Consistent hashing with bounded loads (KubeAI `loadBalancing.prefixHash`)."""

    mean_load_factor: int = Field(
        default=125,
        ge=100,
        description="Cap on an endpoint's load, in percent of the mean load (KubeAI meanLoadFactor).",
    )
    replication: int = Field(default=256, ge=1, description="Virtual nodes per endpoint on the hash ring.")
    prefix_char_length: int = Field(
        default=100,
        ge=1,
        description="Characters of the prompt prefix that are hashed.",
    )


class LoadBalancing(StrictModel):
    """How the gateway picks a replica for a request."""

    strategy: Annotated[Strategy, BeforeValidator(canonical(get_args(Strategy)))] = Field(
        default="LeastLoad",
        description="LeastLoad, PrefixHash or PrefixCache (case-insensitive).",
    )
    prefix_hash: PrefixHash = Field(default_factory=PrefixHash, description="PrefixHash parameters.")


class Scaling(StrictModel):
    """Replica count and autoscaling policy (KubeAI Model replicas/minReplicas/... fields)."""

    replicas: int = Field(default=1, ge=0, description="Replicas actively serving at start.")
    min_replicas: int = Field(default=1, ge=0, description="Scale-down floor; 0 allows scale to zero.")
    max_replicas: int | None = Field(
        default=None, ge=1, description="Scale-up ceiling; unset means no limit."
    )
    autoscaling_disabled: bool = Field(default=False, description="Keep `replicas` fixed.")
    target_requests: int = Field(
        default=100,
        ge=1,
        description="Average number of in-flight requests per replica the autoscaler aims for.",
    )
    scale_down_delay_seconds: int = Field(
        default=30,
        ge=0,
        description="How long load must stay low before a replica is removed.",
    )
    load_balancing: LoadBalancing = Field(default_factory=LoadBalancing, description="Routing strategy.")

    @model_validator(mode="before")
    @classmethod
    def _legacy_target_request(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "target_request" not in data:
            return data
        if "target_requests" in data:
            raise field_error(
                cls.__name__,
                ("target_request",),
                "set target_requests only (target_request is its deprecated spelling)",
                data["target_request"],
            )
        warnings.warn(
            "scaling.target_request is deprecated; use scaling.target_requests",
            DeprecationWarning,
            stacklevel=2,
        )
        data = dict(data)
        data["target_requests"] = data.pop("target_request")
        return data

    @model_validator(mode="after")
    def _bounds(self) -> Scaling:
        name = type(self).__name__
        if self.max_replicas is not None and self.min_replicas > self.max_replicas:
            raise field_error(
                name,
                ("min_replicas",),
                f"min_replicas ({self.min_replicas}) is greater than max_replicas ({self.max_replicas})",
                self.min_replicas,
            )
        if self.replicas < self.min_replicas:
            raise field_error(
                name,
                ("replicas",),
                f"replicas ({self.replicas}) is less than min_replicas ({self.min_replicas}); "
                "set min_replicas: 0 to allow zero replicas",
                self.replicas,
            )
        if self.max_replicas is not None and self.replicas > self.max_replicas:
            raise field_error(
                name,
                ("replicas",),
                f"replicas ({self.replicas}) is greater than max_replicas ({self.max_replicas})",
                self.replicas,
            )
        return self
