"""`datamcp store import`: move a checkout's files (previews, plans, approvals, used approvals, the audit chain)
into the shared store named by DATAMCP_STORE_URL (docs/deployment.md, "From one host to many")."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from engine.errors import ExitCode, InvalidInput
from engine.settings import Settings


def cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    from engine.audit.postgres import PostgresAuditStore
    from engine.pgstore.database import Database, shown
    from engine.pgstore.importer import import_files

    if not settings.store_url:
        raise InvalidInput("store import needs the shared store: set DATAMCP_STORE_URL=postgresql://USER@HOST:PORT/DB")
    state = Path(args.state_dir or settings.state_dir).resolve()
    if not state.is_dir():
        raise InvalidInput(f"{state} is not a state dir")
    postgres_audit = settings.audit_url.startswith(("postgresql:", "postgres:"))
    audit = PostgresAuditStore(settings.audit_url) if postgres_audit else None
    db = Database(settings.store_url)
    try:
        report = import_files(state, db, audit)
    finally:
        db.close()
        if audit is not None:
            audit.close()
    if args.json:
        print(json.dumps(report.model_dump(), indent=2))
    else:
        counts = ", ".join(f"{value} {name}" for name, value in report.model_dump().items())
        print(f"imported into {shown(settings.store_url)}: {counts}")
    return ExitCode.OK
