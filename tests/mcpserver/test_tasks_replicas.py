"""Tasks with two server replicas on one shared store (real PostgreSQL): a task started through one replica is
read and cancelled through the other; the cancel reaches the replica that runs it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from engine.operations import Engine
from engine.sandbox.inventory import Inventory
from engine.settings import Settings
from tests.mcpserver import task_client as tasks
from tests.mcpserver.test_tasks import STACK, TOKENS, http_session, stalled
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.slow


def test_a_task_is_read_and_cancelled_through_another_replica(
    sandbox_settings: Settings, start_server: Callable[..., Any], tmp_path: Path
) -> None:
    shared = {
        "DATAMCP_BACKEND_URL": (tmp_path / "backend").as_uri(),
        "DATAMCP_SANDBOX_DIR": str(tmp_path / "cloud"),
        "DATAMCP_APPROVAL_KEY": "a-dev-key-both-replicas-share",
        "DATAMCP_NOTARY_KEY_FILE": str(tmp_path / "notary.key"),
        "DATAMCP_AUDIT_ANCHOR_URL": (tmp_path / "anchor.json").as_uri(),
        "DATAMCP_MCP_TOKENS": TOKENS,
    }
    (tmp_path / "backend").mkdir()
    faults = json.dumps({"stall_create": "gke-cluster", "stall_seconds": "12"})
    with postgres_cluster() as url:
        shared["DATAMCP_STORE_URL"] = url
        a = start_server(
            sandbox_settings, DATAMCP_STATE_DIR=str(tmp_path / "a"), DATAMCP_SANDBOX_FAULTS=faults, **shared
        )
        b = start_server(sandbox_settings, DATAMCP_STATE_DIR=str(tmp_path / "b"), **shared)
        engine = Engine(
            sandbox_settings.model_copy(
                update={
                    "state_dir": tmp_path / "c",
                    "store_url": url,
                    "audit_url": url,
                    "backend_url": shared["DATAMCP_BACKEND_URL"],
                    "sandbox_dir": tmp_path / "cloud",
                    "approval_key": SecretStr(shared["DATAMCP_APPROVAL_KEY"]),
                    "notary_key_file": tmp_path / "notary.key",
                    "audit_anchor_url": shared["DATAMCP_AUDIT_ANCHOR_URL"],
                }
            )
        )
        cloud = Inventory(tmp_path / "cloud")

        async def run() -> tuple[tasks.Task, tasks.Task]:
            async with http_session(a.url) as on_a, http_session(b.url) as on_b:
                drift = await tasks.start(on_a, "check_drift", {"stack": STACK})
                assert isinstance(drift, tasks.Created)
                checked = await tasks.wait(on_b, drift.task_id)  # read through the other replica
                preview = await tasks.start(on_b, "preview", {"stack": STACK})
                assert isinstance(preview, tasks.Created)
                preview_id = json.loads((await tasks.wait(on_b, preview.task_id)).result["content"][0]["text"])[  # type: ignore[index]
                    "preview_id"
                ]
                for who in ("bob", "carol"):
                    await asyncio.to_thread(engine.approve, preview_id, approver=who)
                apply = await tasks.start(on_a, "apply", {"preview_id": preview_id})
                assert isinstance(apply, tasks.Created)
                await stalled(cloud)
                await tasks.cancel(on_b, apply.task_id)  # B does not run it: the cancel goes through the store
                return checked, await tasks.wait(on_b, apply.task_id)

        checked, cancelled = asyncio.run(run())
        assert checked.status == "completed" and json.loads(checked.result["content"][0]["text"])["stack"] == STACK  # type: ignore[index]
        assert cancelled.status == "cancelled", cancelled.status_message
        operation_id = (cancelled.status_message or "").split("operation ")[1].split(" ")[0]
        assert engine.get_operation(operation_id).status == "cancelled"
