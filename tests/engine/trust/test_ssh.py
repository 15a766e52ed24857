"""ssh-keygen -Y sign / verify / find-principals, run for real on throwaway keys."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import InvalidInput, SignatureInvalid, ToolchainError
from engine.trust import ssh

MESSAGE = b'{"preview_id":"p-1","stack":"aws-dev"}'


@pytest.fixture
def allowed_signers(tmp_path: Path, public_keys: dict[str, str]) -> Path:
    """alice and bob listed for the approval namespace (mallory is not)."""
    path = tmp_path / "allowed_signers"
    lines = [f'{name} namespaces="{ssh.NAMESPACE}" {public_keys[name]}\n' for name in ("alice", "bob")]
    path.write_text("".join(lines))
    return path


def test_signature_verifies_for_its_principal(ssh_keys: dict[str, Path], allowed_signers: Path) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["alice"])
    ssh.verify(MESSAGE, signature, "alice", allowed_signers)


def test_signature_is_armored_text(ssh_keys: dict[str, Path]) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["alice"])
    assert signature.startswith("-----BEGIN SSH SIGNATURE-----\n")


def test_modified_message_fails_with_sshkeygens_reason(ssh_keys: dict[str, Path], allowed_signers: Path) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["alice"])
    with pytest.raises(SignatureInvalid, match="incorrect signature"):
        ssh.verify(MESSAGE.replace(b"aws-dev", b"aws-prod"), signature, "alice", allowed_signers)


def test_key_listed_for_bob_cannot_claim_alice(ssh_keys: dict[str, Path], allowed_signers: Path) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["bob"])
    with pytest.raises(SignatureInvalid, match="alice"):
        ssh.verify(MESSAGE, signature, "alice", allowed_signers)


def test_unlisted_key_fails_verification(ssh_keys: dict[str, Path], allowed_signers: Path) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["mallory"])
    with pytest.raises(SignatureInvalid):
        ssh.verify(MESSAGE, signature, "alice", allowed_signers)


def test_signature_made_for_another_namespace_fails(ssh_keys: dict[str, Path], allowed_signers: Path) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["alice"], namespace="git")
    with pytest.raises(SignatureInvalid, match="namespace"):
        ssh.verify(MESSAGE, signature, "alice", allowed_signers)


def test_find_principals_names_the_key_owner(ssh_keys: dict[str, Path], allowed_signers: Path) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["bob"])
    assert ssh.find_principals(signature, allowed_signers) == ["bob"]


def test_find_principals_is_empty_for_an_unlisted_key(ssh_keys: dict[str, Path], allowed_signers: Path) -> None:
    signature = ssh.sign(MESSAGE, ssh_keys["mallory"])
    assert ssh.find_principals(signature, allowed_signers) == []


def test_garbage_signature_is_refused(allowed_signers: Path) -> None:
    with pytest.raises(SignatureInvalid, match="cannot check the signature"):
        ssh.find_principals("not a signature", allowed_signers)


def test_oversized_signature_is_refused_before_running_ssh_keygen(allowed_signers: Path) -> None:
    with pytest.raises(SignatureInvalid, match="longer than"):
        ssh.verify(MESSAGE, "A" * (ssh.MAX_SIGNATURE + 1), "alice", allowed_signers)


def test_signing_with_a_missing_key_is_invalid_input(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="could not sign"):
        ssh.sign(MESSAGE, tmp_path / "no-such-key")


def test_missing_ssh_keygen_is_a_toolchain_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, allowed_signers: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainError, match="ssh-keygen was not found"):
        ssh.verify(MESSAGE, "sig", "alice", allowed_signers)


@pytest.fixture
def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private ssh-agent (socket in tmp_path) as SSH_AUTH_SOCK; stopped by its own pid afterwards."""
    socket = tmp_path / "agent.sock"
    process = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not socket.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    monkeypatch.setenv("SSH_AUTH_SOCK", str(socket))
    try:
        yield socket
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(timeout=10)


def test_key_held_by_the_agent_signs_through_its_public_key_file(
    agent: Path, tmp_path: Path, ssh_keys: dict[str, Path], allowed_signers: Path
) -> None:
    subprocess.run(["ssh-add", "-q", str(ssh_keys["bob"])], check=True, timeout=30)
    lone_public_key = tmp_path / "lone" / "bob.pub"  # no private key next to it: only the agent can sign
    lone_public_key.parent.mkdir()
    lone_public_key.write_bytes(ssh_keys["bob"].with_name("bob.pub").read_bytes())
    signature = ssh.sign(MESSAGE, lone_public_key)
    ssh.verify(MESSAGE, signature, "bob", allowed_signers)
