"""The `datamcp` command end to end in-process: output formats and exit codes."""

from __future__ import annotations

import json
import re

import pytest

from engine.cli import EXIT_INVALID, EXIT_OK, EXIT_REFUSED, main
from engine.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def cli(sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    for name in ("project_root", "state_dir", "tools_dir"):
        monkeypatch.setenv(f"DATAMCP_{name.upper()}", str(getattr(sandbox_settings, name)))
    monkeypatch.setenv("DATAMCP_SANDBOX", "1")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_the_approval_flow_and_exit_codes(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("stacks", "--json")
    assert code == EXIT_OK and [s["name"] for s in json.loads(out)] == ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"]
    code, out, _ = cli("up", "gcp-dev", "--user", "alice")
    assert code == EXIT_OK and "dry run: nothing was changed" in out
    preview_id = re.search(r"Preview (\S+) of gcp-dev", out).group(1)  # type: ignore[union-attr]
    code, _, err = cli("approve", preview_id, "--approver", "alice")
    assert code == EXIT_REFUSED and "cannot approve" in err
    code, out, _ = cli("approve", preview_id, "--approver", "bob", "--json")
    approval_id = json.loads(out)["approval_id"]
    code, _, err = cli("up", "gcp-dev", "--user", "alice", "--preview-id", preview_id, "--approval-id", "bogus-id")
    assert code == EXIT_REFUSED and "no approval" in err
    code, out, _ = cli("up", "gcp-dev", "--user", "alice", "--preview-id", preview_id, "--approval-id", approval_id)
    assert code == EXIT_OK and "applied" in out and "kubeconfig: [secret]" in out
    code, out, _ = cli("preview", "gcp-dev", "--format", "markdown")
    assert code == EXIT_OK and "No changes." in out
    code, out, _ = cli("ops", "--stack", "gcp-dev")
    assert code == EXIT_OK and " up " in out and "succeeded" in out and "refused" in out
    code, out, _ = cli("ops", "verify")
    assert code == EXIT_OK and "intact" in out
    code, _, err = cli("preview", "../gcp-dev")
    assert code == EXIT_INVALID and "not a valid stack name" in err
