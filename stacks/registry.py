"""The stacks DataMCP knows, with their cloud, environment and config model: enumerable without running them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from stacks.aws import aws_stack
from stacks.config import AwsStackConfig, GcpStackConfig, K8sStackConfig, ScaleStackConfig
from stacks.gcp import gcp_stack
from stacks.k8s import k8s_stack
from stacks.scale import scale_stack

STACK_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class StackSpec:
    name: str
    cloud: Literal["aws", "gcp", "kubernetes"]
    environment: Literal["dev", "prod"]
    description: str
    config_model: type[BaseModel]
    build: Callable[[Any], None]

    @property
    def config_file(self) -> str:
        return f"Pulumi.{self.name}.yaml"


STACKS: dict[str, StackSpec] = {
    spec.name: spec
    for spec in (
        StackSpec(
            "aws-dev",
            "aws",
            "dev",
            "AWS development: one NAT, small nodes, public API for the team's CIDRs",
            AwsStackConfig,
            aws_stack,
        ),
        StackSpec(
            "aws-prod",
            "aws",
            "prod",
            "AWS production: NAT per AZ, private API only, deletion protection",
            AwsStackConfig,
            aws_stack,
        ),
        StackSpec(
            "aws-scale",
            "aws",
            "dev",
            "Sandbox scale test: N hardened buckets and tables from the real components (datamcp:scale)",
            ScaleStackConfig,
            scale_stack,
        ),
        StackSpec(
            "gcp-dev",
            "gcp",
            "dev",
            "GCP development: small regional GKE, authorized networks for the team",
            GcpStackConfig,
            gcp_stack,
        ),
        StackSpec(
            "gcp-prod",
            "gcp",
            "prod",
            "GCP production: private endpoint, STABLE channel, deletion protection",
            GcpStackConfig,
            gcp_stack,
        ),
        StackSpec(
            "k8s-local",
            "kubernetes",
            "dev",
            "An existing Kubernetes cluster (a local one in the sandbox): the DataMCP chart, Argo CD optional",
            K8sStackConfig,
            k8s_stack,
        ),
    )
}


class UnknownStack(KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown stack {self.name!r}; known stacks: {', '.join(sorted(STACKS))}"


def get(name: str) -> StackSpec:
    try:
        return STACKS[name]
    except KeyError:
        raise UnknownStack(name) from None


def list_stacks() -> list[StackSpec]:
    return [STACKS[name] for name in sorted(STACKS)]
