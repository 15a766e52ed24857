"""Proving who signed an approval, by method and approval mode: the one place an approval is trusted or not."""

from __future__ import annotations

import hashlib
import hmac
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.approvals import Approval, Method
from engine.errors import ApprovalInvalid, InvalidInput
from engine.trust.approvers import SshPublicKey
from engine.trust.proofs import DevSigner, Proof, Prover, ServerSigner, SshSigner, signed
from engine.trust.server_key import ServerKey
from engine.vocabulary import Kind

WriteTrust = Callable[[list[dict[str, Any]]], Path]
DEV_KEY = b"k" * 32


def approval(approver: str = "bob", stack: str = "aws-dev", **changes: Any) -> Approval:
    base = Approval(
        approval_id="appr-0001",
        preview_id="prev-0001",
        kind=Kind.UPDATE,
        stack=stack,
        binding="b" * 64,
        approver=approver,
        requested_by="alice",
        expires_epoch=1_800_000_000,
        method=Method.DEV,
    )
    return base.model_copy(update=changes)


@pytest.fixture
def trust_file(write_trust: WriteTrust, public_keys: dict[str, str]) -> Path:
    """bob approves dev (by environment), carol approves gcp-* stacks (by pattern), dave is an admin only."""
    return write_trust(
        [
            {"principal": "bob", "aliases": ["github:bob"], "roles": ["approver"], "environments": ["dev"],
             "keys": [public_keys["bob"]]},
            {"principal": "carol", "roles": ["approver"], "stacks": ["gcp-*"], "keys": [public_keys["carol"]]},
            {"principal": "dave", "roles": ["admin"], "keys": [public_keys["dave"]]},
        ]
    )  # fmt: skip


@pytest.fixture
def server_key() -> ServerKey:
    return ServerKey(Ed25519PrivateKey.generate())


def signed_prover(trust_file: Path, server_key: ServerKey | None = None) -> Prover:
    return Prover("signed", trust_file, server=server_key.verifier() if server_key else None)


# --- dev signatures -------------------------------------------------------------------------------------------------
def test_a_dev_signature_is_the_hmac_sha256_of_the_payload() -> None:
    payload = approval().payload()
    assert DevSigner(DEV_KEY).sign(payload) == hmac.new(DEV_KEY, payload, hashlib.sha256).hexdigest()


def test_a_dev_signature_proves_the_named_approver_in_normal_form(tmp_path: Path) -> None:
    prover = Prover("dev", tmp_path / "none.yaml", dev_key=DEV_KEY)
    assert prover.prove(signed(approval("Bob"), DevSigner(DEV_KEY)), "dev") == Proof("bob")


def test_an_altered_dev_approval_proves_nobody(tmp_path: Path) -> None:
    prover = Prover("dev", tmp_path / "none.yaml", dev_key=DEV_KEY)
    altered = signed(approval(), DevSigner(DEV_KEY)).model_copy(update={"approver": "carol"})
    assert prover.prove(altered, "dev") == Proof(
        None, "the approval's signature does not match: it was altered or forged"
    )


def test_a_dev_approval_proves_nobody_in_signed_mode(trust_file: Path) -> None:
    prover = Prover("signed", trust_file, dev_key=DEV_KEY)
    assert prover.prove(signed(approval(), DevSigner(DEV_KEY)), "dev") == Proof(
        None, "dev-mode approvals are not accepted: approvals must be signed by a proven person"
    )


def test_a_dev_approval_proves_nobody_without_a_dev_key(tmp_path: Path) -> None:
    prover = Prover("dev", tmp_path / "none.yaml")
    assert prover.prove(signed(approval(), DevSigner(DEV_KEY)), "dev").principal is None


# --- signing --------------------------------------------------------------------------------------------------------
def test_signing_stamps_the_signers_method() -> None:
    assert signed(approval(method=Method.SSH), DevSigner(DEV_KEY)).method is Method.DEV


def test_signing_signs_the_stamped_payload() -> None:
    approved = signed(approval(method=Method.SSH), DevSigner(DEV_KEY))
    assert approved.signature == DevSigner(DEV_KEY).sign(approved.payload())


def test_a_server_signer_signs_with_the_server_key(server_key: ServerKey) -> None:
    approved = signed(approval(), ServerSigner(server_key))
    server_key.verifier().verify(approved.payload(), approved.signature)


# --- server signatures ----------------------------------------------------------------------------------------------
def test_a_server_approval_proves_the_listed_principal_behind_an_alias(trust_file: Path, server_key: ServerKey) -> None:
    approved = signed(approval("GitHub:Bob"), ServerSigner(server_key))
    assert signed_prover(trust_file, server_key).prove(approved, "dev") == Proof("bob")


def test_a_server_approval_for_a_stack_allowed_by_pattern_is_proven(trust_file: Path, server_key: ServerKey) -> None:
    approved = signed(approval("carol", stack="gcp-dev"), ServerSigner(server_key))
    assert signed_prover(trust_file, server_key).prove(approved, "dev") == Proof("carol")


def test_a_server_approval_without_a_server_key_proves_nobody(trust_file: Path, server_key: ServerKey) -> None:
    approved = signed(approval(), ServerSigner(server_key))
    assert signed_prover(trust_file).prove(approved, "dev") == Proof(
        None, "a server-issued approval, but no server key is configured to verify it"
    )


def test_a_server_approval_signed_by_another_key_proves_nobody(trust_file: Path, server_key: ServerKey) -> None:
    approved = signed(approval(), ServerSigner(ServerKey(Ed25519PrivateKey.generate())))
    proof = signed_prover(trust_file, server_key).prove(approved, "dev")
    assert proof.principal is None and "does not verify" in (proof.problem or "")


def test_a_server_approval_naming_someone_off_the_list_proves_nobody(trust_file: Path, server_key: ServerKey) -> None:
    approved = signed(approval("mallory"), ServerSigner(server_key))
    assert signed_prover(trust_file, server_key).prove(approved, "dev") == Proof(
        None, "'mallory' is not an approver of stack 'aws-dev' (dev) in approvers.yaml"
    )


def test_a_server_approval_outside_the_approvers_scope_proves_nobody(trust_file: Path, server_key: ServerKey) -> None:
    approved = signed(approval("bob", stack="aws-prod"), ServerSigner(server_key))
    assert signed_prover(trust_file, server_key).prove(approved, "prod") == Proof(
        None, "'bob' is not an approver of stack 'aws-prod' (prod) in approvers.yaml"
    )


def test_a_server_approval_in_dev_mode_needs_no_trust_list(tmp_path: Path, server_key: ServerKey) -> None:
    prover = Prover("dev", tmp_path / "none.yaml", server=server_key.verifier())
    assert prover.prove(signed(approval("Zed"), ServerSigner(server_key)), "dev") == Proof("zed")


# --- SSH signatures -------------------------------------------------------------------------------------------------
def test_an_ssh_approval_proves_the_key_owner(trust_file: Path, ssh_keys: dict[str, Path]) -> None:
    approved = signed(approval("bob"), SshSigner(ssh_keys["bob"]))
    assert signed_prover(trust_file).prove(approved, "dev") == Proof("bob")


def test_an_ssh_approval_for_a_stack_allowed_by_pattern_is_proven(trust_file: Path, ssh_keys: dict[str, Path]) -> None:
    approved = signed(approval("carol", stack="gcp-dev"), SshSigner(ssh_keys["carol"]))
    assert signed_prover(trust_file).prove(approved, "dev") == Proof("carol")


def test_an_ssh_approval_by_a_non_approver_proves_nobody(trust_file: Path, ssh_keys: dict[str, Path]) -> None:
    approved = signed(approval("dave"), SshSigner(ssh_keys["dave"]))
    proof = signed_prover(trust_file).prove(approved, "dev")
    assert proof.principal is None and "'dave' is not allowed to act as approver" in (proof.problem or "")


def test_an_ssh_approval_by_an_unlisted_key_proves_nobody(trust_file: Path, ssh_keys: dict[str, Path]) -> None:
    approved = signed(approval("bob"), SshSigner(ssh_keys["mallory"]))
    proof = signed_prover(trust_file).prove(approved, "dev")
    assert proof.principal is None and "not in the trust list" in (proof.problem or "")


def test_an_ssh_signer_reports_why_it_cannot_sign(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="No such file"):
        SshSigner(tmp_path / "missing").sign(b"payload")


def test_an_ssh_signers_public_key_comes_from_the_pub_file(
    ssh_keys: dict[str, Path], public_keys: dict[str, str]
) -> None:
    assert SshSigner(ssh_keys["bob"]).public_key() == SshPublicKey.parse(public_keys["bob"])


def test_an_ssh_signers_public_key_is_derived_without_a_pub_file(
    tmp_path: Path, ssh_keys: dict[str, Path], public_keys: dict[str, str]
) -> None:
    lonely = tmp_path / "id_ed25519"
    shutil.copy(ssh_keys["carol"], lonely)
    lonely.chmod(0o600)
    assert SshSigner(lonely).public_key() == SshPublicKey.parse(public_keys["carol"])


def test_an_unreadable_key_has_no_public_key(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("not a key\n")
    junk.chmod(0o600)
    with pytest.raises(InvalidInput, match=r"^cannot read the public key of junk: .+"):
        SshSigner(junk).public_key()


# --- the person behind a name ---------------------------------------------------------------------------------------
def test_canonical_names_the_listed_principal_behind_an_alias(trust_file: Path) -> None:
    assert Prover("signed", trust_file).canonical("GitHub:Bob") == "bob"


def test_canonical_is_the_normal_form_for_an_unlisted_name(trust_file: Path) -> None:
    assert Prover("signed", trust_file).canonical(" Zed ") == "zed"


def test_canonical_is_the_normal_form_without_a_trust_list(tmp_path: Path) -> None:
    assert Prover("dev", tmp_path / "none.yaml").canonical("Zed") == "zed"


def test_a_known_approver_in_dev_mode_is_the_normal_form(tmp_path: Path) -> None:
    assert Prover("dev", tmp_path / "none.yaml").known_approver("Zed", "aws-prod", "prod") == "zed"


def test_a_known_approver_in_signed_mode_must_be_listed(trust_file: Path) -> None:
    with pytest.raises(ApprovalInvalid):
        Prover("signed", trust_file).known_approver("zed", "aws-dev", "dev")


def test_an_interactive_signer_leaves_the_reason_on_the_terminal(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as caught:
        SshSigner(tmp_path / "missing", interactive=True).sign(b"payload")
    assert caught.value.message == f"could not sign with {tmp_path / 'missing'}: ssh-keygen failed"


def test_the_pub_file_beside_a_key_names_its_public_key(
    tmp_path: Path, ssh_keys: dict[str, Path], public_keys: dict[str, str]
) -> None:
    held = tmp_path / "id_ed25519"
    shutil.copy(ssh_keys["carol"], held)
    held.chmod(0o600)
    (tmp_path / "id_ed25519.pub").write_text(public_keys["bob"] + "\n")  # e.g. a key the agent holds
    assert SshSigner(held).public_key() == SshPublicKey.parse(public_keys["bob"])


def test_ssh_keygens_reason_is_cut_to_200_characters(tmp_path: Path) -> None:
    folder = tmp_path / ("d" * 200)
    folder.mkdir()
    junk = folder / "junk"
    junk.write_text("not a key\n")
    junk.chmod(0o600)
    with pytest.raises(InvalidInput) as caught:
        SshSigner(junk).public_key()
    assert len(caught.value.message) == len("cannot read the public key of junk: ") + 200
