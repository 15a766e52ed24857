"""The policy pack gates real previews end to end (real engine, real CLI, simulated cloud, real OPA and
ssh-keygen): a public bucket is denied and nobody can approve it; a stateful replacement needs two admins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.errors import ApprovalRequired, PolicyDenied, StalePreview
from engine.operations import Engine
from engine.results import PreviewResult
from engine.settings import Settings

pytestmark = pytest.mark.slow
STACK = "aws-dev"


def set_config(settings: Settings, section: str, **values: Any) -> None:
    path = settings.project_root / f"Pulumi.{STACK}.yaml"
    doc = yaml.safe_load(path.read_text())
    doc["config"].setdefault(f"datamcp:{section}", {}).update(values)
    path.write_text(yaml.safe_dump(doc))


def on_urn(preview: PreviewResult, decision: str, fragment: str) -> list[str]:
    assert preview.policy is not None
    return [r.id for r in preview.policy.results if r.decision == decision and fragment in (r.urn or "")]


def test_a_public_bucket_is_denied_and_cannot_be_approved_or_applied(sandbox_settings: Settings) -> None:
    set_config(sandbox_settings, "storage", public_access=True)
    engine = Engine(sandbox_settings)
    preview = engine.preview(STACK, user="alice-agent")
    assert on_urn(preview, "deny", "public-access-block"), preview.policy
    with pytest.raises(PolicyDenied) as refused:
        engine.approve(preview.preview_id, approver="bob")
    assert set(on_urn(preview, "deny", "public-access-block")) <= set(refused.value.details["rules"])  # type: ignore[arg-type]
    assert engine.approvals.for_preview(preview.preview_id) == []


@pytest.fixture
def signed(sandbox_settings: Settings, tmp_path: Path, public_keys: dict[str, str]) -> Settings:
    people = [
        {"principal": "bob", "roles": ["approver", "admin", "security"], "environments": ["dev"]},
        {"principal": "carol", "roles": ["approver", "admin"], "environments": ["dev"]},
        {"principal": "dave", "roles": ["approver"], "environments": ["dev"]},
    ]
    for person in people:
        person["keys"] = [public_keys[str(person["principal"])]]
    trust = tmp_path / "approvers.yaml"
    trust.write_text(yaml.safe_dump({"version": 1, "approvers": people}))
    return sandbox_settings.model_copy(update={"approval_mode": "signed", "approvers_file": trust})


def test_a_stateful_replacement_needs_two_admins(signed: Settings, ssh_keys: dict[str, Path]) -> None:
    engine = Engine(signed)
    first = engine.preview(STACK, user="alice-agent")
    assert on_urn(first, "require", "aws:iam/"), "creating IAM roles needs a security approver"
    engine.up(
        STACK,
        user="alice-agent",
        preview_id=first.preview_id,
        approval_id=engine.approve_with_key(first.preview_id, ssh_keys["bob"]).approval_id,
    )

    set_config(signed, "ops_log", table_name="mcp_ops_log_renamed")
    replace = engine.preview(STACK, user="alice-agent")
    assert [c.op for c in replace.changes if "dynamodb/table" in c.type] == ["replace"]
    assert replace.policy is not None
    admins = [q for q in replace.policy.requirements() if q.role == "admin"]
    assert admins and admins[0].approvals == 2
    approvals = [engine.approve_with_key(replace.preview_id, ssh_keys["bob"]).approval_id]
    approvals.append(engine.approve_with_key(replace.preview_id, ssh_keys["dave"]).approval_id)
    with pytest.raises(ApprovalRequired) as short:
        engine.up(STACK, user="alice-agent", preview_id=replace.preview_id, approval_id=approvals)
    assert short.value.details["role"] == "admin" and short.value.details["approvers"] == ["bob"]
    approvals.append(engine.approve_with_key(replace.preview_id, ssh_keys["carol"]).approval_id)
    applied = engine.up(STACK, user="alice-agent", preview_id=replace.preview_id, approval_id=approvals)
    assert applied.applied


def test_a_policy_change_after_approval_makes_the_preview_stale(sandbox_settings: Settings, tmp_path: Path) -> None:
    pack = tmp_path / "policies"
    pack.mkdir()
    for rego in sandbox_settings.policy_dir.iterdir():
        if rego.is_file():
            (pack / rego.name).write_bytes(rego.read_bytes())
    settings = sandbox_settings.model_copy(update={"policy_dir": pack})
    engine = Engine(settings)
    preview = engine.preview(STACK, user="alice-agent")
    approval = engine.approve(preview.preview_id, approver="bob")
    (pack / "extra.rego").write_text("package datamcp.rules.extra\n\nwarn contains r if { false; r := {} }\n")
    with pytest.raises(StalePreview) as stale:
        engine.up(STACK, user="alice-agent", preview_id=preview.preview_id, approval_id=approval.approval_id)
    assert "policy" in stale.value.message
    with pytest.raises(StalePreview):
        engine.approve(preview.preview_id, approver="carol")


def test_the_policy_sees_what_the_last_drift_check_found(sandbox_settings: Settings, tmp_path: Path) -> None:
    pack = tmp_path / "policies"
    pack.mkdir()
    for rego in sandbox_settings.policy_dir.iterdir():
        if rego.is_file():
            (pack / rego.name).write_bytes(rego.read_bytes())
    (pack / "drift_probe.rego").write_text(
        "package datamcp.rules.drift_probe\n\n"
        "warn contains r if {\n  input.drift.checked\n"
        '  r := {"id": "T-DRIFT-001", "severity": "low", "urn": null, "remediation": "none",\n'
        '    "message": sprintf("%d drifted", [count(input.drift.drifted)])}\n}\n'
    )
    engine = Engine(sandbox_settings.model_copy(update={"policy_dir": pack}))

    def probe(preview: PreviewResult) -> list[str]:
        assert preview.policy is not None
        return [r.message for r in preview.policy.results if r.id == "T-DRIFT-001"]

    first = engine.preview("gcp-dev", user="alice-agent")
    assert probe(first) == []  # never checked
    approval = engine.approve(first.preview_id, approver="bob")
    engine.up("gcp-dev", user="alice-agent", preview_id=first.preview_id, approval_id=approval.approval_id)
    engine.refresh("gcp-dev", user="alice-agent", preview_only=True)
    second = engine.preview("gcp-dev", user="alice-agent")
    assert probe(second) == ["0 drifted"], second.policy
