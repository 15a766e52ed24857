"""Stack sessions: where the state an apply is checked against comes from."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from engine.settings import Settings

STALE = {"resources": [{"urn": "urn:pulumi:gcp-dev::datamcp::pulumi:pulumi:Stack::datamcp-gcp-dev", "type": "t"}]}
LIVE = {"resources": [{"urn": "urn:pulumi:gcp-dev::other::pulumi:pulumi:Stack::other-gcp-dev", "type": "t"}]}


class Handle:
    """What `state` asks of a stack handle: the project its work dir names, and the CLI's export."""

    def __init__(self, project: str) -> None:
        self.workspace = SimpleNamespace(project_settings=lambda: SimpleNamespace(name=project))

    def export_stack(self) -> Any:
        return SimpleNamespace(deployment=LIVE)

    def history(self) -> list[object]:
        return [object()] * 7


def test_a_stack_the_cli_keeps_under_another_project_is_read_through_the_cli(
    engine: Any, sandbox_settings: Settings
) -> None:
    """The CLI keeps a stack under the project its work dir's Pulumi.yaml names; renamed, `datamcp/<stack>.json` is
    an old checkpoint that no apply changes any more, and a digest of it would never go stale."""
    assert sandbox_settings.backend_path is not None
    pulumi_dir = sandbox_settings.backend_path / ".pulumi"
    (pulumi_dir / "stacks" / "datamcp").mkdir(parents=True)
    (pulumi_dir / "meta.yaml").write_text("version: 1\n")
    checkpoint = {"version": 3, "checkpoint": {"stack": "organization/datamcp/gcp-dev", "latest": STALE}}
    (pulumi_dir / "stacks" / "datamcp" / "gcp-dev.json").write_text(json.dumps(checkpoint))
    (pulumi_dir / "history" / "datamcp" / "gcp-dev").mkdir(parents=True)
    sessions = engine.parts.sessions
    assert sessions.state("gcp-dev", Handle("datamcp"))[0] == STALE  # the CLI's own file: read directly
    assert sessions.state("gcp-dev", Handle("other"))[0] == LIVE
    assert sessions.update_number("gcp-dev", Handle("datamcp"), 0) == 0
    assert sessions.update_number("gcp-dev", Handle("other"), 0) == 7
