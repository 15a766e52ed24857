"""One real Automation API round trip with the built CLI: proves the toolchain works end to end."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pytest

from engine.errors import ToolchainError
from engine.settings import Settings
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


def test_a_wrong_cli_version_is_refused_before_any_run(settings: Settings, tmp_path: Path) -> None:
    fake_bin = tmp_path / "tools"
    fake_bin.mkdir()
    fake = fake_bin / "pulumi"
    fake.write_text("#!/bin/sh\necho v3.100.0\n")
    fake.chmod(0o755)
    wrong = settings.model_copy(update={"tools_dir": fake_bin})
    with pytest.raises(ToolchainError, match=r"3\.259\.0"):
        stack_handle(wrong, project="roundtrip", stack="dev", program=program, work_dir=tmp_path / "wd")
