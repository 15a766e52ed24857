"""A Helm release through an explicit Kubernetes provider, from a chart in this repo or a pinned repository chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field, field_validator, model_validator

from components.base import ComponentArgs, child
from components.k8s.values import deep_merge, is_pinned

REPO_ROOT = Path(__file__).resolve().parents[2]


def cluster_provider(
    name: str, kubeconfig: pulumi.Input[str], opts: pulumi.ResourceOptions | None = None
) -> k8s.Provider:
    """A Kubernetes provider for one cluster, from that cluster component's kubeconfig output.

    Never the ambient kubeconfig: every Kubernetes resource DataMCP creates names its provider explicitly.
    """
    return k8s.Provider(name, kubeconfig=kubeconfig, enable_server_side_apply=True, opts=opts)


def check_local_chart(chart: str) -> str:
    """A chart folder of this repository, named by its relative path (what the program digest covers)."""
    if Path(chart).is_absolute() or ".." in Path(chart).parts:
        raise ValueError(f"local chart {chart!r} must be a relative path inside this repository")
    if not (REPO_ROOT / chart / "Chart.yaml").is_file():
        raise ValueError(f"local chart {chart!r} has no Chart.yaml")
    return chart


class HelmReleaseArgs(ComponentArgs):
    provider: Any = Field(description="The explicit kubernetes.Provider of the target cluster (required).")
    chart: str = Field(min_length=1, description="A chart name in `repository`, or a path to a chart in this repo.")
    repository: str | None = Field(None, description="https:// or oci:// chart repository; None for a local chart.")
    version: str | None = Field(None, description="Exact chart version; required for repository charts.")
    release_name: str | None = Field(None, pattern=r"^[a-z0-9]([-a-z0-9]{0,51}[a-z0-9])?$")
    namespace: str = Field("default", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    create_namespace: bool = True
    default_values: dict[str, Any] = Field(default_factory=dict, description="The component's own defaults.")
    values: dict[str, Any] = Field(default_factory=dict, description="Merged over default_values (maps deep).")
    atomic: bool = Field(True, description="Roll back a failed install or upgrade.")
    timeout_seconds: int = Field(600, ge=30, le=3600)
    skip_await: bool = Field(
        False,
        description="Do not wait for the workloads to become ready (a cluster without nodes never runs them); the "
        "release is then not atomic either, since Helm's atomic install waits for readiness.",
    )

    @field_validator("provider")
    @classmethod
    def _provider(cls, value: Any) -> Any:
        if not isinstance(value, k8s.Provider):
            raise ValueError("provider must be an explicit kubernetes.Provider (the ambient kubeconfig is never used)")
        return value

    @model_validator(mode="after")
    def _chart_source(self) -> HelmReleaseArgs:
        if self.repository is None:
            check_local_chart(self.chart)
        else:
            if not self.repository.startswith(("https://", "oci://")):
                raise ValueError("repository must be an https:// or oci:// URL")
            if self.version is None or not is_pinned(self.version):
                raise ValueError(
                    f"chart {self.chart!r} from a repository needs an exact pinned version, got {self.version!r}"
                )
        return self

    def local_chart_path(self) -> Path:
        return REPO_ROOT / self.chart

    def merged_values(self) -> dict[str, Any]:
        return deep_merge(self.default_values, self.values)


class HelmRelease(pulumi.ComponentResource):
    """`kubernetes.helm.v3.Release` with namespace creation, merged values, atomic upgrades and a timeout."""

    status: pulumi.Output[Any]

    def __init__(self, name: str, args: HelmReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:k8s:HelmRelease", name, None, opts)
        release_args: dict[str, Any] = {
            "name": args.release_name or name,
            "namespace": args.namespace,
            "create_namespace": args.create_namespace,
            "values": args.merged_values(),
            "atomic": args.atomic and not args.skip_await,  # Helm's atomic waits for readiness
            "cleanup_on_fail": True,
            "timeout": args.timeout_seconds,
        }
        if args.skip_await:
            release_args["skip_await"] = True
        if args.repository is None:
            # Relative to the program's work dir (the repo root), so state and plans name no machine path; the "./"
            # says it is a folder, not a chart of a configured repository (the policy pack tells them apart so).
            release_args["chart"] = f"./{args.chart}"
        else:
            release_args.update(chart=args.chart, version=args.version, repository_opts={"repo": args.repository})
        waits_for = (opts.depends_on if opts is not None else None) or None  # children do not inherit depends_on
        self.release = k8s.helm.v3.Release(
            f"{name}-release", **release_args, opts=child(self, provider=args.provider, depends_on=waits_for)
        )
        self.status = self.release.status
        self.register_outputs({"name": self.release.name, "namespace": args.namespace, "status": self.status})
