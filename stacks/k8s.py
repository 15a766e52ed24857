"""A stack on a Kubernetes cluster DataMCP does not create (a local or existing cluster): the DataMCP chart released
onto it, and optionally Argo CD with the Application that deploys DataMCP. The cluster's kubeconfig is the secret
config key `datamcp:kubeconfig` (the engine sets it from DATAMCP_KUBECONFIG, docs/sandbox.md)."""

from __future__ import annotations

import json

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import ArgoCd, ArgoCdApp, ArgoCdAppArgs, ArgoCdArgs, HelmRelease, HelmReleaseArgs, cluster_provider
from stacks.config import K8sStackConfig, cluster_kubeconfig

# Without a configured cluster (the simulated cloud) the provider needs a kubeconfig all the same; nothing reads it.
NO_CLUSTER = json.dumps({"apiVersion": "v1", "kind": "Config", "clusters": [], "contexts": [], "users": []})


def k8s_stack(config: K8sStackConfig) -> None:
    provider = cluster_provider("cluster", cluster_kubeconfig() or pulumi.Output.secret(NO_CLUSTER))
    namespace = own_namespace("app-namespace", config.app.namespace, config, provider)
    release = HelmRelease(
        "datamcp",
        HelmReleaseArgs(
            provider=provider,
            chart="charts/datamcp",
            namespace=config.app.namespace,
            create_namespace=False,
            values={"replicaCount": config.app.replicas, **config.app.values},
            skip_await=not config.app.await_ready,
            tags=config.tags,
        ),
        opts=pulumi.ResourceOptions(depends_on=[namespace]),
    )
    pulumi.export("namespace", config.app.namespace)
    pulumi.export("release_status", release.status.apply(lambda s: (s or {}).get("status")))
    if config.argocd.enabled:
        argo_app(config, provider)
        pulumi.export("argocd_application", "datamcp-app")


def own_namespace(name: str, namespace: str, config: K8sStackConfig, provider: k8s.Provider) -> k8s.core.v1.Namespace:
    """A namespace the stack owns, so a destroy removes it too (Helm leaves the namespaces it creates behind)."""
    labels = {"app.kubernetes.io/managed-by": "datamcp", **config.tags}
    metadata = k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=labels, annotations={"pulumi.com/patchForce": "true"})
    return k8s.core.v1.Namespace(name, metadata=metadata, opts=pulumi.ResourceOptions(provider=provider))


def argo_app(config: K8sStackConfig, provider: k8s.Provider) -> ArgoCdApp:
    settings = config.argocd
    namespace = own_namespace("argocd-namespace", "argocd", config, provider)
    argocd = ArgoCd(
        "argocd",
        ArgoCdArgs(
            provider=provider,
            chart_version=settings.chart_version,
            chart_path=settings.chart_path,
            tags=config.tags,
        ),
        opts=pulumi.ResourceOptions(depends_on=[namespace]),
    )
    return ArgoCdApp(
        "datamcp-app",
        ArgoCdAppArgs(
            provider=provider,
            argocd=argocd,
            repo_url=config.source.repo_url,
            path=config.source.path,
            target_revision=config.source.target_revision,
            destination_namespace=config.app.namespace,
            helm_values={"replicaCount": config.app.replicas},
            cascade_delete=settings.cascade_delete,
            tags=config.tags,
        ),
    )
