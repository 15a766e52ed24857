"""Reading a file backend's checkpoint directly: what it reads, and when it leaves the answer to the CLI (None)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.state_files import StateFiles


def _backend(tmp_path: Path, checkpoint: object) -> StateFiles:
    folder = tmp_path / ".pulumi" / "stacks" / "datamcp"
    folder.mkdir(parents=True)
    (folder / "dev.json").write_text(json.dumps(checkpoint))
    return StateFiles(tmp_path, "datamcp")


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
    assert files.deployment("dev") is None


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
