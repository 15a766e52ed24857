"""The server's own Ed25519 key: safe storage, signing, and verification with the public key alone."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.errors import ServerKeyInvalid, SignatureInvalid
from engine.trust import ServerKey, ServerVerifier, canonical_json

MESSAGE = canonical_json({"preview_id": "p-1", "approved_by": "alice", "issuer": "console"})


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "server.key"
    ServerKey.generate(path)
    return path


def test_server_signature_verifies_with_the_public_key_only() -> None:
    key = ServerKey.from_secret(base64.b64encode(os.urandom(32)).decode())
    verifier = ServerVerifier.from_text(key.public_key_text())
    verifier.verify(MESSAGE, key.sign(MESSAGE))


def test_server_signature_fails_for_an_altered_message() -> None:
    key = ServerKey(Ed25519PrivateKey.generate())
    signature = key.sign(MESSAGE)
    altered = canonical_json({"preview_id": "p-1", "approved_by": "mallory", "issuer": "console"})
    with pytest.raises(SignatureInvalid, match="does not verify"):
        ServerVerifier.from_text(key.public_key_text()).verify(altered, signature)


def test_signature_of_another_server_key_fails() -> None:
    signature = ServerKey(Ed25519PrivateKey.generate()).sign(MESSAGE)
    with pytest.raises(SignatureInvalid):
        ServerKey(Ed25519PrivateKey.generate()).verifier().verify(MESSAGE, signature)


def test_non_base64_signature_is_refused() -> None:
    with pytest.raises(SignatureInvalid, match="not base64"):
        ServerKey(Ed25519PrivateKey.generate()).verifier().verify(MESSAGE, "not base64!")


def test_generated_key_file_is_private_to_its_owner(key_file: Path) -> None:
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_generated_key_loads_back_as_the_same_key(tmp_path: Path) -> None:
    generated = ServerKey.generate(tmp_path / "server.key")
    assert ServerKey.load(tmp_path / "server.key").public_key_text() == generated.public_key_text()


def test_generate_never_overwrites_an_existing_key(key_file: Path) -> None:
    before = key_file.read_bytes()
    with pytest.raises(ServerKeyInvalid, match="cannot create"):
        ServerKey.generate(key_file)
    assert key_file.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o620, 0o604, 0o602])
def test_key_file_open_to_group_or_others_is_refused(key_file: Path, mode: int) -> None:
    key_file.chmod(mode)
    with pytest.raises(ServerKeyInvalid, match=f"has mode {mode:04o}"):
        ServerKey.load(key_file)


def test_key_file_owned_by_another_user_is_refused(key_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() == 0:
        os.chown(key_file, 65534, -1)  # nobody
    else:
        monkeypatch.setattr(os, "geteuid", lambda: key_file.stat().st_uid + 1)
    with pytest.raises(ServerKeyInvalid, match="belongs to uid"):
        ServerKey.load(key_file)


def test_key_path_that_is_not_a_regular_file_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "server.key"
    os.mkfifo(fifo, 0o600)
    with pytest.raises(ServerKeyInvalid, match="not a regular file"):
        ServerKey.load(fifo)


def test_missing_key_file_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ServerKeyInvalid, match=r"cannot open the server key .*missing\.key"):
        ServerKey.load(tmp_path / "missing.key")


def test_secret_in_pem_form_is_the_same_key() -> None:
    key = ServerKey(Ed25519PrivateKey.generate())
    assert ServerKey.from_secret(key.private_pem().decode()).public_key_text() == key.public_key_text()


def test_secret_as_an_openssh_private_key_from_ssh_keygen_is_accepted(
    ssh_keys: dict[str, Path], public_keys: dict[str, str]
) -> None:
    key = ServerKey.from_secret(ssh_keys["carol"].read_text())
    assert key.public_key_text() == public_keys["carol"].rsplit(" ", 1)[0]


def test_secret_as_url_safe_base64_seed_is_the_same_key() -> None:
    seed = bytes(range(200, 232))
    expected = ServerKey(Ed25519PrivateKey.from_private_bytes(seed)).public_key_text()
    assert ServerKey.from_secret(base64.urlsafe_b64encode(seed).decode().rstrip("=")).public_key_text() == expected


def test_secret_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ServerKeyInvalid, match="32"):
        ServerKey.from_secret(base64.b64encode(b"short").decode())


def test_non_ed25519_secret_is_refused() -> None:
    pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ServerKeyInvalid, match="must hold an Ed25519 key"):
        ServerKey.from_secret(pem.decode())


def test_verifier_refuses_a_non_ed25519_public_key() -> None:
    rsa_public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    text = rsa_public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    with pytest.raises(ServerKeyInvalid, match="must be Ed25519"):
        ServerVerifier.from_text(text)


def test_key_id_is_the_fingerprint_ssh_keygen_prints(tmp_path: Path) -> None:
    key = ServerKey(Ed25519PrivateKey.generate())
    public = tmp_path / "server.pub"
    public.write_text(key.public_key_text() + "\n")
    printed = subprocess.run(["ssh-keygen", "-l", "-f", str(public)], capture_output=True, text=True, timeout=30)
    assert printed.stdout.split()[1] == key.verifier().key_id


def test_repr_does_not_reveal_the_private_key() -> None:
    key = ServerKey(Ed25519PrivateKey.generate())
    assert repr(key) == f"ServerKey({key.verifier().key_id})"
