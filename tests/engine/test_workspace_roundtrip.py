"""One real Automation API round trip with the built CLI: proves the toolchain works end to end."""

from __future__ import annotations

import json
import os
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pulumi
import pytest

from engine.errors import ToolchainError
from engine.settings import Settings
from engine.state_files import StateFiles
from engine.workspace import stack_handle

pytestmark = pytest.mark.slow


class Greeting(pulumi.ComponentResource):
    def __init__(self, name: str, text: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:test:Greeting", name, None, opts)
        self.text = pulumi.Output.from_input(text)
        self.register_outputs({"text": self.text})


def program() -> None:
    greeting = Greeting("hello", "hello from datamcp")
    pulumi.export("greeting", greeting.text)
    pulumi.export("token", pulumi.Output.secret("s3cr3t-token-value"))


def test_preview_up_destroy_on_a_file_backend(settings: Settings, tmp_path: Path) -> None:
    stack = stack_handle(settings, project="roundtrip", stack="dev", program=program, work_dir=tmp_path)

    preview = stack.preview()
    assert preview.change_summary == {"create": 2}  # the stack itself and the component

    up = stack.up(show_secrets=False)
    assert up.summary.result == "succeeded"
    assert up.outputs["greeting"].value == "hello from datamcp"
    assert up.outputs["token"].secret

    assert stack.preview().change_summary == {"same": 2}

    state_files = list((settings.backend_path or Path("/nonexistent")).rglob("dev.json"))
    assert state_files, "the file backend holds the stack's state"
    assert "s3cr3t-token-value" not in state_files[0].read_text(), "secrets are encrypted in state"

    destroy = stack.destroy(show_secrets=False)
    assert destroy.summary.result == "succeeded"
    assert destroy.summary.resource_changes == {"delete": 2}
    assert stack.outputs() == {}


def test_the_state_read_from_a_file_backend_is_what_the_cli_exports(settings: Settings, tmp_path: Path) -> None:
    """The engine reads a file backend's checkpoint directly for its state digest and update numbers; it must be
    what `pulumi stack export` (secrets as ciphertext) and `pulumi stack history` say, before and after updates."""
    stack = stack_handle(settings, project="roundtrip", stack="dev", program=program, work_dir=tmp_path)
    assert settings.backend_path is not None
    files = StateFiles(settings.backend_path, "roundtrip")

    def exported() -> dict[str, object]:
        command = [stack.workspace.pulumi_command.command, "stack", "export", "--stack", "dev", "--non-interactive"]
        env = {**os.environ, **stack.workspace.env_vars}
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        return dict(json.loads(done.stdout)["deployment"])

    assert files.deployment("dev") == exported() and files.updates("dev") is None  # created, never updated
    stack.up(show_secrets=False)
    stack.up(show_secrets=False)
    read = files.deployment("dev")
    assert read == exported() and "s3cr3t-token-value" not in json.dumps(read)
    assert files.updates("dev") == len(stack.history()) == 2
    assert files.deployment("prod") is None and files.updates("prod") is None


def _zstd(data: bytes) -> bytes:
    """One zstd frame holding `data` as a raw block (no compression; up to 128 KiB), as the CLI writes with
    PULUMI_DIY_BACKEND_ZSTD and detects by its magic."""
    assert len(data) < 1 << 17
    return struct.pack("<I", 0xFD2FB528) + bytes([0x00, 7 << 3]) + ((len(data) << 3) | 1).to_bytes(3, "little") + data


def test_a_checkpoint_the_cli_reads_otherwise_is_never_read_directly(settings: Settings, tmp_path: Path) -> None:
    """Whatever is put beside or into the checkpoint, the engine's direct read is None (the CLI is asked) or what the
    real CLI reads: an approved apply's state digest never covers another state than the one the CLI applies to."""
    stack = stack_handle(settings, project="roundtrip", stack="dev", program=program, work_dir=tmp_path)
    stack.up(show_secrets=False)
    assert settings.backend_path is not None
    files = StateFiles(settings.backend_path, "roundtrip")
    path = files.folder / "dev.json"
    original = path.read_text()
    stored = json.loads(original)
    latest = stored["checkpoint"]["latest"]
    other = json.dumps({**latest, "resources": latest["resources"][:-1]})  # the state without the component
    head = json.dumps({"version": 3, "checkpoint": {"stack": stored["checkpoint"]["stack"]}})[:-2]
    variants: dict[str, Callable[[], object]] = {
        "zstd beside": lambda: (files.folder / "dev.json.zst").write_bytes(
            _zstd(json.dumps({**stored, "checkpoint": {**stored["checkpoint"], "latest": json.loads(other)}}).encode())
        ),
        "Latest": lambda: path.write_text(f'{head}, "latest": {json.dumps(latest)}, "Latest": {other}}}}}'),
        "long s": lambda: path.write_text(f'{head}, "latest": {json.dumps(latest)}, "late\\u017ft": {other}}}}}'),
    }

    def exported() -> list[str]:
        command = [stack.workspace.pulumi_command.command, "stack", "export", "--stack", "dev", "--non-interactive"]
        env = {**os.environ, **stack.workspace.env_vars}
        done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
        return [r["urn"] for r in json.loads(done.stdout)["deployment"]["resources"]]

    for name, tamper in variants.items():
        tamper()
        read = files.deployment("dev")
        cli = exported()
        assert len(cli) == len(latest["resources"]) - 1, name  # the CLI reads the other state...
        assert read is None or [r["urn"] for r in read["resources"]] == cli, name  # ...so must the digest's
        (files.folder / "dev.json.zst").unlink(missing_ok=True)
        path.write_text(original)
    assert files.deployment("dev") == latest


def test_a_wrong_cli_version_is_refused_before_any_run(settings: Settings, tmp_path: Path) -> None:
    fake_bin = tmp_path / "tools"
    fake_bin.mkdir()
    fake = fake_bin / "pulumi"
    fake.write_text("#!/bin/sh\necho v3.100.0\n")
    fake.chmod(0o755)
    wrong = settings.model_copy(update={"tools_dir": fake_bin})
    with pytest.raises(ToolchainError, match=r"3\.259\.0"):
        stack_handle(wrong, project="roundtrip", stack="dev", program=program, work_dir=tmp_path / "wd")
