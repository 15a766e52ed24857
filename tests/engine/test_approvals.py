"""The approval store: approvals anyone may submit, read safely; single use across processes; the dev key."""

from __future__ import annotations

import json
import logging
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.approvals import APPROVAL_LIMIT, Approval, ApprovalStore, Method, load_or_create_key
from engine.errors import ApprovalInvalid
from engine.trust import canonical_json
from engine.vocabulary import Kind


def approval(approval_id: str = "appr-0001", preview_id: str = "prev-0001", **changes: Any) -> Approval:
    base = Approval(
        approval_id=approval_id,
        preview_id=preview_id,
        kind=Kind.UPDATE,
        stack="aws-dev",
        binding="b" * 64,
        approver="bob",
        requested_by="alice",
        expires_epoch=1_800_000_000,
        method=Method.SSH,
        signature="sig",
    )
    return base.model_copy(update=changes)


@pytest.fixture
def store(tmp_path: Path) -> ApprovalStore:
    return ApprovalStore(tmp_path / "approvals")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- what is signed -------------------------------------------------------------------------------------------------
def test_the_signed_payload_is_every_field_but_the_signature_as_canonical_json() -> None:
    a = approval()
    fields = json.loads(a.model_dump_json())
    del fields["signature"]
    assert a.payload() == canonical_json(fields)


def test_the_signature_is_not_part_of_the_payload() -> None:
    assert approval(signature="one").payload() == approval(signature="two").payload()


# --- the store ------------------------------------------------------------------------------------------------------
def test_a_saved_approval_reads_back_unchanged(store: ApprovalStore) -> None:
    saved = store.save(approval())
    assert store.get("appr-0001") == saved


def test_the_approval_folder_lets_anyone_submit_but_only_owners_replace(store: ApprovalStore) -> None:
    store.save(approval())
    assert mode(store.root) == 0o1777


def test_a_saved_approval_is_a_json_file_named_by_its_id(store: ApprovalStore) -> None:
    store.save(approval())
    assert json.loads((store.root / "appr-0001.json").read_text())["approval_id"] == "appr-0001"


def test_an_id_that_is_not_an_id_is_refused_before_any_file_is_read(store: ApprovalStore) -> None:
    with pytest.raises(ApprovalInvalid) as caught:
        store.get("../etc/passwd")
    assert caught.value.message == "'../etc/passwd' is not an approval id"


def test_a_missing_approval_is_refused_by_id(store: ApprovalStore) -> None:
    with pytest.raises(ApprovalInvalid) as caught:
        store.get("appr-9999")
    assert caught.value.to_dict() == {
        "error": "approval_invalid",
        "message": "no approval 'appr-9999'",
        "approval_id": "appr-9999",
    }


def test_an_unreadable_approval_is_refused_by_id(store: ApprovalStore) -> None:
    store.root.mkdir(parents=True)
    (store.root / "appr-0001.json").write_text("{not json")
    with pytest.raises(ApprovalInvalid) as caught:
        store.get("appr-0001")
    assert caught.value.to_dict() == {
        "error": "approval_invalid",
        "message": "approval 'appr-0001' is unreadable",
        "approval_id": "appr-0001",
    }


def test_an_approval_file_larger_than_any_approval_is_unreadable(store: ApprovalStore) -> None:
    store.save(approval(evidence={"padding": "x" * APPROVAL_LIMIT}))
    with pytest.raises(ApprovalInvalid, match="is unreadable"):
        store.get("appr-0001")


def test_an_approval_file_holding_another_approval_is_refused(store: ApprovalStore) -> None:
    store.save(approval())
    (store.root / "appr-0001.json").rename(store.root / "appr-0002.json")
    with pytest.raises(ApprovalInvalid) as caught:
        store.get("appr-0002")
    assert caught.value.message == "the record of approval 'appr-0002' holds another approval"


def test_approvals_for_a_preview_are_those_that_name_it(store: ApprovalStore) -> None:
    store.save(approval("appr-0001", "prev-0001"))
    store.save(approval("appr-0002", "prev-0002"))
    store.save(approval("appr-0003", "prev-0001"))
    assert [a.approval_id for a in store.for_preview("prev-0001")] == ["appr-0001", "appr-0003"]


def test_approvals_for_a_preview_of_an_empty_store_are_none(store: ApprovalStore) -> None:
    assert store.for_preview("prev-0001") == []


def test_a_junk_file_in_the_store_is_skipped_with_a_warning(
    store: ApprovalStore, caplog: pytest.LogCaptureFixture
) -> None:
    store.save(approval("appr-0001"))
    (store.root / "appr-0002.json").write_text("junk")
    store.save(approval("appr-0003"))
    with caplog.at_level(logging.WARNING, logger="engine.approvals"):
        found = store.for_preview("prev-0001")
    assert [a.approval_id for a in found] == ["appr-0001", "appr-0003"]
    assert [r.getMessage() for r in caplog.records] == [
        "skipping 'appr-0002.json' in the approval store: approval 'appr-0002' is unreadable"
    ]


# --- single use -----------------------------------------------------------------------------------------------------
def test_an_approval_is_unused_until_consumed(store: ApprovalStore) -> None:
    assert not store.used("appr-0001")


def test_a_consumed_approval_is_used(store: ApprovalStore) -> None:
    store.consume("appr-0001", "op-00001")
    assert store.used("appr-0001")


def test_consuming_records_the_operation_that_used_it(store: ApprovalStore) -> None:
    store.consume("appr-0001", "op-00001")
    assert (store.root.parent / "consumed" / "appr-0001.used").read_text() == "op-00001"


def test_an_approval_is_consumed_only_once(store: ApprovalStore) -> None:
    store.consume("appr-0001", "op-00001")
    with pytest.raises(ApprovalInvalid) as caught:
        store.consume("appr-0001", "op-00002")
    assert caught.value.to_dict() == {
        "error": "approval_invalid",
        "message": "the approval was already used",
        "approval_id": "appr-0001",
    }


def test_the_use_markers_are_private_to_the_engine(store: ApprovalStore) -> None:
    store.consume("appr-0001", "op-00001")
    marker = store.root.parent / "consumed" / "appr-0001.used"
    assert (mode(marker.parent), mode(marker)) == (0o700, 0o600)


def test_use_markers_can_live_in_a_folder_of_their_own(tmp_path: Path) -> None:
    store = ApprovalStore(tmp_path / "approvals", tmp_path / "private" / "used")
    store.consume("appr-0001", "op-00001")
    assert store.used("appr-0001") and (tmp_path / "private" / "used" / "appr-0001.used").is_file()


def test_a_marker_planted_as_a_link_is_not_followed(store: ApprovalStore, tmp_path: Path) -> None:
    (store.root.parent / "consumed").mkdir(parents=True, mode=0o700)
    target = tmp_path / "victim"
    (store.root.parent / "consumed" / "appr-0001.used").symlink_to(target)
    with pytest.raises(ApprovalInvalid, match="already used"):
        store.consume("appr-0001", "op-00001")
    assert not target.exists()


# --- the dev key ----------------------------------------------------------------------------------------------------
def test_the_dev_key_is_32_random_bytes_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "approval.key"
    key = load_or_create_key(path)
    assert (len(key), path.read_bytes(), mode(path)) == (32, key, 0o600)


def test_the_dev_key_is_created_once_and_then_read(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state" / "approval.key"
    assert load_or_create_key(path) == load_or_create_key(path)


def test_two_checkouts_get_different_dev_keys(tmp_path: Path) -> None:
    assert load_or_create_key(tmp_path / "a.key") != load_or_create_key(tmp_path / "b.key")
