"""What AWS and GCP stacks share: Argo CD and the DataMCP app on a cluster, through the cluster's own provider."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.k8s import ArgoCd, ArgoCdApp, ArgoCdAppArgs, ArgoCdArgs, cluster_provider
from stacks.config import AppConfig, ArgoCdConfig, repo_token


def deploy_apps(
    kubeconfig: pulumi.Output[str], argocd_config: ArgoCdConfig, app: AppConfig, tags: dict[str, str]
) -> ArgoCdApp:
    """Argo CD on the cluster, Git credentials if a token is configured, and the app that deploys DataMCP."""
    provider = cluster_provider("cluster", kubeconfig)
    argocd = ArgoCd("argocd", ArgoCdArgs(provider=provider, chart_version=argocd_config.chart_version, tags=tags))
    token = repo_token()
    if token is not None:
        # Argo CD reads repository credentials from a labelled Secret; the token stays a Pulumi secret.
        k8s.core.v1.Secret(
            "argocd-repo-credentials",
            metadata={
                "name": "datamcp-repo",
                "namespace": argocd.namespace,
                "labels": {"argocd.argoproj.io/secret-type": "repository"},
            },
            string_data={"type": "git", "url": app.repo_url, "username": "git", "password": token},
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[argocd.release]),
        )
    return ArgoCdApp(
        "datamcp",
        ArgoCdAppArgs(
            provider=provider,
            argocd=argocd,
            repo_url=app.repo_url,
            path=app.path,
            target_revision=app.target_revision,
            destination_namespace=app.namespace,
            helm_values={"replicaCount": app.replicas},
            tags=tags,
        ),
    )
