"""The approval trust this engine runs with, from its settings: the prover, and the keys it may sign with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.approvals import load_or_create_key
from engine.errors import ServerKeyInvalid
from engine.settings import Settings
from engine.trust.approvers import TrustList, required_approvals
from engine.trust.proofs import DevSigner, Prover, ServerSigner
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

    def required(self, stack: str, environment: str) -> int:
        """The N-person rule: the trust list's `required_approvals`, else 2 for production, 1 elsewhere."""
        path = self.prover.trust_file
        rules = TrustList.load(path).required if path.is_file() else ()
        return required_approvals(rules, stack, environment)


def load_server_key(settings: Settings) -> ServerKey | None:
    if settings.server_key is not None:
        return ServerKey.from_secret(settings.server_key.get_secret_value())
    if settings.server_key_file is not None:
        return ServerKey.load(settings.server_key_file)
    return None


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
