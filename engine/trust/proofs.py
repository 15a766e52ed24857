"""Signing an approval by its method, and proving who signed it: the only place approvals are trusted or not."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from engine.approvals import Approval, Method
from engine.errors import ApprovalInvalid, DataMcpError, InvalidInput
from engine.identity import normalize_principal
from engine.trust import ssh
from engine.trust.approvers import Role, SshPublicKey, TrustList, verify_signed
from engine.trust.server_key import ServerKey, ServerVerifier

DEV_WARNING = (
    "dev mode: approvals are signed with a key in the state dir that anyone running this CLI can read; "
    "this is not a trust boundary (docs/security.md)"
)


@dataclass(frozen=True)
class Proof:
    """Who an approval's signature proves (None with the reason when it proves nobody)."""

    principal: str | None
    problem: str | None = None


class Signer(Protocol):
    method: Method

    def sign(self, payload: bytes) -> str: ...


class DevSigner:
    method = Method.DEV

    def __init__(self, key: bytes) -> None:
        self.key = key

    def sign(self, payload: bytes) -> str:
        return hmac.new(self.key, payload, hashlib.sha256).hexdigest()


class SshSigner:
    """The approver's own SSH key (`ssh-keygen -Y sign`; hardware `-sk` keys prompt for a touch)."""

    method = Method.SSH

    def __init__(self, key_path: Path, *, interactive: bool = False) -> None:
        self.key_path = key_path
        self.interactive = interactive

    def sign(self, payload: bytes) -> str:
        return ssh.sign(payload, self.key_path, interactive=self.interactive)

    def public_key(self) -> SshPublicKey:
        """From KEY.pub beside the key, else derived by ssh-keygen."""
        pub = self.key_path.with_name(self.key_path.name + ".pub")
        if pub.is_file():
            return SshPublicKey.parse(pub.read_text().strip())
        derived = subprocess.run(
            [str(ssh.ssh_keygen()), "-y", "-f", str(self.key_path)], capture_output=True, text=True, timeout=30
        )
        if derived.returncode != 0:
            raise InvalidInput(f"cannot read the public key of {self.key_path.name}: {derived.stderr.strip()[:200]}")
        return SshPublicKey.parse(derived.stdout.strip())


class ServerSigner:
    method = Method.SERVER

    def __init__(self, key: ServerKey) -> None:
        self.key = key

    def sign(self, payload: bytes) -> str:
        return self.key.sign(payload)


def signed(approval: Approval, signer: Signer) -> Approval:
    stamped = approval.model_copy(update={"method": signer.method, "signature": ""})
    return stamped.model_copy(update={"signature": signer.sign(stamped.payload())})


class Prover:
    """Checks an approval's signature by its method and says who it proves, under the configured approval mode."""

    def __init__(
        self,
        mode: Literal["dev", "signed"],
        trust_file: Path,
        *,
        dev_key: bytes | None = None,
        server: ServerVerifier | None = None,
    ) -> None:
        self.mode = mode
        self.trust_file = trust_file
        self.dev_key = dev_key
        self.server = server

    def trust(self) -> TrustList:
        return TrustList.load(self.trust_file)

    def canonical(self, name: str) -> str:
        """The person behind a name: their trust-list principal when the list knows the name or one of its
        aliases (so `github:bob` and `bob` are one person), else the name in normal form."""
        entry = self.trust().approver(name) if self.trust_file.is_file() else None
        return entry.principal if entry is not None else normalize_principal(name)

    def known_approver(self, name: str, stack: str, environment: str) -> str:
        """In signed mode a person the server vouches for must still be in the trust list (by principal or alias)
        and allowed this stack; the answer is their principal, so one person counts once however named."""
        if self.mode == "dev":
            return normalize_principal(name)
        entry = self.trust().approver(name)
        if entry is None or not entry.may_approve(stack, environment):
            raise ApprovalInvalid(
                f"{name!r} is not an approver of stack {stack!r} ({environment}) in {self.trust_file.name}"
            )
        return entry.principal

    def prove(self, approval: Approval, environment: str) -> Proof:
        try:
            return Proof(self._principal(approval, environment))
        except DataMcpError as exc:
            return Proof(None, exc.message)

    def _principal(self, approval: Approval, environment: str) -> str:
        payload = approval.payload()
        if approval.method is Method.SSH:
            return verify_signed(self.trust(), payload, approval.signature, approval.stack, environment, Role.APPROVER)
        if approval.method is Method.SERVER:
            if self.server is None:
                raise ApprovalInvalid("a server-issued approval, but no server key is configured to verify it")
            self.server.verify(payload, approval.signature)
            return self.known_approver(approval.approver, approval.stack, environment)
        if self.mode != "dev" or self.dev_key is None:
            raise ApprovalInvalid("dev-mode approvals are not accepted: approvals must be signed by a proven person")
        if not hmac.compare_digest(approval.signature, DevSigner(self.dev_key).sign(payload)):
            raise ApprovalInvalid("the approval's signature does not match: it was altered or forged")
        return normalize_principal(approval.approver)
