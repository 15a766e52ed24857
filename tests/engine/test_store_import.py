"""`datamcp store import`: a checkout's previews, plans, approvals, used approvals and audit chain move into the
shared store, and an engine on the store carries on where the files left off (real PostgreSQL, real CLI)."""

from __future__ import annotations

import json

import pytest

from engine.cli import main
from engine.errors import ApprovalInvalid
from engine.operations import Engine
from engine.settings import Settings
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.slow
STACK = "gcp-dev"


def approvals(engine: Engine, preview_id: str) -> list[str]:
    return [engine.approve(preview_id, approver=who).approval_id for who in ("bob", "carol")]


def test_a_checkout_moves_into_the_store_and_goes_on_there(
    sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    files = Engine(sandbox_settings)
    first = files.preview(STACK, user="alice").preview_id
    used = approvals(files, first)
    files.up(STACK, user="alice", preview_id=first, approval_id=used)
    second = files.preview(STACK, user="alice", refresh=True).preview_id
    waiting = approvals(files, second)
    head = files.audit.store.head()
    with postgres_cluster() as url:
        for name, value in {
            "DATAMCP_PROJECT_ROOT": sandbox_settings.project_root,
            "DATAMCP_STATE_DIR": sandbox_settings.state_dir,
            "DATAMCP_TOOLS_DIR": sandbox_settings.tools_dir,
            "DATAMCP_SANDBOX": "1",
            "DATAMCP_STORE_URL": url,
        }.items():
            monkeypatch.setenv(name, str(value))
        assert main(["store", "import", "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["previews"] == 2 and report["approvals"] == 4 and report["used"] == 2
        assert report["records"] == head[0] and report["checkpoints"] >= 1
        assert main(["store", "import", "--json"]) == 0  # again: nothing twice
        assert json.loads(capsys.readouterr().out) == dict.fromkeys(report, 0)

        shared = Engine(sandbox_settings.model_copy(update={"store_url": url, "audit_url": url}))
        assert shared.audit.store.head() == head and shared.audit.verify().ok  # the same chain, still verified
        assert shared.approvals.used(used[0]) and not shared.approvals.used(waiting[0])
        with pytest.raises(ApprovalInvalid, match="already used"):
            shared.approvals.consume(used[1], "replay")
        (sandbox_settings.state_dir / "plans").rename(sandbox_settings.state_dir / "plans-gone")  # type: ignore[operator]
        applied = shared.up(
            STACK, user="alice", preview_id=second, approval_id=waiting
        )  # the plan comes from the store
        assert applied.applied
