"""The Kubernetes half for real: the k8s-local stack through the engine against a real kube-apiserver (with etcd and
the controller manager) and Pulumi's real Kubernetes provider, while the sandbox still simulates aws and gcp. The
objects are read back with the official Kubernetes client; drift is an edit through the API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config

from engine.errors import OperationFailed, SandboxModeMismatch
from engine.operations import Engine
from engine.settings import Settings
from tests.k8s import kube_cluster

pytestmark = pytest.mark.slow
STACK = "k8s-local"
SYSTEM_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with kube_cluster() as running:
        yield running


@pytest.fixture
def api(cluster: Any) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(cluster.kubeconfig))


def with_config(settings: Settings, edit: Callable[[dict[str, Any]], None]) -> None:
    path = Path(settings.project_root) / f"Pulumi.{STACK}.yaml"
    doc = yaml.safe_load(path.read_text())
    edit(doc["config"])
    path.write_text(yaml.safe_dump(doc))


def argo_offline(config: dict[str, Any]) -> None:
    config["datamcp:argocd"] = {"enabled": True, "chart_path": "charts/argo-cd-offline", "cascade_delete": False}


def applied(engine: Engine, kind: str = "update") -> Any:
    if kind == "update":
        preview_id = engine.preview(STACK, user="alice").preview_id
    else:
        dry_run = engine.destroy(STACK, user="alice").preview
        assert dry_run is not None
        preview_id = dry_run.preview_id
    ids = [engine.approve(preview_id, approver=who).approval_id for who in ("bob", "carol")]
    if kind == "update":
        return engine.up(STACK, user="alice", preview_id=preview_id, approval_id=ids)
    return engine.destroy(STACK, user="alice", preview_id=preview_id, approval_id=ids)


def namespaces(api: client.ApiClient) -> set[str]:
    return {n.metadata.name for n in client.CoreV1Api(api).list_namespace().items} - SYSTEM_NAMESPACES


def application(api: client.ApiClient) -> dict[str, Any]:
    objects = client.CustomObjectsApi(api)
    return objects.get_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "datamcp-app")  # type: ignore[no-any-return]


def wait_until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.5)


def test_the_chart_and_argo_cd_deploy_drift_is_found_and_destroy_leaves_nothing(
    sandbox_settings: Settings, cluster: Any, api: client.ApiClient
) -> None:
    with_config(sandbox_settings, argo_offline)
    engine = Engine(sandbox_settings.model_copy(update={"kubeconfig": cluster.kubeconfig}))
    assert applied(engine).applied
    assert namespaces(api) == {"datamcp", "argocd"}
    deployments = client.AppsV1Api(api).list_namespaced_deployment("datamcp").items
    assert [d.metadata.name for d in deployments] == ["datamcp"] and deployments[0].spec.replicas == 1
    assert application(api)["spec"]["destination"]["namespace"] == "datamcp"
    assert not engine.preview(STACK, user="alice").has_changes  # the real provider reads back what it made

    objects = client.CustomObjectsApi(api)
    patch = {"spec": {"destination": {"namespace": "elsewhere"}}}
    objects.patch_namespaced_custom_object("argoproj.io", "v1alpha1", "argocd", "applications", "datamcp-app", patch)
    drift = engine.refresh(STACK, user="alice", preview_only=True)
    assert [c.urn.split("::")[-1] for c in drift.drifted] == ["datamcp-app-application"], drift
    engine.refresh(STACK, user="alice", preview_only=False)
    assert applied(engine).applied  # the next apply puts the program's spec back
    assert application(api)["spec"]["destination"]["namespace"] == "datamcp"

    assert applied(engine, "destroy").applied
    wait_until(lambda: not namespaces(api), 60, "the namespaces are deleted by the controller manager")
    extensions = client.ApiextensionsV1Api(api).list_custom_resource_definition().items
    assert not [c.metadata.name for c in extensions if c.spec.group == "argoproj.io"]


def test_an_invalid_object_is_refused_by_the_api_server_with_a_clear_error(
    sandbox_settings: Settings, cluster: Any, api: client.ApiClient
) -> None:
    with_config(sandbox_settings, lambda c: c.update({"datamcp:tags": {"not a label!": "x"}}))
    engine = Engine(sandbox_settings.model_copy(update={"kubeconfig": cluster.kubeconfig}))
    with pytest.raises(OperationFailed) as failed:
        applied(engine)
    assert "Invalid value" in failed.value.message and "not a label!" in failed.value.message
    assert cluster.token not in failed.value.message
    assert "datamcp" not in namespaces(api)


def test_a_stack_made_on_the_real_cluster_is_refused_by_the_simulated_one(
    sandbox_settings: Settings, cluster: Any, api: client.ApiClient
) -> None:
    real = Engine(sandbox_settings.model_copy(update={"kubeconfig": cluster.kubeconfig}))
    assert applied(real).applied
    simulated = Engine(sandbox_settings)
    with pytest.raises(SandboxModeMismatch, match="kubernetes resources were made with the real provider"):
        simulated.preview(STACK, user="alice")
    assert applied(real, "destroy").applied
    wait_until(lambda: "datamcp" not in namespaces(api), 60, "the namespace is deleted")
