"""The tests' Kubernetes control plane (tests/k8s.py) is real: its controller manager deletes namespaces and collects
garbage, and Pulumi's Kubernetes provider built into .tools/bin creates and destroys objects on it through the CLI."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from pulumi import automation as auto

from engine.toolchain import PULUMI_KUBERNETES_VERSION, PULUMI_VERSION
from tests.k8s import PLUGINS, TOOLS_BIN, KubeCluster, binary, kube_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[KubeCluster]:
    with kube_cluster() as running:
        yield running


@pytest.fixture
def core(cluster: KubeCluster) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(config_file=str(cluster.kubeconfig)))


def gone(read: Callable[[], object]) -> bool:
    try:
        read()
    except ApiException as exc:
        if exc.status == 404:
            return True
        raise
    return False


def wait_until(check: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.5)


def meta(name: str, **fields: object) -> client.V1ObjectMeta:
    return client.V1ObjectMeta(name=name, **fields)


def test_a_deleted_namespace_goes_away_with_what_it_held(core: client.CoreV1Api) -> None:
    core.create_namespace(client.V1Namespace(metadata=meta("smoke")))
    core.create_namespaced_config_map("smoke", client.V1ConfigMap(metadata=meta("held"), data={"k": "v"}))
    core.delete_namespace("smoke")
    wait_until(lambda: gone(lambda: core.read_namespace("smoke")), "the namespace controller removes the namespace")


def test_an_object_whose_owner_is_deleted_is_collected(core: client.CoreV1Api) -> None:
    owner = core.create_namespaced_config_map("default", client.V1ConfigMap(metadata=meta("owner")))
    reference = client.V1OwnerReference(api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid)
    owned = client.V1ConfigMap(metadata=meta("owned", owner_references=[reference]))
    core.create_namespaced_config_map("default", owned)
    core.delete_namespaced_config_map("owner", "default")
    wait_until(lambda: gone(lambda: core.read_namespaced_config_map("owned", "default")), "the garbage collector")


def test_pulumi_creates_and_destroys_a_config_map_with_the_built_provider(
    cluster: KubeCluster, core: client.CoreV1Api, tmp_path: Path
) -> None:
    cli = binary("pulumi", PULUMI_VERSION)
    binary("pulumi-resource-kubernetes", PULUMI_KUBERNETES_VERSION)

    def program() -> None:
        provider = k8s.Provider("cluster", kubeconfig=str(cluster.kubeconfig))
        k8s.core.v1.ConfigMap(
            "settings",
            metadata={"name": "pulumi-smoke", "namespace": "default"},
            data={"mode": "real"},
            opts=pulumi.ResourceOptions(provider=provider),
        )

    (tmp_path / "backend").mkdir()
    # What the engine gives the CLI offline (engine/toolchain.py), with the built provider found on PATH.
    env = {
        "PULUMI_BACKEND_URL": (tmp_path / "backend").as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": "smoke",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PATH": os.pathsep.join([str(TOOLS_BIN), str(PLUGINS), os.environ.get("PATH", "")]),
    }
    opts = auto.LocalWorkspaceOptions(
        pulumi_home=str(tmp_path / "home"),
        env_vars=env,
        pulumi_command=auto.PulumiCommand(root=str(cli.parent.parent)),
    )
    stack = auto.create_or_select_stack(stack_name="smoke", project_name="k8s-smoke", program=program, opts=opts)

    up = stack.up(show_secrets=False)
    assert up.summary.resource_changes == {"create": 3}
    assert f"using pulumi-resource-kubernetes from $PATH at {PLUGINS}" in up.stdout
    assert core.read_namespaced_config_map("pulumi-smoke", "default").data == {"mode": "real"}
    stack.destroy(show_secrets=False)
    assert gone(lambda: core.read_namespaced_config_map("pulumi-smoke", "default"))
