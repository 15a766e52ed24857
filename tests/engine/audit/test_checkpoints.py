"""Signed checkpoints: a signature covers every field but itself, so no signed checkpoint can be moved or relabelled."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.audit.checkpoints import Checkpoint, Notary
from engine.trust.server_key import ServerKey

NOTARY = Notary(ServerKey(Ed25519PrivateKey.generate()))


def signed() -> Checkpoint:
    return NOTARY.sign(Checkpoint(seq=7, hash="a" * 64, signed_at="2027-01-15T08:00:00+00:00", key_id="", note=""))


def test_a_signed_checkpoint_is_genuine() -> None:
    assert NOTARY.problem(signed()) is None


def test_a_checkpoint_names_the_key_that_signed_it() -> None:
    assert signed().key_id == NOTARY.verifier.key_id


@pytest.mark.parametrize(("field", "value"), [("seq", 8), ("hash", "b" * 64), ("note", "chain restart")])
def test_a_signed_checkpoint_moved_or_relabelled_is_not_genuine(field: str, value: object) -> None:
    altered = signed().model_copy(update={field: value})
    assert NOTARY.problem(altered) == (
        f"checkpoint at record {altered.seq}: the signature does not verify (altered or forged)"
    )
