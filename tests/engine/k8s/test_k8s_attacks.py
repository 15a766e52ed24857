"""Attacks on the real-cluster mode of k8s-local: the cluster's credential must stay out of everything the engine
writes or returns, a planted provider plugin must not decide which provider runs, and an approved preview must not
be applied to another cluster (or to a real one after a simulated preview)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from engine.errors import DataMcpError, StalePreview, ToolchainError
from engine.operations import Engine
from engine.operations.context import OperationContext
from engine.settings import Settings
from engine.toolchain import PULUMI_VERSION, pulumi_env, require_pulumi
from tests.k8s import free_port, kube_cluster

STACK = "k8s-local"
TOKEN = "kS9vR2xQ7mW4pL8nT3yB6cH1dF5gJ0aZ"  # a bare bearer token: no JWT shape, no `token:` label around it


def write_kubeconfig(path: Path, server: str, token: str, context: str = "local") -> Path:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "local", "cluster": {"server": server, "insecure-skip-tls-verify": True}}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": context, "context": {"cluster": "local", "user": "admin"}}],
        "current-context": context,
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def on_cluster(settings: Settings, kubeconfig: Path | None) -> Engine:
    return Engine(settings.model_copy(update={"kubeconfig": kubeconfig}))


def learned_masker(engine: Engine) -> Any:
    """The masker of an operation after the engine learned the stack's secrets (no secret config in the file)."""
    op = OperationContext(tool="preview", stack=STACK, user="alice", params={})
    handle = SimpleNamespace(name=STACK, get_all_config=dict)
    engine.parts.sessions.learn_secrets(op, handle)  # type: ignore[arg-type]
    return op.masker


def approved(engine: Engine, preview_id: str) -> list[str]:
    return [engine.approve(preview_id, approver=who).approval_id for who in ("bob", "carol")]


def test_a_bare_cluster_token_echoed_in_an_error_is_masked(sandbox_settings: Settings, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:1", TOKEN)
    masker = learned_masker(on_cluster(sandbox_settings, kubeconfig))
    assert TOKEN not in masker.text(f"the server refused the credential {TOKEN}")


def test_a_rotated_cluster_token_is_masked_though_the_stack_file_did_not_change(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:1", "old-" + TOKEN)
    engine = on_cluster(sandbox_settings, kubeconfig)
    learned_masker(engine)
    write_kubeconfig(kubeconfig, "https://127.0.0.1:1", TOKEN)
    assert TOKEN not in learned_masker(engine).text(f"credential {TOKEN} expired")


def test_the_cluster_an_apply_would_reach_is_part_of_the_preview_digest(
    sandbox_settings: Settings, tmp_path: Path
) -> None:
    first = write_kubeconfig(tmp_path / "first", "https://127.0.0.1:1", TOKEN)
    second = write_kubeconfig(tmp_path / "second", "https://127.0.0.1:2", TOKEN)
    configs = {
        on_cluster(sandbox_settings, kubeconfig).parts.sessions.digests(STACK, {}).config
        for kubeconfig in (None, first, second)
    }
    assert len(configs) == 3  # simulated, the first cluster and the second one are three different applies


def test_a_provider_plugin_planted_beside_pulumi_is_refused(sandbox_settings: Settings, tmp_path: Path) -> None:
    tools = tmp_path / "tools" / "bin"
    tools.mkdir(parents=True)
    for name, body in (("pulumi", f"echo v{PULUMI_VERSION}"), ("pulumi-resource-kubernetes", "exit 1")):
        (tools / name).write_text(f"#!/bin/sh\n{body}\n")
        (tools / name).chmod(0o755)
    with pytest.raises(ToolchainError, match="pulumi-resource-kubernetes"):
        require_pulumi(sandbox_settings.model_copy(update={"tools_dir": tools}))


def test_a_provider_plugin_planted_among_the_launchers_is_not_found(sandbox_settings: Settings) -> None:
    planted = sandbox_settings.sandbox_dir / "bin-aws-gcp" / "pulumi-resource-kubernetes"
    planted.parent.mkdir(parents=True)
    planted.write_text("#!/bin/sh\nexit 1\n")
    planted.chmod(0o755)
    env = pulumi_env(sandbox_settings, simulated=frozenset({"aws", "gcp"}))
    found = shutil.which("pulumi-resource-kubernetes", path=env["PATH"])
    assert found is None or Path(found) != planted


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    with kube_cluster() as running:
        yield running


@pytest.mark.slow
def test_an_unreachable_cluster_leaves_its_token_nowhere(sandbox_settings: Settings, tmp_path: Path) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{free_port()}", TOKEN)
    engine = on_cluster(sandbox_settings, kubeconfig)
    try:
        said = engine.preview(STACK, user="alice").model_dump_json()
    except DataMcpError as exc:
        said = str(exc)
    assert TOKEN not in said
    written = [p for p in sandbox_settings.state_dir.rglob("*") if p.is_file() and TOKEN.encode() in p.read_bytes()]
    assert written == []


@pytest.mark.slow
def test_an_apply_on_the_real_cluster_leaves_its_token_out_of_records_outputs_and_state(
    sandbox_settings: Settings, cluster: Any
) -> None:
    engine = on_cluster(sandbox_settings, cluster.kubeconfig)
    preview = engine.preview(STACK, user="alice")
    applied = engine.up(
        STACK, user="alice", preview_id=preview.preview_id, approval_id=approved(engine, preview.preview_id)
    )
    said = [applied.model_dump_json(), repr(engine.outputs(STACK)), engine.describe(STACK).model_dump_json()]
    assert not [s for s in said if cluster.token in s]
    files = [p for p in sandbox_settings.state_dir.rglob("*") if p.is_file()]
    assert not [p for p in files if cluster.token.encode() in p.read_bytes()]
    dry_run = engine.destroy(STACK, user="alice").preview
    assert dry_run is not None
    engine.destroy(STACK, user="alice", preview_id=dry_run.preview_id, approval_id=approved(engine, dry_run.preview_id))


@pytest.mark.slow
def test_a_preview_on_one_cluster_is_not_applied_to_another(
    sandbox_settings: Settings, cluster: Any, tmp_path: Path
) -> None:
    preview = on_cluster(sandbox_settings, cluster.kubeconfig).preview(STACK, user="alice")
    other = tmp_path / "other"
    other.write_text(cluster.kubeconfig.read_text().replace("current-context:", "preferences: {}\ncurrent-context:"))
    elsewhere = on_cluster(sandbox_settings, other)
    with pytest.raises(StalePreview):
        elsewhere.up(
            STACK, user="alice", preview_id=preview.preview_id, approval_id=approved(elsewhere, preview.preview_id)
        )


@pytest.mark.slow
def test_a_simulated_preview_is_not_applied_to_the_real_cluster(sandbox_settings: Settings, cluster: Any) -> None:
    preview = on_cluster(sandbox_settings, None).preview(STACK, user="alice")
    real = on_cluster(sandbox_settings, cluster.kubeconfig)
    with pytest.raises(StalePreview):
        real.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=approved(real, preview.preview_id))


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "dotdot"])
def test_an_argo_cd_chart_outside_the_repository_is_refused(absolute: bool, tmp_path: Path) -> None:
    from components.k8s import ArgoCdArgs

    chart_path = str(tmp_path / "argo-cd") if absolute else "charts/../../argo-cd"
    with pytest.raises(ValueError, match="relative path inside this repository"):
        ArgoCdArgs(provider=None, chart_path=chart_path)
