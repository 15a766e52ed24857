"""The simulated cloud through the real pulumi CLI and Automation API: preview, up, diffs, refresh, destroy, crashes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from engine.sandbox.fakes import PACKAGES
from engine.sandbox.inventory import Inventory
from engine.sandbox.mode import ensure_mode, state_mode
from engine.settings import Settings
from engine.synth import synth
from engine.workspace import stack_handle
from stacks.program import program

pytestmark = pytest.mark.slow


class Events:
    """Resource steps seen through on_event: (op, urn) of every resource the engine touched, providers excluded."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, str, str]] = []
        self.outcomes: list[tuple[str, str, str]] = []  # refresh steps say what changed only in their outputs event

    def __call__(self, event: auto.EngineEvent) -> None:
        for source, target in ((event.resource_pre_event, self.steps), (event.res_outputs_event, self.outcomes)):
            if source is not None and not source.metadata.type.startswith("pulumi:providers:"):
                target.append((source.metadata.op.value, source.metadata.urn, source.metadata.type))

    def ops(self, *wanted: str) -> list[tuple[str, str]]:
        return sorted((op, urn) for op, urn, _ in self.steps if op in wanted)

    def refreshed(self, *wanted: str) -> list[tuple[str, str]]:
        return sorted((op, urn) for op, urn, _ in self.outcomes if op in wanted)


def handle(settings: Settings, stack: str) -> auto.Stack:
    return stack_handle(settings, project="datamcp", stack=stack, program=program, work_dir=settings.project_root)


def edit_config(settings: Settings, stack: str, key: str, field: str, value: Any) -> None:
    path = settings.project_root / f"Pulumi.{stack}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"].setdefault(key, {})[field] = value
    path.write_text(yaml.safe_dump(doc))


def inventory(settings: Settings, stack: str) -> list[dict[str, Any]]:
    assert settings.sandbox_dir is not None
    return Inventory(settings.sandbox_dir).list("datamcp", stack)


def state_urns(stack: auto.Stack) -> set[str]:
    deployment = stack.export_stack().deployment
    return {
        r["urn"]
        for r in deployment.get("resources") or []
        if r.get("custom") and not r["type"].startswith("pulumi:providers:")
    }


@pytest.mark.parametrize("stack_name", ["aws-dev", "gcp-dev"])
def test_full_lifecycle_through_the_real_cli(sandbox_settings: Settings, stack_name: str) -> None:
    s = sandbox_settings
    graph = synth(stack_name, s.project_root, isolated=False)
    cloud_resources = {r.urn for r in graph.resources if r.custom and not r.type.startswith("pulumi:providers:")}
    explicit_providers = {r.urn for r in graph.resources if r.type.startswith("pulumi:providers:")}
    assert len(cloud_resources) + len(explicit_providers) == graph.custom_resource_count
    stack = handle(s, stack_name)

    # preview: one create per cloud resource synth found, and nothing touches the simulated cloud
    events = Events()
    stack.preview(on_event=events)
    creates = {urn for op, urn in events.ops("create")}
    assert creates & cloud_resources == cloud_resources
    assert creates - cloud_resources <= {r.urn for r in graph.resources if not r.custom} | {
        f"urn:pulumi:{stack_name}::datamcp::pulumi:pulumi:Stack::datamcp-{stack_name}"
    }
    assert inventory(s, stack_name) == []

    # up creates them, in the simulated cloud and in state, all marked as simulated
    up = stack.up(show_secrets=False)
    assert up.summary.result == "succeeded"
    assert {r["urn"] for r in inventory(s, stack_name)} == cloud_resources == state_urns(stack)
    deployment = stack.export_stack().deployment
    assert state_mode(deployment) == "sandbox"
    ensure_mode(stack_name, deployment, frozenset(PACKAGES))
    assert up.outputs["kubeconfig"].secret
    assert up.outputs["cluster_endpoint"].value

    # a second preview changes nothing
    events = Events()
    assert (
        stack.preview(on_event=events).change_summary.get("same")
        and events.ops("create", "update", "replace", "delete") == []
    )

    # destroy removes everything, in state and in the simulated cloud
    stack.destroy(show_secrets=False)
    assert inventory(s, stack_name) == []
    assert state_urns(stack) == set()


def test_config_changes_preview_exact_updates_and_replacements(sandbox_settings: Settings) -> None:
    s = sandbox_settings
    stack = handle(s, "aws-dev")
    stack.up(show_secrets=False)
    app = (
        "urn:pulumi:aws-dev::datamcp::datamcp:k8s:ArgoCdApp$kubernetes:argoproj.io/v1alpha1:Application"
        "::datamcp-application"
    )
    table = "urn:pulumi:aws-dev::datamcp::datamcp:aws:OpsLogTable$aws:dynamodb/table:Table::ops-log-table"

    edit_config(s, "aws-dev", "datamcp:app", "replicas", 3)
    events = Events()
    stack.preview(on_event=events)
    assert events.ops("update", "replace", "create-replacement", "delete-replaced", "create", "delete") == [
        ("update", app)
    ]
    detail = next(e for e in events.steps if e[1] == app)
    assert detail[0] == "update"

    edit_config(s, "aws-dev", "datamcp:app", "replicas", 1)
    edit_config(s, "aws-dev", "datamcp:ops_log", "table_name", "mcp_ops_log_renamed")
    events = Events()
    stack.preview(on_event=events)
    assert events.ops("update", "replace", "create", "delete") == [("replace", table)]

    result = stack.up(show_secrets=False)
    changes = result.summary.resource_changes or {}
    assert changes.get("replace") == 1 and set(changes) == {"replace", "same"}
    names = {r["outputs"]["name"] for r in inventory(s, "aws-dev") if r["type"] == "aws:dynamodb/table:Table"}
    assert names == {"mcp_ops_log_renamed"}


def test_refresh_reports_drift_made_in_the_simulated_cloud(sandbox_settings: Settings) -> None:
    s = sandbox_settings
    stack = handle(s, "gcp-dev")
    stack.up(show_secrets=False)
    bucket = next(r for r in inventory(s, "gcp-dev") if r["type"] == "gcp:storage/bucket:Bucket")
    assert s.sandbox_dir is not None
    Inventory(s.sandbox_dir).drift(bucket["urn"], versioning={"enabled": False})

    events = Events()
    assert stack.preview_refresh(on_event=events).change_summary.get("update") == 1
    assert events.refreshed("update", "delete", "create") == [("update", bucket["urn"])]

    stack.refresh(show_secrets=False)
    deployment = stack.export_stack().deployment
    refreshed = next(r for r in deployment["resources"] if r["urn"] == bucket["urn"])
    assert refreshed["outputs"]["versioning"] == {"enabled": False}
    # the program still wants versioning on: the next preview proposes to put it back
    events = Events()
    stack.preview(on_event=events)
    assert events.ops("update") == [("update", bucket["urn"])]


def test_a_provider_crash_mid_update_is_recovered_by_the_next_up(sandbox_settings: Settings) -> None:
    s = sandbox_settings
    stack = handle(s, "aws-dev")
    stack.workspace.env_vars["DATAMCP_SANDBOX_FAULTS"] = json.dumps({"crash_after_create": "eks-cluster-role"})
    with pytest.raises(auto.CommandError, match="exited prematurely"):
        stack.up(show_secrets=False)
    parents = "datamcp:aws:EksCluster$datamcp:aws:ServiceRole"
    role = f"urn:pulumi:aws-dev::datamcp::{parents}$aws:iam/role:Role::eks-cluster-role"
    in_cloud = {r["urn"] for r in inventory(s, "aws-dev")}
    assert role in in_cloud and role not in state_urns(stack)  # created in the cloud, unknown to the state

    del stack.workspace.env_vars["DATAMCP_SANDBOX_FAULTS"]
    stack.up(show_secrets=False)
    assert state_urns(stack) == {r["urn"] for r in inventory(s, "aws-dev")}
    assert [r["urn"] for r in inventory(s, "aws-dev")].count(role) == 1
    events = Events()
    stack.preview(on_event=events)
    assert events.ops("create", "update", "replace", "delete") == []


def test_sandbox_plugins_are_on_the_cli_path_only(sandbox_settings: Settings) -> None:
    import os
    import shutil

    stack = handle(sandbox_settings, "aws-dev")
    env_path = stack.workspace.env_vars["PATH"]
    assert env_path.split(os.pathsep)[0] == str(sandbox_settings.sandbox_dir / "bin")  # type: ignore[operator]
    assert shutil.which("pulumi-resource-aws", path=os.environ.get("PATH", "")) is None
    real = Settings(
        project_root=sandbox_settings.project_root,
        state_dir=sandbox_settings.state_dir,
        tools_dir=sandbox_settings.tools_dir,
        sandbox=False,
    )
    real_stack = handle(real, "aws-dev")
    assert "PATH" not in real_stack.workspace.env_vars
    assert real_stack.workspace.env_vars["PULUMI_IGNORE_AMBIENT_PLUGINS"] == "true"
    assert Path(str(sandbox_settings.sandbox_dir), "bin", "pulumi-resource-gcp").exists()
