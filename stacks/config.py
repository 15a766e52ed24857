"""Typed stack configuration read from `Pulumi.<stack>.yaml` through `pulumi.Config`.

Every key lives in the project's namespace as one object per concern (`datamcp:network`, `datamcp:cluster`, ...),
plus the cloud provider's own keys (`aws:region`, `gcp:project`, ...). Unknown keys, wrong types and impossible values
raise `StackConfigError` naming the file and the key, before any resource is registered. Secrets (`repo_token`) are
read with `get_secret` and stay Pulumi secrets.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from components.cluster_specs import AuthorizedNetwork, NodeGroupSpec, NodePoolSpec

PROJECT = "datamcp"


class StackConfigError(ValueError):
    """A stack's config file holds a key or value the stack cannot use; nothing was registered."""

    def __init__(self, stack: str, key: str, message: str) -> None:
        self.file = f"Pulumi.{stack}.yaml"
        self.key = key
        super().__init__(f"{self.file}: {key}: {message}")


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AwsNetworkConfig(_Section):
    cidr: str = "10.0.0.0/16"
    az_count: int = Field(2, ge=1, le=6)
    nat: Literal["single", "per_az", "none"] = "single"


class EksConfig(_Section):
    kubernetes_version: str = Field("1.33", pattern=r"^1\.\d{2}$")
    public_endpoint: bool = False
    public_access_cidrs: list[str] = Field(default_factory=list)
    node_groups: list[NodeGroupSpec] = Field(default_factory=lambda: [NodeGroupSpec(name="default")], min_length=1)


class AwsStorageConfig(_Section):
    noncurrent_expire_after_days: int = Field(30, ge=1)
    force_destroy: bool = False
    public_access: bool = False


class OpsLogConfig(_Section):
    table_name: str = Field("mcp_ops_log", pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    deletion_protection: bool = False


class ArgoCdConfig(_Section):
    chart_version: str = "7.7.11"

    @field_validator("chart_version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        from components.k8s.values import is_pinned  # components.k8s loads the Kubernetes SDK: only when validating

        if not is_pinned(value):
            raise ValueError(f"must be an exact chart version, got {value!r}")
        return value


class AppConfig(_Section):
    """Where Argo CD finds the DataMCP chart."""

    repo_url: str = Field("https://github.com/datamcp/datamcp.git", pattern=r"^(https://|git@)")
    path: str = "charts/datamcp"
    target_revision: str = Field("main", min_length=1)
    namespace: str = Field("datamcp", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    replicas: int = Field(1, ge=1, le=20)


class AwsStackConfig(_Section):
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    network: AwsNetworkConfig = Field(default_factory=AwsNetworkConfig)
    cluster: EksConfig = Field(default_factory=EksConfig)
    storage: AwsStorageConfig = Field(default_factory=AwsStorageConfig)
    ops_log: OpsLogConfig = Field(default_factory=OpsLogConfig)
    argocd: ArgoCdConfig = Field(default_factory=ArgoCdConfig)
    app: AppConfig = Field(default_factory=AppConfig)
    tags: dict[str, str] = Field(default_factory=dict)
    # Policy rules switched off for this stack, rule id -> the reason; checked by the engine (docs/policy.md).
    policy_exceptions: dict[str, str] = Field(default_factory=dict)


class ScaleConfig(_Section):
    resources: int = Field(100, ge=10, le=20_000, description="Components and resources to build (even).")


class ScaleStackConfig(_Section):
    """The scale stack (stacks/scale.py): hardened buckets and ops-log tables up to `scale.resources`."""

    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    scale: ScaleConfig = Field(default_factory=ScaleConfig)
    tags: dict[str, str] = Field(default_factory=dict)
    policy_exceptions: dict[str, str] = Field(default_factory=dict)


class GcpNetworkConfig(_Section):
    cidr: str = "10.10.0.0/20"
    pods_cidr: str = "10.20.0.0/14"
    services_cidr: str = "10.30.0.0/20"


class GkeConfig(_Section):
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    private_endpoint: bool = True
    master_cidr: str = "172.16.0.0/28"
    master_authorized_networks: list[AuthorizedNetwork] = Field(default_factory=list)
    node_pools: list[NodePoolSpec] = Field(default_factory=lambda: [NodePoolSpec(name="default")], min_length=1)
    deletion_protection: bool = False


class GcsConfig(_Section):
    location: str = "EU"
    noncurrent_versions_kept: int = Field(5, ge=1)
    force_destroy: bool = False


class GcpStackConfig(_Section):
    project: str = Field(pattern=r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d+$")
    network: GcpNetworkConfig = Field(default_factory=GcpNetworkConfig)
    cluster: GkeConfig = Field(default_factory=GkeConfig)
    storage: GcsConfig = Field(default_factory=GcsConfig)
    argocd: ArgoCdConfig = Field(default_factory=ArgoCdConfig)
    app: AppConfig = Field(default_factory=AppConfig)
    tags: dict[str, str] = Field(default_factory=dict)
    # Policy rules switched off for this stack, rule id -> the reason; checked by the engine (docs/policy.md).
    policy_exceptions: dict[str, str] = Field(default_factory=dict)


class ChartAppConfig(_Section):
    """The DataMCP chart released straight onto a cluster (no Argo CD in between)."""

    namespace: str = Field("datamcp", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    replicas: int = Field(1, ge=1, le=20)
    values: dict[str, Any] = Field(default_factory=dict, description="More chart values, merged over the above.")
    await_ready: bool = Field(
        True, description="Wait for the workloads to become ready (false: a cluster without nodes)."
    )


class ClusterArgoCdConfig(_Section):
    """Argo CD on a cluster DataMCP does not create; off unless asked for."""

    enabled: bool = False
    chart_version: str = "7.7.11"
    chart_path: str | None = Field(None, description="A chart in this repository (offline: charts/argo-cd-offline).")
    cascade_delete: bool = Field(True, description="The Application's cascade finalizer (needs a running Argo CD).")


class K8sStackConfig(_Section):
    app: ChartAppConfig = Field(default_factory=ChartAppConfig)
    argocd: ClusterArgoCdConfig = Field(default_factory=ClusterArgoCdConfig)
    source: AppConfig = Field(default_factory=AppConfig, description="Where the Argo CD Application takes the chart.")
    tags: dict[str, str] = Field(default_factory=dict)
    # Policy rules switched off for this stack, rule id -> the reason; checked by the engine (docs/policy.md).
    policy_exceptions: dict[str, str] = Field(default_factory=dict)


# Which provider keys each cloud's stacks read; anything else in that namespace is unknown too.
PROVIDER_KEYS: dict[str, dict[str, str]] = {
    "aws": {"aws:region": "region"},
    "gcp": {"gcp:project": "project", "gcp:region": "region"},
    "kubernetes": {},
}
SECRET_KEYS = ("repo_token", "kubeconfig")
# Provider namespaces a stack may configure beyond the keys it reads (passed to the provider as they are).
ALLOWED_PROVIDER_NAMESPACES = {"aws": ("aws",), "gcp": ("gcp",), "kubernetes": ("kubernetes",)}


def _all_config_keys() -> list[str]:
    """Every config key the engine passed to this program (`project:key` form)."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return sorted(keys)


def load_config(cloud: str, model: type[BaseModel]) -> Any:
    """Read, check and return the current stack's config as `model`; raise StackConfigError on any problem."""
    stack = pulumi.get_stack()
    values: dict[str, Any] = {}
    own = pulumi.Config(PROJECT)
    provider_keys = PROVIDER_KEYS[cloud]
    for full_key in _all_config_keys():
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT:
            if key in SECRET_KEYS:
                continue
            if key not in model.model_fields or key in provider_keys.values():
                known = sorted(k for k in model.model_fields if k not in provider_keys.values())
                raise StackConfigError(
                    stack, full_key, f"unknown key; known keys: {', '.join(known + list(SECRET_KEYS))}"
                )
            if _is_secret(full_key):
                raise StackConfigError(
                    stack, full_key, f"is stored as a secret, but only {' and '.join(SECRET_KEYS)} are"
                )
            raw = own.get(key)
            try:
                values[key] = json.loads(raw) if raw is not None and raw[:1] in "{[" else raw
            except json.JSONDecodeError as exc:
                raise StackConfigError(stack, full_key, f"not valid structured config: {exc}") from None
        elif full_key in provider_keys:
            values[provider_keys[full_key]] = pulumi.Config(namespace).get(key)
        elif namespace not in ALLOWED_PROVIDER_NAMESPACES[cloud]:
            raise StackConfigError(stack, full_key, f"namespace {namespace!r} does not belong to a {cloud} stack")
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = [str(p) for p in err["loc"]]
        top = loc[0] if loc else "config"
        reverse = {v: k for k, v in provider_keys.items()}
        key = reverse.get(top, f"{PROJECT}:{top}")
        path = ".".join([key, *loc[1:]]) if loc else key
        raise StackConfigError(stack, path, err["msg"]) from None


def _is_secret(full_key: str) -> bool:
    from pulumi.runtime import config as runtime_config

    return bool(runtime_config.is_config_secret(full_key))


def cluster_kubeconfig() -> pulumi.Output[str] | None:
    """The kubeconfig of a cluster DataMCP does not create (a Pulumi secret: it holds a credential), or None."""
    return pulumi.Config(PROJECT).get_secret("kubeconfig")


def repo_token() -> pulumi.Output[str] | None:
    """The Git token Argo CD uses for a private repository: a Pulumi secret end to end, or None."""
    return pulumi.Config(PROJECT).get_secret("repo_token")
