"""The stacks DataMCP knows, with their cloud, environment and config model: enumerable without running them.

Each stack names its program as "module:function", imported when the stack is built: listing the stacks or building
one never imports the other stacks' programs, their components or their cloud SDKs.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, cast

from pydantic import BaseModel

from stacks.config import AwsStackConfig, GcpStackConfig, K8sStackConfig, ScaleStackConfig

STACK_NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,62}$")


@dataclass(frozen=True)
class StackSpec:
    name: str
    cloud: Literal["aws", "gcp", "kubernetes"]
    environment: Literal["dev", "prod"]
    description: str
    config_model: type[BaseModel]
    program: str  # "module:function", the function that builds the stack from its validated config

    @property
    def build(self) -> Callable[[Any], None]:
        """The stack's build function, its module imported on first use."""
        module, _, function = self.program.partition(":")
        return cast("Callable[[Any], None]", getattr(importlib.import_module(module), function))

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
            "stacks.aws:aws_stack",
        ),
        StackSpec(
            "aws-prod",
            "aws",
            "prod",
            "AWS production: NAT per AZ, private API only, deletion protection",
            AwsStackConfig,
            "stacks.aws:aws_stack",
        ),
        StackSpec(
            "aws-scale",
            "aws",
            "dev",
            "Sandbox scale test: N hardened buckets and tables from the real components (datamcp:scale)",
            ScaleStackConfig,
            "stacks.scale:scale_stack",
        ),
        StackSpec(
            "gcp-dev",
            "gcp",
            "dev",
            "GCP development: small regional GKE, authorized networks for the team",
            GcpStackConfig,
            "stacks.gcp:gcp_stack",
        ),
        StackSpec(
            "gcp-prod",
            "gcp",
            "prod",
            "GCP production: private endpoint, STABLE channel, deletion protection",
            GcpStackConfig,
            "stacks.gcp:gcp_stack",
        ),
        StackSpec(
            "k8s-local",
            "kubernetes",
            "dev",
            "An existing Kubernetes cluster (a local one in the sandbox): the DataMCP chart, Argo CD optional",
            K8sStackConfig,
            "stacks.k8s:k8s_stack",
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
