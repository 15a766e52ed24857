"""Argo CD installed from its pinned Helm chart, and Argo CD `Application`s that depend on it."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from components.base import ComponentArgs, child
from components.k8s.helm_release import HelmRelease, HelmReleaseArgs, check_local_chart
from components.k8s.values import is_pinned

ARGOCD_REPOSITORY = "https://argoproj.github.io/argo-helm"
ARGOCD_CHART_VERSION = "7.7.11"

# The server stays inside the cluster: no LoadBalancer, no ingress, TLS on. Operators reach it with port-forward or
# an ingress they add on purpose (values: server.service.type / server.ingress.enabled).
ARGOCD_DEFAULT_VALUES: dict[str, Any] = {
    "global": {"securityContext": {"runAsNonRoot": True}},
    "server": {"service": {"type": "ClusterIP"}, "ingress": {"enabled": False}},
    "configs": {"params": {"server.insecure": False}},
    "dex": {"enabled": False},
}


class ArgoCdArgs(ComponentArgs):
    provider: Any
    namespace: str = "argocd"
    chart_version: str = ARGOCD_CHART_VERSION
    chart_path: str | None = Field(
        None, description="A chart in this repository instead of the public one (offline: charts/argo-cd-offline)."
    )
    values: dict[str, Any] = Field(default_factory=dict)
    expose_server: bool = Field(False, description="Allow a LoadBalancer service for the server (off by default).")

    @field_validator("chart_path")
    @classmethod
    def _in_repository(cls, value: str | None) -> str | None:
        return check_local_chart(value) if value is not None else None

    @model_validator(mode="after")
    def _not_public(self) -> ArgoCdArgs:
        service_type = self.values.get("server", {}).get("service", {}).get("type", "ClusterIP")
        if service_type == "LoadBalancer" and not self.expose_server:
            raise ValueError("server.service.type=LoadBalancer exposes Argo CD; set expose_server=True on purpose")
        return self


class ArgoCd(pulumi.ComponentResource):
    """Argo CD through HelmRelease, server not exposed publicly by default."""

    namespace: str

    def __init__(self, name: str, args: ArgoCdArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:k8s:ArgoCd", name, None, opts)
        self.namespace = args.namespace
        source: dict[str, Any] = (
            {"chart": args.chart_path}
            if args.chart_path is not None
            else {"chart": "argo-cd", "repository": ARGOCD_REPOSITORY, "version": args.chart_version}
        )
        self.helm = HelmRelease(
            f"{name}-helm",
            HelmReleaseArgs(
                provider=args.provider,
                **source,
                release_name="argocd",
                namespace=args.namespace,
                default_values=ARGOCD_DEFAULT_VALUES,
                values=args.values,
                tags=args.tags,
            ),
            opts=child(self, depends_on=(opts.depends_on if opts is not None else None) or None),
        )
        self.release = self.helm.release
        self.register_outputs({"namespace": args.namespace, "status": self.helm.status})


class SyncPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    automated: bool = True
    prune: bool = True
    self_heal: bool = True
    options: list[str] = Field(default_factory=lambda: ["CreateNamespace=true", "ServerSideApply=true"])


class ArgoCdAppArgs(ComponentArgs):
    provider: Any
    argocd: Any = Field(description="The ArgoCd component this app depends on.")
    repo_url: str = Field(pattern=r"^(https://|oci://|git@)")
    path: str | None = Field(None, description="A path in the Git repo (a chart or manifests).")
    chart: str | None = Field(None, description="A chart name in a Helm repository.")
    target_revision: str = Field(min_length=1)
    destination_namespace: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
    destination_server: str = "https://kubernetes.default.svc"
    project: str = "default"
    helm_values: dict[str, Any] = Field(default_factory=dict)
    sync: SyncPolicy = Field(default_factory=SyncPolicy)
    cascade_delete: bool = Field(
        True, description="Argo CD deletes the app's resources with it (a finalizer only a running Argo CD removes)."
    )

    @model_validator(mode="after")
    def _source(self) -> ArgoCdAppArgs:
        if (self.path is None) == (self.chart is None):
            raise ValueError("give exactly one of path (Git) or chart (Helm repository)")
        if self.chart is not None and not is_pinned(self.target_revision):
            raise ValueError(f"chart {self.chart!r} needs a pinned target_revision, got {self.target_revision!r}")
        if not isinstance(self.argocd, ArgoCd):
            raise ValueError("argocd must be the ArgoCd component the app depends on")
        return self

    def spec(self) -> dict[str, Any]:
        source: dict[str, Any] = {"repoURL": self.repo_url, "targetRevision": self.target_revision}
        if self.path is not None:
            source["path"] = self.path
        else:
            source["chart"] = self.chart
        if self.helm_values:
            source["helm"] = {"valuesObject": self.helm_values}
        sync: dict[str, Any] = {"syncOptions": list(self.sync.options)}
        if self.sync.automated:
            sync["automated"] = {"prune": self.sync.prune, "selfHeal": self.sync.self_heal}
        return {
            "project": self.project,
            "source": source,
            "destination": {"server": self.destination_server, "namespace": self.destination_namespace},
            "syncPolicy": sync,
        }


class ArgoCdApp(pulumi.ComponentResource):
    """An `argoproj.io/v1alpha1` Application, created after the Argo CD install it needs."""

    def __init__(self, name: str, args: ArgoCdAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:k8s:ArgoCdApp", name, None, opts)
        self.application = k8s.apiextensions.CustomResource(
            f"{name}-application",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata={
                "name": name,
                "namespace": args.argocd.namespace,
                # (no key at all without it: the API server drops an empty list, which would diff forever)
                **({"finalizers": ["resources-finalizer.argocd.argoproj.io"]} if args.cascade_delete else {}),
                "labels": {"app.kubernetes.io/managed-by": "datamcp"},
                # The reviewed program owns the Application: a hand edit is drift, put back by the next approved
                # apply instead of failing it with a server-side apply conflict.
                "annotations": {"pulumi.com/patchForce": "true"},
            },
            spec=args.spec(),
            opts=child(self, provider=args.provider, depends_on=[args.argocd.release]),
        )
        self.register_outputs({"name": name, "namespace": args.argocd.namespace})
