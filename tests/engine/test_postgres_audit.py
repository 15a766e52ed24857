"""The engine with its audit trail in a real PostgreSQL server: operations are on record there, the doctor reaches
it and applies the schema, and when the database is down nothing runs (fail closed)."""

from __future__ import annotations

import psycopg
import pytest

from engine.doctor import run_checks
from engine.errors import AuditUnavailable
from engine.operations import Engine
from engine.pgstore.schema import VERSION
from engine.settings import Settings
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.slow


def test_operations_are_recorded_in_postgres_and_a_database_down_stops_them(sandbox_settings: Settings) -> None:
    with postgres_cluster() as url:
        settings = sandbox_settings.model_copy(update={"audit_url": url})
        fresh = next(c for c in run_checks(settings).checks if c.name == "audit")
        assert not fresh.ok and "schema version 0, this DataMCP needs" in fresh.detail  # doctor alone changes nothing
        assert "datamcp doctor --fix" in fresh.detail
        audit = next(c for c in run_checks(settings, fix=True).checks if c.name == "audit")
        assert audit.ok and f"schema version {VERSION}" in audit.detail and "datamcp@" not in audit.detail
        engine = Engine(settings)
        preview = engine.preview("gcp-dev", user="alice")
        with psycopg.connect(url) as conn:
            tools = [r[0] for r in conn.execute("SELECT data::json->>'tool' FROM records ORDER BY seq").fetchall()]
        assert tools[:2] == ["preview", "preview"]  # started, then succeeded
        assert engine.get_operation(preview.operation_id).status == "succeeded"
        assert engine.audit.verify().ok
        before = sorted(p.name for p in engine.previews.root.iterdir())
    with pytest.raises(AuditUnavailable):
        engine.preview("gcp-dev", user="alice")
    assert sorted(p.name for p in engine.previews.root.iterdir()) == before  # nothing ran
    assert not next(c for c in run_checks(settings).checks if c.name == "audit").ok
