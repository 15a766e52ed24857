"""The policy pack as the engine uses it: its digest (bound into every preview) and its decision on a document."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from engine.policy.exceptions import policy_exceptions
from engine.policy.opa import bundle_digest, evaluate_files, files_digest, pack_files, rule_ids
from engine.policy.report import SCHEMA_VERSION, PolicyReport, report_from_decision
from engine.settings import Settings
from engine.toolchain import OPA_VERSION, require_tool


class PolicyPack:
    """`policies/` evaluated by the pinned OPA; a pack that cannot be evaluated fails the preview (fail closed)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._opa: Path | None = None
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return self.settings.policy_dir

    def digest(self) -> str:
        return bundle_digest(self.folder)

    def opa(self) -> Path:
        with self._lock:
            if self._opa is None:
                self._opa = require_tool(self.settings, "opa", OPA_VERSION)
            return self._opa

    def decide(self, document: dict[str, Any], stack: str) -> PolicyReport:
        """The pack's report on `document`, with the stack's recorded exceptions as waivers; OPA judges a private copy
        of exactly the files whose digest the report carries."""
        files = pack_files(self.folder)
        exceptions = policy_exceptions(self.settings.project_root, stack, rule_ids(files))
        decision = evaluate_files(document, files, self.opa())
        return report_from_decision(
            decision, pack_digest=files_digest(files), schema_version=SCHEMA_VERSION, exceptions=exceptions
        )
