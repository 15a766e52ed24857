"""Approve or reject for the logged-in person: the server signs the approval for them (with the evidence of their
login), so the N-person rule, self-approval, roles and the policy are enforced by the engine as for every other
approval. In dev mode without a server key, the checkout's dev key signs (no trust boundary, said on every page)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from engine.console import views
from engine.console.auth import Person
from engine.errors import ApprovalInvalid, InvalidInput, StalePreview
from engine.identity import same_principal
from engine.operations import Engine
from engine.operations.approval_flow import approve, check_not_written

VERDICTS = ("approve", "reject")


@dataclass(frozen=True)
class Decision:
    verdict: str  # approve or reject
    preview_id: str
    reason: str


def decide(engine: Engine, decision: Decision, person: Person, session: dict[str, Any], agents: frozenset[str]) -> str:
    """Record the person's decision; the message to show them. Only an open preview (recorded by the audit trail,
    not expired, applied or rejected) can be decided, and never by an agent's principal however it is spelled."""
    verdict, preview_id = decision.verdict, decision.preview_id
    text = " ".join(decision.reason.split())
    if verdict not in VERDICTS:
        raise InvalidInput(f"no such decision: {verdict[:20]!r}")
    if len(text) < 3:
        raise InvalidInput("say why (a few words at least)")
    check_open(engine, preview_id, person, agents)
    if verdict == "reject":
        engine.reject(preview_id, user=person.name, reason=text)
        return "Rejected; the requester sees your reason."
    evidence = {
        "via": f"console-{person.via}",
        "issuer": str(session.get("issuer") or ""),
        "login_at": str(session.get("login_at") or ""),
        "reason": text[:500],
    }
    approval = signed_approval(engine, preview_id, person.name, evidence)
    return f"Approved (approval {approval.approval_id})."


def check_open(engine: Engine, preview_id: str, person: Person, agents: frozenset[str]) -> None:
    canonical = engine.parts.trust.prover.canonical
    if any(same_principal(canonical(person.name), canonical(a)) for a in agents):  # names, spellings and aliases
        raise ApprovalInvalid(f"{person.name} is an agent's principal: agents never approve or reject")
    record = engine.previews.get(preview_id)
    if not views.trusted(engine, record):
        raise StalePreview(f"preview {preview_id} does not match what the audit trail recorded; do not decide it")
    if record.expires_epoch < time.time() or views.applied(engine, record):
        raise InvalidInput(f"preview {preview_id} is no longer open (expired or applied)")
    check_not_written(engine.parts, record)  # a later apply or refresh wrote its stack: a reject says nothing either


def signed_approval(engine: Engine, preview_id: str, name: str, evidence: dict[str, str]) -> Any:
    trust = engine.parts.trust
    if trust.server_key is not None:
        return engine.approve_as_server(preview_id, approver=name, evidence=evidence)
    if trust.dev_signer is not None:
        return approve(engine.parts, preview_id, approver=name, signer=trust.dev_signer, evidence=evidence)
    raise ApprovalInvalid(
        "this server has no key to sign approvals with: set DATAMCP_SERVER_KEY_FILE (docs/console.md)"
    )
