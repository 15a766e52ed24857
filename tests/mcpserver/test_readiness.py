"""Readiness: a replica whose shared store (and audit store) does not answer reports 503, so it gets no traffic;
liveness stays 200 (restarting the pod would not bring the database back). Real server, real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
import pytest

from engine.settings import Settings
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.slow
TOKENS = json.dumps({"a-viewer-token-of-32-characters-x": {"principal": "vera", "roles": ["viewer"]}})


def test_readiness_follows_the_shared_store(sandbox_settings: Settings, start_server: Callable[..., Any]) -> None:
    with postgres_cluster() as url:
        server = start_server(sandbox_settings, DATAMCP_STORE_URL=url, DATAMCP_MCP_TOKENS=TOKENS)
        ready = httpx.get(server.url + "/readyz", headers={"Host": "10.1.2.3:8000"}, timeout=20)  # the pod's address
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
    down = httpx.get(server.url + "/readyz", timeout=30)
    assert down.status_code == 503
    assert down.json() == {"status": "unavailable", "store": "unavailable", "audit": "unavailable"}
    assert "127.0.0.1" not in down.text and "datamcp" not in down.text  # says which part, never where
    assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200


def test_a_replica_on_files_is_ready(sandbox_settings: Settings, start_server: Callable[..., Any]) -> None:
    server = start_server(sandbox_settings, DATAMCP_MCP_TOKENS=TOKENS)
    assert httpx.get(server.url + "/readyz", timeout=20).json()["status"] == "ready"
