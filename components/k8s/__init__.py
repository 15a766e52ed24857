"""Kubernetes components: Helm releases, Argo CD and Argo CD applications, always through an explicit provider."""

from components.k8s.argocd import ARGOCD_CHART_VERSION, ArgoCd, ArgoCdApp, ArgoCdAppArgs, ArgoCdArgs, SyncPolicy
from components.k8s.helm_release import HelmRelease, HelmReleaseArgs, cluster_provider

__all__ = [
    "ARGOCD_CHART_VERSION",
    "ArgoCd",
    "ArgoCdApp",
    "ArgoCdAppArgs",
    "ArgoCdArgs",
    "HelmRelease",
    "HelmReleaseArgs",
    "SyncPolicy",
    "cluster_provider",
]
