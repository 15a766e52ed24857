"""Server-issued signatures: an Ed25519 key only the server holds signs, anyone with its public key verifies."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from engine.errors import ServerKeyInvalid, SignatureInvalid

MAX_KEY_FILE = 64 * 1024
_SEED_BYTES = 32
_SIGNATURE_BYTES = 64


class ServerVerifier:
    """Checks server signatures with the public key alone, so a verifying process never needs the private key."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._key = public_key

    @classmethod
    def from_text(cls, text: str) -> ServerVerifier:
        """A verifier from `ServerKey.public_key_text()` output (an OpenSSH `ssh-ed25519 AAAA...` line) or a PEM key."""
        data = text.strip().encode("ascii", errors="replace")
        try:
            if data.startswith(b"-----BEGIN"):
                key = serialization.load_pem_public_key(data)
            else:
                key = serialization.load_ssh_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise ServerKeyInvalid(f"not a public key: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ServerKeyInvalid(f"the server's public key must be Ed25519, not {type(key).__name__}")
        return cls(key)

    @property
    def key_id(self) -> str:
        """`SHA256:...`, the same fingerprint `ssh-keygen -l` prints, to record which server key signed."""
        return _fingerprint(self._key)

    def verify(self, message: bytes, signature: str) -> None:
        """Succeed only if `signature` (base64, from `ServerKey.sign`) is this key's signature of `message`."""
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SignatureInvalid("server signature is not base64") from exc
        if len(raw) != _SIGNATURE_BYTES:
            raise SignatureInvalid(f"server signature has {len(raw)} bytes, an Ed25519 signature has 64")
        try:
            self._key.verify(raw, message)
        except InvalidSignature as exc:
            raise SignatureInvalid(f"server signature does not verify with key {self.key_id}") from exc


class ServerKey:
    """The server's private signing key: from a 0600 file of the server's own user, or from a secret."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key

    @classmethod
    def load(cls, path: Path) -> ServerKey:
        """The key in `path`, refused unless it is a regular file owned by us that nobody else can read or write."""
        try:
            # fstat below checks the file actually opened (a symlink's target, as mounted secrets are); O_NONBLOCK
            # keeps a FIFO planted at `path` from hanging the open before it is refused.
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            raise ServerKeyInvalid(f"cannot open the server key {path}: {exc.strerror}", file=str(path)) from exc
        with os.fdopen(fd, "rb") as f:
            _check_private(path, os.fstat(f.fileno()))
            data = f.read(MAX_KEY_FILE + 1)
        if len(data) > MAX_KEY_FILE:
            raise ServerKeyInvalid(f"the server key {path} is larger than {MAX_KEY_FILE} bytes", file=str(path))
        return cls._from_pem(data, source=str(path))

    @classmethod
    def generate(cls, path: Path) -> ServerKey:
        """A new key written to `path` (mode 0600, never over an existing file)."""
        key = cls(Ed25519PrivateKey.generate())
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise ServerKeyInvalid(f"cannot create the server key {path}: {exc.strerror}", file=str(path)) from exc
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(key.private_pem())
        return key

    @classmethod
    def from_secret(cls, secret: str) -> ServerKey:
        """A key from a secret manager or environment variable: PKCS#8 or OpenSSH PEM, or the base64 32-byte seed."""
        text = secret.strip()
        if text.startswith("-----BEGIN"):
            return cls._from_pem(text.encode("ascii", errors="replace"), source="the secret")
        standard = text.replace("-", "+").replace("_", "/")  # the URL-safe alphabet too
        try:
            seed = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ServerKeyInvalid("the server key secret is neither PEM nor base64") from exc
        if len(seed) != _SEED_BYTES:
            raise ServerKeyInvalid(f"the server key secret holds {len(seed)} bytes, an Ed25519 seed has 32")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def _from_pem(cls, data: bytes, source: str) -> ServerKey:
        key: object
        try:
            if b"OPENSSH PRIVATE KEY" in data:
                key = serialization.load_ssh_private_key(data, password=None)
            else:
                key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise ServerKeyInvalid(f"{source} is not an unencrypted private key: {exc}", file=source) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise ServerKeyInvalid(f"{source} must hold an Ed25519 key, not {type(key).__name__}", file=source)
        return cls(key)

    @classmethod
    def configured(cls, secret: str | None, path: Path | None) -> ServerKey | None:
        """The key from a secret manager's value, else from a file, else none."""
        if secret is not None:
            return cls.from_secret(secret)
        return cls.load(path) if path is not None else None

    def sign(self, message: bytes) -> str:
        """The base64 Ed25519 signature of `message`."""
        return base64.b64encode(self._key.sign(message)).decode("ascii")

    def public_key_text(self) -> str:
        """The public key as one OpenSSH line (`ssh-ed25519 AAAA...`), for config files and `ServerVerifier`."""
        public = self._key.public_key()
        return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode("ascii")

    def verifier(self) -> ServerVerifier:
        return ServerVerifier(self._key.public_key())

    def private_pem(self) -> bytes:
        """The unencrypted PKCS#8 PEM of the private key, to store in a secret manager."""
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def __repr__(self) -> str:
        return f"ServerKey({self.verifier().key_id})"


def _check_private(path: Path, st: os.stat_result) -> None:
    """Refuse a key file that is not a regular file, not ours, or open to group or others."""
    if not stat.S_ISREG(st.st_mode):
        raise ServerKeyInvalid(f"the server key {path} is not a regular file", file=str(path))
    if st.st_uid != os.geteuid():
        raise ServerKeyInvalid(
            f"the server key {path} belongs to uid {st.st_uid}, not to this process's user (uid {os.geteuid()})",
            file=str(path),
        )
    if st.st_mode & 0o077:
        raise ServerKeyInvalid(
            f"the server key {path} has mode {stat.S_IMODE(st.st_mode):04o}; others may read or change it: "
            f"run `chmod 600 {path}`",
            file=str(path),
        )


def _fingerprint(key: Ed25519PublicKey) -> str:
    blob = base64.b64decode(
        key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).split()[1]
    )
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
