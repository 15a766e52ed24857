"""Only a proven person, other than the requester, can release a change: each attack of issue 13, as an agent with
a shell would try it, against the real engine, the real CLI, the simulated cloud and the real ssh-keygen."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.approvals import Approval, Method
from engine.errors import (
    ApprovalInvalid,
    ApprovalRequired,
    InvalidInput,
    ServerKeyInvalid,
    SignatureInvalid,
    StalePreview,
)
from engine.operations import Engine
from engine.sandbox.inventory import Inventory
from engine.settings import Settings
from engine.trust.proofs import ServerSigner, SshSigner, signed
from engine.trust.server_key import ServerKey

pytestmark = pytest.mark.slow
STACK = "gcp-dev"


@pytest.fixture
def signed_settings(sandbox_settings: Settings, tmp_path: Path, public_keys: dict[str, str]) -> Settings:
    trust = tmp_path / "approvers.yaml"
    people: list[dict[str, Any]] = [
        # bob and carol also hold the security role: a first deploy creates IAM roles (policy DM-RISK-002)
        {
            "principal": "bob",
            "roles": ["approver", "security"],
            "environments": ["dev", "prod"],
            "keys": [public_keys["bob"]],
        },
        {
            "principal": "carol",
            "roles": ["approver", "security"],
            "environments": ["prod"],
            "keys": [public_keys["carol"]],
        },
        {"principal": "dave", "roles": ["approver"], "stacks": ["*-dev"], "keys": [public_keys["dave"]]},
        {"principal": "eve", "roles": ["admin"], "keys": [public_keys["eve"]]},
    ]
    trust.write_text(yaml.safe_dump({"version": 1, "approvers": people}))
    return sandbox_settings.model_copy(update={"approval_mode": "signed", "approvers_file": trust})


@pytest.fixture
def signed_engine(signed_settings: Settings) -> Engine:
    return Engine(signed_settings)


def cloud(settings: Settings, stack: str = STACK) -> list[dict[str, Any]]:
    return Inventory(settings.sandbox_dir).list("datamcp", stack)


def last(engine: Engine, tool: str) -> Any:
    return next(r for r in engine.list_operations(limit=100).items if r.tool == tool)


def apply(engine: Engine, preview_id: str, approval_id: str) -> Any:
    return engine.up(STACK, user="alice-agent", preview_id=preview_id, approval_id=approval_id)


def forge(engine: Engine, approval: Approval) -> str:
    """Write an approval straight into the store, as an agent with write access to it can."""
    engine.approvals.save(approval)
    return approval.approval_id


def draft(engine: Engine, preview_id: str, approver: str = "bob") -> Approval:
    preview = engine.previews.get(preview_id)
    return Approval(
        preview_id=preview_id,
        kind=preview.kind,
        stack=preview.stack,
        binding=preview.binding(),
        approver=approver,
        requested_by=preview.user,
        expires_epoch=preview.expires_epoch,
        method=Method.SSH,
    )


def test_a_proven_approver_releases_exactly_the_preview(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    approval = signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    assert approval.approver == "bob" and approval.method is Method.SSH
    result = signed_engine.up(
        STACK, user="alice-agent", preview_id=preview.preview_id, approval_id=approval.approval_id
    )
    assert result.applied and cloud(signed_settings)
    assert last(signed_engine, "approve").user == "bob"
    assert last(signed_engine, "up").summary["approvers"] == ["bob"]


def test_a_dev_key_approval_is_refused_in_signed_mode(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    with pytest.raises(ApprovalInvalid, match="must be signed"):
        signed_engine.approve(preview.preview_id, approver="bob")
    key = b"whatever-key-the-agent-found-on-disk"
    minted = draft(signed_engine, preview.preview_id).model_copy(update={"method": Method.DEV})
    minted = minted.model_copy(update={"signature": hmac.new(key, minted.payload(), hashlib.sha256).hexdigest()})
    with pytest.raises(ApprovalInvalid, match="dev-mode approvals are not accepted"):
        signed_engine.up(
            STACK, user="alice-agent", preview_id=preview.preview_id, approval_id=forge(signed_engine, minted)
        )
    assert cloud(signed_settings) == [] and last(signed_engine, "up").status == "refused"


def test_a_key_outside_the_trust_list_cannot_approve(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    with pytest.raises(ApprovalInvalid, match="not in the trust list"):
        signed_engine.approve_with_key(preview.preview_id, ssh_keys["mallory"])
    claimed = signed(draft(signed_engine, preview.preview_id, approver="bob"), SshSigner(ssh_keys["mallory"]))
    with pytest.raises(ApprovalInvalid, match="not in the trust list"):
        apply(signed_engine, preview.preview_id, forge(signed_engine, claimed))
    assert cloud(signed_settings) == [] and last(signed_engine, "up").status == "refused"


def test_a_relabelled_approval_no_longer_verifies(signed_engine: Engine, ssh_keys: dict[str, Path]) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    good = signed_engine.approve_with_key(preview.preview_id, ssh_keys["dave"])
    path = signed_engine.approvals.root / f"{good.approval_id}.json"
    path.write_text(json.dumps(json.loads(path.read_text()) | {"approver": "bob"}))
    with pytest.raises(ApprovalInvalid, match="incorrect signature"):
        signed_engine.up(STACK, user="alice-agent", preview_id=preview.preview_id, approval_id=good.approval_id)


def test_relabelling_the_requester_to_approve_ones_own_preview_is_refused(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="bob")
    with pytest.raises(ApprovalInvalid, match="cannot approve"):
        signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    record = signed_engine.previews.get(preview.preview_id)
    signed_engine.previews.save(record.model_copy(update={"user": "zed"}))
    with pytest.raises(StalePreview, match="audit trail recorded"):  # the engine will not sign for it...
        signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    bobs = forge(signed_engine, signed(draft(signed_engine, preview.preview_id), SshSigner(ssh_keys["bob"])))
    with pytest.raises(StalePreview, match="audit trail recorded"):  # ...nor apply what bob signed outside it
        signed_engine.up(STACK, user="bob", preview_id=preview.preview_id, approval_id=bobs)
    assert cloud(signed_settings) == []


def test_dropping_the_saved_plan_is_refused(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    record = signed_engine.previews.get(preview.preview_id)
    signed_engine.previews.save(record.model_copy(update={"plan_file": None, "plan_sha256": None}))
    with pytest.raises(StalePreview):
        signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    bobs = forge(signed_engine, signed(draft(signed_engine, preview.preview_id), SshSigner(ssh_keys["bob"])))
    with pytest.raises(StalePreview):
        apply(signed_engine, preview.preview_id, bobs)
    assert cloud(signed_settings) == []


def test_an_approver_only_for_dev_cannot_approve_prod(signed_engine: Engine, ssh_keys: dict[str, Path]) -> None:
    preview = signed_engine.preview("aws-prod", user="alice-agent")
    with pytest.raises(ApprovalInvalid, match="not allowed"):
        signed_engine.approve_with_key(preview.preview_id, ssh_keys["dave"])
    assert last(signed_engine, "approve").status == "refused"


def test_prod_needs_two_different_proven_approvers(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview("aws-prod", user="alice-agent")
    bob = signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"]).approval_id
    bob_again = signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"]).approval_id
    with pytest.raises(ApprovalRequired, match="2 different people"):
        signed_engine.up("aws-prod", user="alice-agent", preview_id=preview.preview_id, approval_id=[bob, bob_again])
    assert cloud(signed_settings, "aws-prod") == []
    carol = signed_engine.approve_with_key(preview.preview_id, ssh_keys["carol"]).approval_id
    assert signed_engine.apply_preview(preview.preview_id, user="alice-agent").applied
    assert sorted(last(signed_engine, "up").summary["approvers"]) == ["bob", "carol"]
    assert carol in last(signed_engine, "up").params["approval_ids"]


def test_junk_in_the_approval_store_does_not_break_the_agents_route(
    signed_engine: Engine, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    (signed_engine.approvals.root / "0000junk-0000.json").write_text("{not json")
    (signed_engine.approvals.root / "notes.json").write_text("[]")
    assert signed_engine.apply_preview(preview.preview_id, user="alice-agent").applied


def test_an_admin_cancel_must_be_proven_and_is_recorded(signed_engine: Engine, ssh_keys: dict[str, Path]) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    with pytest.raises(SignatureInvalid):
        signed_engine.cancel_with_key(preview.operation_id, ssh_keys["mallory"])
    with pytest.raises(InvalidInput, match="not running"):
        signed_engine.cancel_with_key(preview.operation_id, ssh_keys["eve"])
    record = last(signed_engine, "cancel")
    assert record.user == "eve" and record.params == {"operation_id": preview.operation_id, "as_admin": True}


def test_editing_project_level_config_makes_the_preview_stale(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    approval = signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    project = signed_settings.project_root / "Pulumi.yaml"
    project.write_text(project.read_text() + "config:\n  datamcp:app:\n    value: {replicas: 9}\n")
    with pytest.raises(StalePreview, match="config changed"):
        signed_engine.up(STACK, user="alice-agent", preview_id=preview.preview_id, approval_id=approval.approval_id)


@pytest.fixture
def server_engine(signed_settings: Settings, tmp_path: Path) -> Engine:
    key = tmp_path / "server-key" / "ed25519.key"
    key.parent.mkdir(mode=0o700)
    ServerKey.generate(key)
    return Engine(signed_settings.model_copy(update={"server_key_file": key}))


def test_a_server_issued_approval_releases_the_change_with_its_evidence(
    server_engine: Engine, signed_settings: Settings
) -> None:
    preview = server_engine.preview(STACK, user="alice-agent")
    evidence = {"issuer": "ci", "run_id": "4242", "environment": STACK}
    approval = server_engine.approve_as_server(preview.preview_id, approver="Bob", evidence=evidence)
    assert approval.method is Method.SERVER and approval.approver == "bob" and approval.evidence == evidence
    assert apply(server_engine, preview.preview_id, approval.approval_id).applied


def test_the_server_never_vouches_for_a_planted_preview_or_a_dev_login(server_engine: Engine) -> None:
    """A preview file the audit trail never recorded (planted in the world-writable store) gets no server approval,
    and in signed mode a console dev login proves nobody."""
    real = server_engine.preview(STACK, user="alice-agent")
    record = server_engine.previews.get(real.preview_id)
    planted = record.model_copy(update={"preview_id": "0badc0de-0000-4000-8000-000000000001", "operation_id": "x" * 8})
    server_engine.previews.save(planted)
    with pytest.raises(StalePreview):
        server_engine.approve_as_server(planted.preview_id, approver="bob", evidence={"via": "console-oidc"})
    with pytest.raises(ApprovalInvalid, match="dev login proves nobody"):
        server_engine.approve_as_server(real.preview_id, approver="bob", evidence={"via": "console-dev"})
    with pytest.raises(StalePreview):
        server_engine.request_apply(planted.preview_id, user="alice-agent", reason="please")
    assert server_engine.approvals.for_preview(planted.preview_id) == []


def test_an_approval_signed_by_another_server_key_is_refused(
    server_engine: Engine, signed_settings: Settings, tmp_path: Path
) -> None:
    preview = server_engine.preview(STACK, user="alice-agent")
    other = tmp_path / "other.key"
    ServerKey.generate(other)
    forged = signed(draft(server_engine, preview.preview_id), ServerSigner(ServerKey.load(other)))
    with pytest.raises(ApprovalInvalid, match="signature"):
        apply(server_engine, preview.preview_id, forge(server_engine, forged))
    assert cloud(signed_settings) == []


def test_without_a_server_key_nothing_can_be_issued_by_the_server(signed_engine: Engine) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    with pytest.raises(ServerKeyInvalid, match="no server key"):
        signed_engine.approve_as_server(preview.preview_id, approver="bob", evidence={})


def test_the_review_an_approver_sees_is_bound(
    signed_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    record = signed_engine.previews.get(preview.preview_id)
    shown = record.result | {"change_summary": {"update": 1}, "changes": record.result["changes"][:1]}
    signed_engine.previews.save(record.model_copy(update={"result": shown, "property_diffs": {}}))
    review = signed_engine.review(preview.preview_id)
    assert review.preview.change_summary == {"update": 1}  # the fake is what the approver would see...
    with pytest.raises(StalePreview, match="audit trail recorded"):  # ...but the engine will not sign for it...
        signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    bobs = forge(signed_engine, signed(draft(signed_engine, preview.preview_id), SshSigner(ssh_keys["bob"])))
    with pytest.raises(StalePreview, match="audit trail recorded"):  # ...and it is not what gets applied
        apply(signed_engine, preview.preview_id, bobs)
    assert cloud(signed_settings) == []


def test_a_fifo_in_the_approval_store_does_not_hang_the_agents_route(
    signed_engine: Engine, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    os.mkfifo(signed_engine.approvals.root / "00000000-0000-0000-0000-000000000000.json")
    started = time.monotonic()
    assert signed_engine.apply_preview(preview.preview_id, user="alice-agent").applied
    assert time.monotonic() - started < 120


def test_use_markers_and_plans_are_where_only_the_engine_can_write(
    signed_engine: Engine, ssh_keys: dict[str, Path]
) -> None:
    preview = signed_engine.preview(STACK, user="alice-agent")
    approval = signed_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    assert apply(signed_engine, preview.preview_id, approval.approval_id).applied
    consumed = signed_engine.approvals.consumed
    plans = signed_engine.previews.plans
    assert (consumed / f"{approval.approval_id}.used").exists() and not list(
        signed_engine.approvals.root.glob("*.used")
    )
    assert stat.S_IMODE(consumed.stat().st_mode) == 0o700 and stat.S_IMODE(plans.stat().st_mode) == 0o700
    assert stat.S_IMODE(signed_engine.previews.root.stat().st_mode) == 0o1777


def test_a_preview_file_holding_another_preview_is_refused(signed_engine: Engine) -> None:
    first = signed_engine.preview(STACK, user="alice-agent")
    second = signed_engine.preview(STACK, user="alice-agent")
    root = signed_engine.previews.root
    (root / f"{second.preview_id}.json").write_text((root / f"{first.preview_id}.json").read_text())
    with pytest.raises(InvalidInput, match="holds another preview"):
        signed_engine.review(second.preview_id)


def test_a_server_approval_must_name_a_person_of_the_trust_list_once(
    server_engine: Engine, signed_settings: Settings, ssh_keys: dict[str, Path]
) -> None:
    preview = server_engine.preview("aws-prod", user="alice-agent")
    with pytest.raises(ApprovalInvalid, match="not an approver"):
        server_engine.approve_as_server(preview.preview_id, approver="github:stranger", evidence={})
    server_engine.approve_with_key(preview.preview_id, ssh_keys["bob"])
    again = server_engine.approve_as_server(preview.preview_id, approver="bob", evidence={"via": "console"})
    assert again.approver == "bob"
    with pytest.raises(ApprovalRequired, match="has 1 of the 2 approval"):
        server_engine.apply_preview(preview.preview_id, user="alice-agent")
