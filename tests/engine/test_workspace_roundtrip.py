"""One real Automation API round trip with the built CLI: proves the toolchain works end to end."""

from __future__ import annotations

import json
import os
import subprocess
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


def test_a_wrong_cli_version_is_refused_before_any_run(settings: Settings, tmp_path: Path) -> None:
    fake_bin = tmp_path / "tools"
    fake_bin.mkdir()
    fake = fake_bin / "pulumi"
    fake.write_text("#!/bin/sh\necho v3.100.0\n")
    fake.chmod(0o755)
    wrong = settings.model_copy(update={"tools_dir": fake_bin})
    with pytest.raises(ToolchainError, match=r"3\.259\.0"):
        stack_handle(wrong, project="roundtrip", stack="dev", program=program, work_dir=tmp_path / "wd")
