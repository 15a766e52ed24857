"""Approve or reject for the logged-in person: the server signs the approval for them (with the evidence of their
login), so the N-person rule, self-approval, roles and the policy are enforced by the engine as for every other
approval. In dev mode without a server key, the checkout's dev key signs (no trust boundary, said on every page)."""

from __future__ import annotations

from typing import Any

from engine.console.auth import Person
from engine.errors import ApprovalInvalid, InvalidInput
from engine.operations import Engine
from engine.operations.approval_flow import approve

VERDICTS = ("approve", "reject")


def decide(engine: Engine, verdict: str, preview_id: str, person: Person, reason: str, session: dict[str, Any]) -> str:
    """Record the person's decision; the message to show them."""
    text = " ".join(reason.split())
    if verdict not in VERDICTS:
        raise InvalidInput(f"no such decision: {verdict[:20]!r}")
    if len(text) < 3:
        raise InvalidInput("say why (a few words at least)")
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


def signed_approval(engine: Engine, preview_id: str, name: str, evidence: dict[str, str]) -> Any:
    trust = engine.parts.trust
    if trust.server_key is not None:
        return engine.approve_as_server(preview_id, approver=name, evidence=evidence)
    if trust.dev_signer is not None:
        return approve(engine.parts, preview_id, approver=name, signer=trust.dev_signer, evidence=evidence)
    raise ApprovalInvalid(
        "this server has no key to sign approvals with: set DATAMCP_SERVER_KEY_FILE (docs/console.md)"
    )
