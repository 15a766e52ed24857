"""Saved previews: the store, the binding an approval signs, and the digests of the program source."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.errors import PreviewNotFound
from engine.previews import Digests, PreviewRecord, PreviewStore, file_sha256, tree_digest
from engine.vocabulary import Kind

DIGESTS = Digests(program="p" * 64, config="c" * 64, state="s" * 64)


def record(preview_id: str = "prev-0001", **changes: Any) -> PreviewRecord:
    base = PreviewRecord(
        preview_id=preview_id,
        kind=Kind.UPDATE,
        stack="aws-dev",
        user="alice",
        created_at="2027-01-15T08:00:00+00:00",
        created_epoch=1_800_000_000.5,
        expires_epoch=1_800_003_600,
        operation_id="op-00001",
        digests=DIGESTS,
        plan_file="prev-0001.plan.json",
        plan_sha256="a" * 64,
        result={"changes": [{"urn": "u", "op": "create"}]},
    )
    return base.model_copy(update=changes)


@pytest.fixture
def store(tmp_path: Path) -> PreviewStore:
    return PreviewStore(tmp_path / "previews")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def failure(store: PreviewStore, preview_id: str) -> dict[str, object]:
    with pytest.raises(PreviewNotFound) as caught:
        store.get(preview_id)
    return caught.value.to_dict()


# --- the binding ----------------------------------------------------------------------------------------------------
def test_the_binding_is_the_sha256_of_the_record_but_its_seal_as_canonical_json() -> None:
    r = record(seal="the engine's signature of the binding")
    body = json.dumps(json.loads(r.model_dump_json(exclude={"seal"})), sort_keys=True, separators=(",", ":"))
    assert r.binding() == hashlib.sha256(body.encode()).hexdigest() == record().binding()


def test_what_the_approver_was_shown_is_in_the_binding() -> None:
    assert record(result={"changes": []}).binding() != record().binding()


def test_digests_name_what_changed_in_order() -> None:
    other = Digests(program="x" * 64, config="c" * 64, state="y" * 64)
    assert DIGESTS.changed(other) == ["program", "state"]


# --- the store ------------------------------------------------------------------------------------------------------
def test_a_saved_preview_reads_back_unchanged(store: PreviewStore) -> None:
    store.save(record())
    assert store.get("prev-0001") == record()


def test_a_saved_preview_keeps_its_binding(store: PreviewStore) -> None:
    store.save(record())
    assert store.get("prev-0001").binding() == record().binding()


def test_the_preview_folder_lets_approvers_on_other_accounts_read(store: PreviewStore) -> None:
    store.save(record())
    assert (mode(store.root), mode(store.root / "prev-0001.json")) == (0o1777, 0o644)


def test_plans_live_in_a_folder_only_the_engine_can_enter(store: PreviewStore) -> None:
    path = store.plan_path("prev-0001")
    assert (path, mode(path.parent)) == (store.root.parent / "plans" / "prev-0001.plan.json", 0o700)


def test_plans_can_live_in_a_folder_of_their_own(tmp_path: Path) -> None:
    store = PreviewStore(tmp_path / "previews", tmp_path / "private" / "plans")
    assert store.plan_path("prev-0001") == tmp_path / "private" / "plans" / "prev-0001.plan.json"


def test_an_id_that_is_not_an_id_is_not_found(store: PreviewStore) -> None:
    assert failure(store, "../../etc/passwd") == {
        "error": "preview_not_found",
        "message": "'../../etc/passwd' is not a preview id",
    }


def test_a_missing_preview_says_to_run_one(store: PreviewStore) -> None:
    assert failure(store, "prev-9999") == {
        "error": "preview_not_found",
        "message": "no preview 'prev-9999'; run a preview first",
        "preview_id": "prev-9999",
    }


def test_an_unreadable_preview_is_not_found(store: PreviewStore) -> None:
    store.root.mkdir(parents=True)
    (store.root / "prev-0001.json").write_text("{broken")
    assert failure(store, "prev-0001") == {
        "error": "preview_not_found",
        "message": "preview 'prev-0001' is unreadable",
        "preview_id": "prev-0001",
    }


def test_a_preview_file_holding_another_preview_is_refused(store: PreviewStore) -> None:
    store.save(record())
    (store.root / "prev-0001.json").rename(store.root / "prev-0002.json")
    assert failure(store, "prev-0002") == {
        "error": "preview_not_found",
        "message": "the record of preview 'prev-0002' holds another preview",
        "preview_id": "prev-0002",
    }


def test_a_saved_plans_digest_is_the_sha256_of_its_bytes(tmp_path: Path) -> None:
    (tmp_path / "plan.json").write_bytes(b'{"plan": 1}')
    assert file_sha256(tmp_path / "plan.json") == hashlib.sha256(b'{"plan": 1}').hexdigest()


# --- the program digest ---------------------------------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "stacks" / "aws").mkdir(parents=True)
    (root / "stacks" / "__init__.py").write_text("")
    (root / "stacks" / "aws" / "network.py").write_text("CIDR = '10.0.0.0/16'\n")
    (root / "Pulumi.yaml").write_text("name: datamcp\n")
    return root


PATHS = ("stacks", "Pulumi.yaml", "missing")


def test_the_tree_digest_covers_names_and_contents_of_every_source_file(tree: Path) -> None:
    h = hashlib.sha256()
    for name in ("stacks/__init__.py", "stacks/aws/network.py", "Pulumi.yaml"):
        h.update(name.encode() + b"\0" + (tree / name).read_bytes() + b"\0")
    assert tree_digest(tree, PATHS) == h.hexdigest()


def test_editing_a_source_file_changes_the_tree_digest(tree: Path) -> None:
    before = tree_digest(tree, PATHS)
    (tree / "stacks" / "aws" / "network.py").write_text("CIDR = '0.0.0.0/0'\n")
    assert tree_digest(tree, PATHS) != before


def test_bytecode_is_never_part_of_the_tree_digest(tree: Path) -> None:
    before = tree_digest(tree, PATHS)
    (tree / "stacks" / "__pycache__").mkdir()
    (tree / "stacks" / "__pycache__" / "network.py").write_text("planted = True\n")
    (tree / "stacks" / "aws" / "network.cpython-311.pyc").write_bytes(b"\0bytecode")
    assert tree_digest(tree, PATHS) == before


def test_bytecode_python_loads_without_a_source_is_part_of_the_tree_digest(tree: Path) -> None:
    """`stacks/scale/__init__.pyc` is imported as `stacks.scale` (before `stacks/scale.py`), private bytecode cache
    or not: it is program code, so planting or swapping it after a preview makes the apply stale."""
    before = tree_digest(tree, PATHS)
    (tree / "stacks" / "scale").mkdir()
    (tree / "stacks" / "scale" / "__init__.pyc").write_bytes(b"\0planted")
    planted = tree_digest(tree, PATHS)
    (tree / "stacks" / "scale" / "__init__.pyc").write_bytes(b"\0swapped")
    assert len({before, planted, tree_digest(tree, PATHS)}) == 3


def test_a_linked_folder_is_walked_into_for_the_tree_digest(tree: Path) -> None:
    """A package may be a link to a folder elsewhere: what it holds runs, so it is hashed (a link back up is not
    followed again)."""
    before = tree_digest(tree, PATHS)
    elsewhere = tree.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "__init__.py").write_text("planted = True\n")
    (tree / "stacks" / "scale").symlink_to(elsewhere, target_is_directory=True)
    (elsewhere / "up").symlink_to(tree / "stacks", target_is_directory=True)
    linked = tree_digest(tree, PATHS)
    (elsewhere / "__init__.py").write_text("planted = False\n")
    assert len({before, linked, tree_digest(tree, PATHS)}) == 3


def test_a_folder_named_like_a_source_file_adds_nothing(tree: Path) -> None:
    before = tree_digest(tree, PATHS)
    (tree / "stacks" / "empty.py").mkdir()
    assert tree_digest(tree, PATHS) == before


def test_a_new_file_beside_the_program_changes_the_tree_digest(tree: Path) -> None:
    before = tree_digest(tree, PATHS)
    (tree / "stacks" / "aws" / "extra.py").write_text("")
    assert tree_digest(tree, PATHS) != before


def test_the_tree_digest_of_nothing_is_the_empty_digest(tree: Path) -> None:
    assert tree_digest(tree, ("missing",)) == hashlib.sha256().hexdigest()


def test_recent_lists_readable_previews_newest_first_and_skips_junk(store: PreviewStore) -> None:
    assert store.recent() == []  # no folder yet
    for n, epoch in ((1, 10.0), (2, 30.0), (3, 20.0)):
        store.save(record(f"prev-000{n}", created_epoch=epoch))
    (store.root / "notes.json").write_text("{}")  # not an id
    (store.root / "prev-0009.json").write_text("{not json")  # unreadable
    (store.root / "prev-0008.json").write_text(record("prev-0007").model_dump_json())  # holds another preview
    (store.root / "prev-0004.txt").write_text("x")
    assert [r.preview_id for r in store.recent()] == ["prev-0002", "prev-0003", "prev-0001"]
    assert [r.preview_id for r in store.recent(limit=2)] == ["prev-0002", "prev-0003"]
