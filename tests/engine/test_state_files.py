"""Reading a file backend's checkpoint directly: what it reads, and when it leaves the answer to the CLI (None)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.state_files import StateFiles


def _backend(tmp_path: Path, checkpoint: object) -> StateFiles:
    folder = tmp_path / ".pulumi" / "stacks" / "datamcp"
    folder.mkdir(parents=True)
    (tmp_path / ".pulumi" / "meta.yaml").write_text("version: 1\n")  # the project layout, as the CLI writes it
    (folder / "dev.json").write_text(json.dumps(checkpoint) if not isinstance(checkpoint, str) else checkpoint)
    return StateFiles(tmp_path, "datamcp")


LATEST = {"manifest": {"time": "t"}, "resources": [{"urn": "u", "type": "t", "protect": True}]}
CHECKPOINT = {"version": 3, "checkpoint": {"stack": "dev", "latest": LATEST}}


def test_the_latest_deployment_is_read_as_stored(tmp_path: Path) -> None:
    latest = {"manifest": {"time": "t"}, "resources": [{"urn": "u", "type": "t"}]}
    files = _backend(tmp_path, {"version": 3, "checkpoint": {"stack": "dev", "latest": latest}})
    assert files.deployment("dev") == latest


def test_a_checkpoint_of_another_format_version_is_left_to_the_cli(tmp_path: Path) -> None:
    files = _backend(tmp_path, {"version": 4, "checkpoint": {"latest": {"resources": []}}})
    assert files.deployment("dev") is None and files.outputs("dev") is None


def test_a_compressed_checkpoint_beside_the_plain_one_is_left_to_the_cli(tmp_path: Path) -> None:
    files = _backend(tmp_path, {"version": 3, "checkpoint": {"latest": {"resources": []}}})
    (files.folder / "dev.json.gz").write_bytes(b"")
    assert files.deployment("dev") is None and files.outputs("dev") is None


@pytest.mark.parametrize("beside", ["dev.json.zst", "dev.json.br", "dev.json.gz.tmp"])
def test_any_other_form_of_the_checkpoint_beside_the_plain_one_is_left_to_the_cli(tmp_path: Path, beside: str) -> None:
    """The CLI reads `dev.json.zst` rather than `dev.json` when both exist (PULUMI_DIY_BACKEND_ZSTD), as it does a
    `.gz`: an approved destroy's state digest would be taken from a file the destroy does not use."""
    files = _backend(tmp_path, CHECKPOINT)
    (files.folder / beside).write_bytes(b"")
    assert files.deployment("dev") is None and files.outputs("dev") is None  # read views too
    (files.folder / "dev.json").unlink()
    assert files.outputs("dev") is None  # not "no state": the CLI reads the other form


def test_backups_retained_checkpoints_and_metadata_beside_it_are_not_read_by_the_cli(tmp_path: Path) -> None:
    files = _backend(tmp_path, CHECKPOINT)
    beside = ("dev.json.attrs", "dev.json.bak", "dev.json.bak.attrs", "dev.json.gz.bak", "dev.json.17956", "x.json.gz")
    for name in beside:
        (files.folder / name).write_bytes(b"")
    assert files.deployment("dev") == LATEST and files.outputs("dev") == {}


@pytest.mark.parametrize(
    "text",
    [
        '{"version": 3, "checkpoint": {"stack": "dev", "latest": %(old)s, "Latest": %(new)s}}',
        '{"version": 3, "checkpoint": {"stack": "dev", "latest": %(old)s, "late\\u017ft": %(new)s}}',
        '{"version": 3, "checkpoint": {"stack": "dev", "latest": %(old)s}, "Checkpoint": {"latest": %(new)s}}',
        '{"version": 3, "checkpoint": {"stack": "dev", "latest": %(new)s, "latest": %(old)s}}',
        '{"version": 3, "checkpoint": {"stack": "dev", "latest": {"resources": [{"urn": "u", "protect": true, '
        '"Protect": false}]}}}',
    ],
)
def test_keys_that_go_may_read_for_one_another_leave_the_state_to_the_cli(tmp_path: Path, text: str) -> None:
    """Go's decoder matches struct fields case-insensitively and keeps the last match ("Latest", "late" + U+017F + "t"
    and "latest" are one field to it): the CLI would apply against one deployment while the digest covered another, or
    against a resource whose flags a reordering of its keys flips without changing the digest."""
    new = {**LATEST, "resources": [{"urn": "u", "type": "t", "protect": False}]}
    files = _backend(tmp_path, text % {"old": json.dumps(LATEST), "new": json.dumps(new)})
    assert files.deployment("dev") is None


@pytest.mark.parametrize("meta", [None, "version: 0\n", "version: 1\nversion: 0\n", "version: 01\n"])
def test_a_backend_not_in_the_project_layout_is_left_to_the_cli(tmp_path: Path, meta: str | None) -> None:
    """Without `.pulumi/meta.yaml` saying version 1 the CLI keeps stacks at `.pulumi/stacks/<stack>.json` (legacy
    layout): the project folder's file is not the state it applies against."""
    files = _backend(tmp_path, CHECKPOINT)
    layout = tmp_path / ".pulumi" / "meta.yaml"
    layout.unlink()
    if meta is not None:
        layout.write_text(meta)
    assert files.deployment("dev") is None and files.outputs("dev") is None


def test_a_checkpoint_without_a_deployment_or_unreadable_is_left_to_the_cli(tmp_path: Path) -> None:
    files = _backend(tmp_path, {"version": 3, "checkpoint": {"stack": "dev"}})
    assert files.deployment("dev") is None and files.outputs("dev") == {}
    (files.folder / "dev.json").write_text("{not json")
    assert files.deployment("dev") is None
    (files.folder / "dev.json").unlink()
    (files.folder / "dev.json").symlink_to(tmp_path / "elsewhere.json")
    (tmp_path / "elsewhere.json").write_text(json.dumps({"version": 3, "checkpoint": {"latest": {}}}))
    assert files.deployment("dev") is None  # a link is never followed


def test_updates_are_counted_in_the_history_folder_and_a_linked_folder_is_left_to_the_cli(tmp_path: Path) -> None:
    files = StateFiles(tmp_path, "datamcp")
    history = tmp_path / ".pulumi" / "history" / "datamcp" / "dev"
    history.mkdir(parents=True)
    for stamp in (1, 2, 3):
        (history / f"dev-{stamp}.history.json").write_text("{}")
        (history / f"dev-{stamp}.checkpoint.json").write_text("{}")
    assert files.updates("dev") == 3 and files.updates("prod") is None
    (tmp_path / ".pulumi" / "history" / "datamcp" / "prod").symlink_to(history)
    assert files.updates("prod") is None


def test_compressed_history_is_left_to_the_cli(tmp_path: Path) -> None:
    """With PULUMI_DIY_BACKEND_GZIP (or _ZSTD) the history files are `.history.json.gz`: the CLI counts them, a
    count of plain ones would say 0."""
    files = StateFiles(tmp_path, "datamcp")
    history = tmp_path / ".pulumi" / "history" / "datamcp" / "dev"
    history.mkdir(parents=True)
    (history / "dev-1.history.json").write_text("{}")
    (history / "dev-1.history.json.attrs").write_text("{}")
    assert files.updates("dev") == 1
    (history / "dev-2.history.json.gz").write_bytes(b"")
    assert files.updates("dev") is None
