"""The node groups, node pools and authorized networks a stack's config names and the cluster components take:
plain models without a cloud SDK, so that stack config is read (and its JSON schema built) without importing one."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class NodeGroupSpec(BaseModel):
    """One managed node group: instance types and scaling bounds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    instance_types: list[str] = Field(default_factory=lambda: ["t3.large"], min_length=1)
    min_size: int = Field(1, ge=0)
    desired_size: int = Field(2, ge=0)
    max_size: int = Field(3, ge=1)
    disk_size_gb: int = Field(50, ge=20, le=16384)
    capacity_type: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sizes(self) -> NodeGroupSpec:
        if self.min_size > self.max_size:
            raise ValueError(f"node group {self.name!r}: min_size {self.min_size} > max_size {self.max_size}")
        if not self.min_size <= self.desired_size <= self.max_size:
            raise ValueError(
                f"node group {self.name!r}: desired_size {self.desired_size} must be within "
                f"[{self.min_size}, {self.max_size}]"
            )
        return self


class NodePoolSpec(BaseModel):
    """One autoscaled GKE node pool: machine type and node bounds per zone."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z][-a-z0-9]{0,30}$")
    machine_type: str = "e2-standard-4"
    min_nodes: int = Field(1, ge=0, description="Per zone.")
    max_nodes: int = Field(3, ge=1, description="Per zone.")
    disk_size_gb: int = Field(100, ge=10)
    spot: bool = False
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _bounds(self) -> NodePoolSpec:
        if self.min_nodes > self.max_nodes:
            raise ValueError(f"node pool {self.name!r}: min_nodes {self.min_nodes} > max_nodes {self.max_nodes}")
        return self


class AuthorizedNetwork(BaseModel):
    """A network allowed to reach a GKE control plane's endpoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cidr: str
    name: str = Field(min_length=1)

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        ipaddress.ip_network(value, strict=True)
        return value
