from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest
from pydantic import ValidationError

from components.k8s import (
    ARGOCD_CHART_VERSION,
    ArgoCd,
    ArgoCdApp,
    ArgoCdAppArgs,
    ArgoCdArgs,
    HelmRelease,
    HelmReleaseArgs,
    SyncPolicy,
    cluster_provider,
)
from components.k8s.values import deep_merge, is_pinned
from engine.mocks import ProgramFailed, ProgramRun

Run = Callable[..., ProgramRun]
RELEASE = "kubernetes:helm.sh/v3:Release"
KUBECONFIG = '{"apiVersion": "v1", "kind": "Config"}'


def test_deep_merge_merges_maps_and_replaces_lists() -> None:
    base = {"server": {"service": {"type": "ClusterIP", "port": 80}}, "args": ["a"], "keep": 1}
    merged = deep_merge(base, {"server": {"service": {"port": 8080}}, "args": ["b"]})
    assert merged == {"server": {"service": {"type": "ClusterIP", "port": 8080}}, "args": ["b"], "keep": 1}
    assert base["server"]["service"]["port"] == 80  # type: ignore[index]


@pytest.mark.parametrize(
    ("version", "pinned"),
    [
        ("1.2.3", True),
        ("v7.7.11", True),
        ("1.0.0-rc.1", True),
        ("^1.2.3", False),
        ("~1.2", False),
        ("1.x", False),
        ("*", False),
        ("latest", False),
        (">=1.0.0", False),
        ("1.2", False),
    ],
)
def test_only_exact_versions_count_as_pinned(version: str, pinned: bool) -> None:
    assert is_pinned(version) is pinned


def _provider_urn(run: ProgramRun) -> str:
    return run.one("pulumi:providers:kubernetes").urn


def test_repository_chart_release_passes_exact_values_through_the_explicit_provider(mock_run: Run) -> None:
    def program() -> None:
        provider = cluster_provider("cluster", pulumi.Output.secret(KUBECONFIG))
        HelmRelease(
            "redis",
            HelmReleaseArgs(
                provider=provider,
                chart="redis",
                repository="oci://registry-1.docker.io/bitnamicharts",
                version="20.1.0",
                namespace="cache",
                default_values={"auth": {"enabled": True}, "replica": {"count": 3}},
                values={"replica": {"count": 1}},
                timeout_seconds=300,
            ),
        )

    run = mock_run(program)
    release = run.one(RELEASE)
    assert release.provider.startswith(_provider_urn(run) + "::")
    assert release.raw_inputs["chart"] == "redis"
    assert release.raw_inputs["version"] == "20.1.0"
    assert release.raw_inputs["repositoryOpts"] == {"repo": "oci://registry-1.docker.io/bitnamicharts"}
    assert release.raw_inputs["values"] == {"auth": {"enabled": True}, "replica": {"count": 1}}
    assert release.raw_inputs["namespace"] == "cache"
    assert release.raw_inputs["createNamespace"] is True
    assert release.raw_inputs["atomic"] is True
    assert release.raw_inputs["timeout"] == 300
    assert run.one("pulumi:providers:kubernetes").inputs["kubeconfig"] == "[secret]"


def test_local_chart_from_this_repository(mock_run: Run) -> None:
    def program() -> None:
        HelmRelease(
            "mcp",
            HelmReleaseArgs(provider=cluster_provider("c", KUBECONFIG), chart="charts/datamcp", namespace="datamcp"),
        )

    release = mock_run(program).one(RELEASE).raw_inputs
    assert release["chart"] == "./charts/datamcp"
    assert "version" not in release and "repositoryOpts" not in release


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"chart": "redis", "repository": "oci://r", "version": None}, "exact pinned version"),
        ({"chart": "redis", "repository": "oci://r", "version": "^20"}, "exact pinned version"),
        ({"chart": "redis", "repository": "http://insecure", "version": "1.0.0"}, "https:// or oci://"),
        ({"chart": "charts/missing"}, "has no Chart.yaml"),
        ({"chart": "../elsewhere"}, "relative path inside"),
    ],
)
def test_bad_chart_references_are_rejected(mock_run: Run, args: dict, message: str) -> None:  # type: ignore[type-arg]
    def program() -> None:
        HelmReleaseArgs(provider=cluster_provider("c", KUBECONFIG), **args)

    with pytest.raises(ProgramFailed, match=message):
        mock_run(program)


def test_the_ambient_kubeconfig_is_never_used() -> None:
    with pytest.raises(ValidationError, match=r"explicit kubernetes\.Provider"):
        HelmReleaseArgs(provider=None, chart="charts/datamcp")


def test_argocd_is_pinned_and_not_exposed_and_apps_depend_on_it(mock_run: Run) -> None:
    def program() -> None:
        provider = cluster_provider("cluster", KUBECONFIG)
        argocd = ArgoCd("argocd", ArgoCdArgs(provider=provider))
        ArgoCdApp(
            "datamcp",
            ArgoCdAppArgs(
                provider=provider,
                argocd=argocd,
                repo_url="https://github.com/example/datamcp.git",
                path="charts/datamcp",
                target_revision="main",
                destination_namespace="datamcp",
                helm_values={"replicaCount": 2},
                sync=SyncPolicy(prune=False),
            ),
        )

    run = mock_run(program)
    release = run.one(RELEASE)
    assert release.raw_inputs["chart"] == "argo-cd"
    assert release.raw_inputs["version"] == ARGOCD_CHART_VERSION
    assert release.raw_inputs["namespace"] == "argocd"
    assert release.raw_inputs["values"]["server"]["service"]["type"] == "ClusterIP"
    assert release.raw_inputs["values"]["server"]["ingress"]["enabled"] is False
    app = run.one("kubernetes:argoproj.io/v1alpha1:Application")
    assert app.provider.startswith(_provider_urn(run) + "::")
    assert release.urn in app.dependencies
    assert app.raw_inputs["metadata"]["namespace"] == "argocd"
    assert app.raw_inputs["spec"] == {
        "project": "default",
        "source": {
            "repoURL": "https://github.com/example/datamcp.git",
            "targetRevision": "main",
            "path": "charts/datamcp",
            "helm": {"valuesObject": {"replicaCount": 2}},
        },
        "destination": {"server": "https://kubernetes.default.svc", "namespace": "datamcp"},
        "syncPolicy": {
            "syncOptions": ["CreateNamespace=true", "ServerSideApply=true"],
            "automated": {"prune": False, "selfHeal": True},
        },
    }


def test_argocd_validation(mock_run: Run) -> None:
    def exposed() -> None:
        ArgoCdArgs(provider=cluster_provider("c", KUBECONFIG), values={"server": {"service": {"type": "LoadBalancer"}}})

    with pytest.raises(ProgramFailed, match="expose_server=True"):
        mock_run(exposed)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"path": "p", "chart": "c", "target_revision": "1.0.0"}, "exactly one of path"),
        ({"chart": "c", "target_revision": "HEAD"}, "pinned target_revision"),
    ],
)
def test_argocd_app_source_validation(mock_run: Run, source: dict[str, str], message: str) -> None:
    def program() -> None:
        provider = cluster_provider("c", KUBECONFIG)
        argocd = ArgoCd("argocd", ArgoCdArgs(provider=provider))
        ArgoCdAppArgs(provider=provider, argocd=argocd, repo_url="https://x", destination_namespace="d", **source)

    with pytest.raises(ProgramFailed, match=message):
        mock_run(program)
