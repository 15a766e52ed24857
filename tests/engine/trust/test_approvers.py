"""The trust list (approvers.yaml): parsing, scoping, and signatures proven against it with the real ssh-keygen."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import ApprovalInvalid, SignatureInvalid, TrustListInvalid
from engine.trust import Role, TrustList, canonical_json, ssh, verify_signed

WriteTrust = Callable[[list[dict[str, Any]]], Path]
BINDING = canonical_json({"preview_id": "p-1", "stack": "aws-prod", "requester": "carol"})


@pytest.fixture
def trust(write_trust: WriteTrust, public_keys: dict[str, str]) -> TrustList:
    """alice approves everything in dev and prod and is an admin; bob approves dev and the gcp-* stacks only."""
    return TrustList.load(
        write_trust(
            [
                {"principal": "alice", "roles": ["approver", "admin"], "environments": ["dev", "prod"],
                 "keys": [public_keys["alice"]]},
                {"principal": "Bob", "roles": ["approver"], "environments": ["dev"], "stacks": ["gcp-*"],
                 "keys": [public_keys["bob"]]},
            ]
        )
    )  # fmt: skip


def _entry(name: str, key: str, **extra: Any) -> dict[str, Any]:
    return {"principal": name, "roles": ["approver"], "environments": ["dev"], "keys": [key], **extra}


def test_signature_proves_the_principal_of_its_key(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["alice"])
    assert verify_signed(trust, BINDING, signature, "aws-prod", "prod") == "alice"


def test_proven_principal_is_the_normal_form(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["bob"])
    assert verify_signed(trust, BINDING, signature, "aws-dev", "dev") == "bob"


def test_modified_message_is_refused(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["alice"])
    tampered = canonical_json({"preview_id": "p-1", "stack": "aws-prod", "requester": "alice"})
    with pytest.raises(SignatureInvalid):
        verify_signed(trust, tampered, signature, "aws-prod", "prod")


def test_signature_by_a_key_not_in_the_trust_list_is_refused(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["mallory"])
    with pytest.raises(SignatureInvalid, match="not in the trust list"):
        verify_signed(trust, BINDING, signature, "aws-dev", "dev")


def test_key_listed_for_bob_cannot_be_verified_as_alice(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["bob"])
    with trust.allowed_signers_file() as signers, pytest.raises(SignatureInvalid):
        ssh.verify(BINDING, signature, "alice", signers)


def test_signature_in_another_namespace_is_refused(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["alice"], namespace="git")
    with pytest.raises(SignatureInvalid, match="namespace"):
        verify_signed(trust, BINDING, signature, "aws-prod", "prod")


def test_dev_approver_is_refused_for_a_prod_stack(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["bob"])
    with pytest.raises(ApprovalInvalid, match="not allowed") as caught:
        verify_signed(trust, BINDING, signature, "aws-prod", "prod")
    assert not isinstance(caught.value, SignatureInvalid)


def test_stack_pattern_lets_an_approver_approve_outside_their_environments(trust: TrustList) -> None:
    assert trust.may_approve("bob", "gcp-prod", "prod")


def test_approver_is_refused_where_neither_stack_nor_environment_is_listed(trust: TrustList) -> None:
    assert not trust.may_approve("bob", "aws-prod", "prod")


def test_admin_action_needs_the_admin_role(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["bob"])
    with pytest.raises(ApprovalInvalid, match="admin"):
        verify_signed(trust, BINDING, signature, "aws-dev", "dev", role=Role.ADMIN)


def test_admin_signature_proves_the_admin(trust: TrustList, ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(BINDING, ssh_keys["alice"])
    assert verify_signed(trust, BINDING, signature, "aws-dev", "dev", role=Role.ADMIN) == "alice"


def test_lookup_compares_normal_forms(trust: TrustList) -> None:
    assert trust.has_role(" ALICE", Role.ADMIN)


def test_lookalike_principal_is_nobody(trust: TrustList) -> None:
    assert not trust.may_approve("\u0430lice", "aws-dev", "dev")


def test_allowed_signers_restrict_each_key_to_its_principal_and_the_namespace(
    write_trust: WriteTrust, public_keys: dict[str, str]
) -> None:
    trust = TrustList.load(write_trust([_entry("alice", public_keys["alice"])]))
    keytype, blob, _comment = public_keys["alice"].split(" ")
    assert trust.allowed_signers_text() == f'alice namespaces="datamcp-approval" {keytype} {blob}\n'


def test_hardware_backed_key_is_accepted_as_listed(write_trust: WriteTrust, tmp_path: Path) -> None:
    sk_key = _sk_ed25519_public_key()
    trust = TrustList.load(write_trust([_entry("dave", f"{sk_key} dave@yubikey")]))
    line = tmp_path / "dave.pub"
    line.write_text(trust.allowed_signers_text().split(" ", 2)[2])
    fingerprint = subprocess.run(["ssh-keygen", "-l", "-f", str(line)], capture_output=True, text=True, timeout=30)
    assert "ED25519-SK" in fingerprint.stdout


def test_duplicate_principal_after_normalisation_is_refused(
    write_trust: WriteTrust, public_keys: dict[str, str]
) -> None:
    path = write_trust([_entry("Alice", public_keys["alice"]), _entry("alice", public_keys["bob"])])
    with pytest.raises(TrustListInvalid, match=r"approvers\[1\] lists principal 'alice' again") as caught:
        TrustList.load(path)
    assert str(path) in caught.value.message


def test_key_shared_by_two_principals_is_refused(write_trust: WriteTrust, public_keys: dict[str, str]) -> None:
    path = write_trust([_entry("alice", public_keys["alice"]), _entry("bob", public_keys["alice"])])
    with pytest.raises(TrustListInvalid, match="reuses"):
        TrustList.load(path)


def test_unknown_field_is_refused_naming_the_file_and_entry(
    write_trust: WriteTrust, public_keys: dict[str, str]
) -> None:
    path = write_trust([_entry("alice", public_keys["alice"]), _entry("bob", public_keys["bob"], role="admin")])
    with pytest.raises(TrustListInvalid) as caught:
        TrustList.load(path)
    assert caught.value.message.startswith(f"{path}: approvers[1].role (principal 'bob'):")


def test_unknown_role_is_refused(write_trust: WriteTrust, public_keys: dict[str, str]) -> None:
    path = write_trust([_entry("alice", public_keys["alice"], roles=["owner"])])
    with pytest.raises(TrustListInvalid, match=r"approvers\[0\]\.roles\[0\]"):
        TrustList.load(path)


def test_unknown_environment_is_refused(write_trust: WriteTrust, public_keys: dict[str, str]) -> None:
    path = write_trust([_entry("alice", public_keys["alice"], environments=["staging"])])
    with pytest.raises(TrustListInvalid, match="environments"):
        TrustList.load(path)


def test_mixed_script_principal_in_the_trust_list_is_refused(
    write_trust: WriteTrust, public_keys: dict[str, str]
) -> None:
    path = write_trust([_entry("\u0430lice", public_keys["alice"])])
    with pytest.raises(TrustListInvalid, match="mixes scripts"):
        TrustList.load(path)


def test_approver_without_stacks_or_environments_is_refused(
    write_trust: WriteTrust, public_keys: dict[str, str]
) -> None:
    path = write_trust([_entry("alice", public_keys["alice"], environments=[])])
    with pytest.raises(TrustListInvalid, match="needs `stacks` or `environments`"):
        TrustList.load(path)


def test_admin_without_stacks_is_accepted(write_trust: WriteTrust, public_keys: dict[str, str]) -> None:
    trust = TrustList.load(write_trust([{"principal": "root-ops", "roles": ["admin"], "keys": [public_keys["carol"]]}]))
    assert trust.has_role("root-ops", Role.ADMIN)


def test_unsupported_key_type_is_refused(write_trust: WriteTrust) -> None:
    path = write_trust([_entry("alice", "ssh-dss AAAAB3NzaC1kc3MAAACBAP1 alice")])
    with pytest.raises(TrustListInvalid, match="unsupported key type 'ssh-dss'"):
        TrustList.load(path)


def test_key_whose_data_is_another_type_is_refused(write_trust: WriteTrust, public_keys: dict[str, str]) -> None:
    blob = public_keys["alice"].split(" ")[1]
    path = write_trust([_entry("alice", f"ssh-rsa {blob}")])
    with pytest.raises(TrustListInvalid, match="not a ssh-rsa public key"):
        TrustList.load(path)


def test_key_line_with_allowed_signers_options_is_refused(write_trust: WriteTrust, public_keys: dict[str, str]) -> None:
    path = write_trust([_entry("alice", f"cert-authority {public_keys['alice']}")])
    with pytest.raises(TrustListInvalid, match="unsupported key type 'cert-authority'"):
        TrustList.load(path)


def test_repeated_yaml_key_is_refused(tmp_path: Path, public_keys: dict[str, str]) -> None:
    path = tmp_path / "approvers.yaml"
    path.write_text(
        "version: 1\napprovers:\n  - principal: alice\n    principal: mallory\n    roles: [admin]\n"
        f"    keys: ['{public_keys['alice']}']\n"
    )
    with pytest.raises(TrustListInvalid, match="repeated key 'principal'"):
        TrustList.load(path)


def test_unsupported_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "approvers.yaml"
    path.write_text("version: 2\napprovers: []\n")
    with pytest.raises(TrustListInvalid, match="version"):
        TrustList.load(path)


def test_missing_trust_list_is_refused_naming_the_file(tmp_path: Path) -> None:
    with pytest.raises(TrustListInvalid, match=r"cannot read the trust list .*approvers\.yaml"):
        TrustList.load(tmp_path / "approvers.yaml")


def _sk_ed25519_public_key() -> str:
    """A well-formed sk-ssh-ed25519 public key (as a FIDO token would make) without needing the token."""

    def string(data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + data

    keytype = b"sk-ssh-ed25519@openssh.com"
    blob = string(keytype) + string(bytes(range(32))) + string(b"ssh:")
    return f"{keytype.decode()} {base64.b64encode(blob).decode()}"
