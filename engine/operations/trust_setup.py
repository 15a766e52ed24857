"""The approval trust this engine runs with, from its settings: the prover, and the keys it may sign with."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from engine.approvals import load_or_create_key
from engine.audit import AuditStore
from engine.audit.anchor import open_anchor
from engine.audit.checkpoints import Notary
from engine.audit.spool import Spool
from engine.audit.trail import AuditTrail
from engine.errors import ServerKeyInvalid
from engine.settings import Settings
from engine.trust import canonical_json
from engine.trust.approvers import Role, TrustList, required_approvals, verify_signed
from engine.trust.proofs import DevSigner, Prover, ServerSigner, SshSigner
from engine.trust.server_key import ServerKey


@dataclass(frozen=True)
class Trust:
    prover: Prover
    dev_signer: DevSigner | None
    server_key: ServerKey | None

    def server_signer(self) -> ServerSigner:
        if self.server_key is None:
            raise ServerKeyInvalid("no server key: set DATAMCP_SERVER_KEY_FILE or DATAMCP_SERVER_KEY on the server")
        return ServerSigner(self.server_key)

    def prove_admin(self, key: Path, action: str) -> str:
        """The principal the trust list gives the admin role, proven by signing `action` with their SSH key."""
        payload = canonical_json({"action": action})
        signature = SshSigner(key, interactive=True).sign(payload)
        return verify_signed(self.prover.trust(), payload, signature, "*", "*", Role.ADMIN)

    def roles_of(self, principal: str | None) -> frozenset[str]:
        """The roles the trust list gives a proven person (none without a list or an entry)."""
        path = self.prover.trust_file
        entry = TrustList.load(path).approver(principal) if principal and path.is_file() else None
        return frozenset(r.value for r in entry.roles) if entry is not None else frozenset()

    def required(self, stack: str, environment: str) -> int:
        """The N-person rule: the trust list's `required_approvals`, else 2 for production, 1 elsewhere."""
        path = self.prover.trust_file
        rules = TrustList.load(path).required if path.is_file() else ()
        return required_approvals(rules, stack, environment)


def load_server_key(settings: Settings) -> ServerKey | None:
    secret = settings.server_key.get_secret_value() if settings.server_key is not None else None
    return ServerKey.configured(secret, settings.server_key_file)


def trust_from(settings: Settings, state: Path) -> Trust:
    """Dev mode keeps an HMAC key in the state dir (not a trust boundary); signed mode never accepts it."""
    server_key = load_server_key(settings)
    dev_key = None
    if settings.approval_mode == "dev":
        secret = settings.approval_key
        dev_key = secret.get_secret_value().encode() if secret else load_or_create_key(state / "approval.key")
    prover = Prover(
        settings.approval_mode,
        settings.approvers_file,
        dev_key=dev_key,
        server=server_key.verifier() if server_key else None,
    )
    return Trust(prover, DevSigner(dev_key) if dev_key else None, server_key)


def notary_for(settings: Settings, trust: Trust) -> Notary:
    """Checkpoints are signed with the notary key if set, else the server key, else the state dir's own key (which,
    like dev-mode approvals, anyone who can read the state dir could use)."""
    if settings.notary_key_file is None and trust.server_key is not None:
        return Notary(trust.server_key)
    path = settings.notary_key_file or settings.state_dir / "notary.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            ServerKey.generate(path)
    return Notary(ServerKey.load(path))


def audit_trail(settings: Settings, store: AuditStore, trust: Trust) -> AuditTrail:
    anchor = open_anchor(settings.audit_anchor_url)
    return AuditTrail(store, notary_for(settings, trust), anchor, Spool(settings.state_dir / "audit-spool"))
