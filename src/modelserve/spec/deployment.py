"""Serve fields of the Deployment-based kinds (vllmserve-*, huggingfaceserve): resources,
volumes, replicas, service type and name, with Kubernetes quantity validation.

`replicas` (the seed's Deployment size) and `scaling` describe the same thing; one rule joins
them: without `scaling`, replicas stay fixed at `replicas` (autoscaling disabled, as in the
seed); with `scaling`, `replicas` fills `scaling.replicas` and both must agree. After
validation `replicas == scaling.replicas`. Imports only `spec.common`, `spec.serving`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, model_validator

from modelserve.spec.common import StrictModel, canonical, field_error, matching
from modelserve.spec.serving import ServeSpec

QUANTITY_PATTERN = r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[KMGTPE]i|[mkMGTPE])?"
DNS_LABEL_PATTERN = r"(?=.{1,63}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?"


def _number_to_str(value: Any) -> Any:
    """YAML reads `cpu: 2` as an int; quantities are strings."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


Quantity = Annotated[
    str,
    BeforeValidator(_number_to_str),
    matching(QUANTITY_PATTERN, "a Kubernetes quantity (e.g. 500m, 2, 1.5, 16Gi, 10G)"),
]
"""A Kubernetes resource quantity: 500m, 2, 1.5, 16Gi, 10G, 1e3."""

GpuCount = Annotated[str, BeforeValidator(_number_to_str), matching(r"\d{1,6}", "a whole number of GPUs")]
DnsLabel = Annotated[str, matching(DNS_LABEL_PATTERN, "a DNS label ([a-z0-9-], at most 63 characters)")]
AbsPath = Annotated[str, matching(r"/.{0,1023}", "an absolute path")]

ServiceType = Literal["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"]
VolumeType = Literal["shared_volume", "persistent_volume_claim", "ephemeral", "empty_dir", "image"]


class Resources(StrictModel):
    """Requests for one replica, as Kubernetes quantities."""

    cpu: Quantity | None = Field(default=None, description="CPU, e.g. 2 or 500m.")
    mem: Quantity | None = Field(
        default=None, description="Memory, e.g. 16Gi; also sizes vLLM's CPU KV cache."
    )
    gpu: GpuCount | None = Field(default=None, description="Number of GPUs.")
    disk: Quantity | None = Field(default=None, description="Scratch disk for the model, e.g. 10Gi.")


class Volume(StrictModel):
    """A volume mounted into every replica."""

    name: DnsLabel = Field(description="Volume name (DNS label).")
    volume_type: Annotated[VolumeType, BeforeValidator(canonical(get_args(VolumeType)))] = Field(
        description="shared_volume, persistent_volume_claim, ephemeral, empty_dir or image.",
    )
    mount_path: AbsPath = Field(description="Absolute mount path inside the replica.")
    spec: dict[str, Any] = Field(default_factory=dict, description="Type-specific settings.")


class DeploymentServe(ServeSpec):
    """Task fields of the seed's Deployment + Service kinds."""

    resources: Resources = Field(default_factory=Resources, description="Per-replica resources.")
    volumes: list[Volume] = Field(default_factory=list, description="Extra volumes.")
    replicas: int = Field(default=1, ge=0, description="Replicas (same as scaling.replicas).")
    service_type: Annotated[ServiceType, BeforeValidator(canonical(get_args(ServiceType)))] = Field(
        default="ClusterIP",
        description="Kubernetes Service type.",
    )
    service_name: DnsLabel | None = Field(default=None, description="Extra alias Service name.")

    @model_validator(mode="before")
    @classmethod
    def _replicas_into_scaling(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        top = data.get("replicas")
        usable = isinstance(top, int) and not isinstance(top, bool) and top >= 0
        scaling = data.get("scaling")
        if scaling is None:
            fixed: dict[str, Any] = {"autoscaling_disabled": True}
            if usable and isinstance(top, int):
                fixed.update(replicas=top, min_replicas=min(1, top))
            return {**data, "scaling": fixed}
        if not isinstance(scaling, dict) or not usable:
            return data
        if "replicas" in scaling and scaling["replicas"] != top:
            raise field_error(
                cls.__name__,
                ("replicas",),
                f"replicas ({top}) and scaling.replicas ({scaling['replicas']}) differ; set one",
                top,
            )
        return {**data, "scaling": {**scaling, "replicas": top}}

    @model_validator(mode="after")
    def _sync_replicas(self) -> DeploymentServe:
        self.replicas = self.scaling.replicas
        names = [v.name for v in self.volumes]
        paths = [v.mount_path for v in self.volumes]
        for i, v in enumerate(self.volumes):
            if names.index(v.name) != i:
                raise field_error(
                    type(self).__name__, ("volumes", i, "name"), f"duplicate volume name {v.name!r}", v.name
                )
            if paths.index(v.mount_path) != i:
                raise field_error(
                    type(self).__name__,
                    ("volumes", i, "mount_path"),
                    f"duplicate mount path {v.mount_path!r}",
                    v.mount_path,
                )
        return self
