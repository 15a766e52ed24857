"""Approvals signed with a person's own SSH key, signed and verified by OpenSSH's `ssh-keygen -Y` (no crypto of ours).

Any key ssh-keygen can sign with works unchanged, including hardware-backed `sk-` keys and keys held by ssh-agent
(pass the `.pub` file as `key_path`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.errors import InvalidInput, SignatureInvalid, ToolchainError

NAMESPACE = "datamcp-approval"
VERIFY_TIMEOUT = 30.0
SIGN_TIMEOUT = 120.0  # a hardware key waits for a touch or a PIN
MAX_SIGNATURE = 16 * 1024  # armored signatures are well under 2 KiB, even for RSA-4096
_REASON_LIMIT = 200
# Progress chatter and internal traces ("sig_verify: sshsig_armor: ...") that repeat the line before.
_NOISE = re.compile(r"^(?:[a-z_]+: |Signing (?:file|data) |Write signature to )")
_VERDICTS = frozenset({"Could not verify signature.", "No principal matched."})


def ssh_keygen() -> Path:
    """The ssh-keygen binary on PATH, or a ToolchainError that says how to get it."""
    found = shutil.which("ssh-keygen")
    if found is None:
        raise ToolchainError("ssh-keygen was not found; install OpenSSH (e.g. the openssh-client package)")
    return Path(found)


def sign(
    message: bytes,
    key_path: Path,
    *,
    namespace: str = NAMESPACE,
    interactive: bool = False,
    timeout: float = SIGN_TIMEOUT,
) -> str:
    """The armored SSH signature of `message` by the key at `key_path` (private key, or public key held by the agent).

    With `interactive`, ssh-keygen talks to the terminal (passphrase, touch and PIN prompts of `sk-` keys); its error
    reason then appears there instead of in the raised InvalidInput.
    """
    with tempfile.TemporaryDirectory(prefix="datamcp-sign-") as tmp:
        data = Path(tmp) / "message"
        data.write_bytes(message)
        result = _run(
            ["-Y", "sign", "-f", str(key_path), "-n", namespace, str(data)],
            timeout=timeout,
            stdin=None if interactive else subprocess.DEVNULL,
            stderr=None if interactive else subprocess.PIPE,
        )
        signature = data.with_name("message.sig")
        if result.returncode != 0 or not signature.is_file():
            raise InvalidInput(f"could not sign with {key_path}: {_reason(result, 'ssh-keygen failed')}")
        return signature.read_text(encoding="ascii")


def verify(
    message: bytes, signature: str, principal: str, allowed_signers: Path, *, namespace: str = NAMESPACE
) -> None:
    """Succeed only if `signature` over `message` is by a key `allowed_signers` lists for `principal` in `namespace`."""
    with _signature_file(signature) as sig:
        result = _run(
            ["-Y", "verify", "-f", str(allowed_signers), "-I", principal, "-n", namespace, "-s", str(sig)],
            data=message,
        )
    if result.returncode != 0:
        reason = _reason(result, f"the signing key is not listed for {principal!r}")
        raise SignatureInvalid(f"signature does not verify for {principal!r}: {reason}", principal=principal)


def find_principals(signature: str, allowed_signers: Path, *, namespace: str = NAMESPACE) -> list[str]:
    """The principals `allowed_signers` lists for the signature's key ([] when none); this does NOT verify it."""
    with _signature_file(signature) as sig:
        result = _run(["-Y", "find-principals", "-f", str(allowed_signers), "-n", namespace, "-s", str(sig)])
    if result.returncode == 0:
        return [p for line in _text(result.stdout).splitlines() for p in line.strip().split(",") if p]
    if _details(result):
        raise SignatureInvalid(f"cannot check the signature: {_reason(result, '')}")
    return []


@contextmanager
def _signature_file(signature: str) -> Iterator[Path]:
    """A private temporary file holding an armored signature, for ssh-keygen's `-s`."""
    if len(signature) > MAX_SIGNATURE:
        raise SignatureInvalid(f"signature is longer than {MAX_SIGNATURE} characters")
    if not signature.isascii():
        raise SignatureInvalid("signature is not an armored SSH signature (non-ASCII characters)")
    with tempfile.TemporaryDirectory(prefix="datamcp-verify-") as tmp:
        path = Path(tmp) / "message.sig"
        path.write_text(signature, encoding="ascii")
        yield path


def _run(
    args: list[str],
    *,
    data: bytes | None = None,
    timeout: float = VERIFY_TIMEOUT,
    stdin: int | None = None,
    stderr: int | None = subprocess.PIPE,
) -> subprocess.CompletedProcess[bytes]:
    binary = ssh_keygen()
    try:
        return subprocess.run(
            [str(binary), *args],
            input=data,
            stdin=stdin if data is None else None,
            stdout=subprocess.PIPE,
            stderr=stderr,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ToolchainError(f"ssh-keygen -Y {args[1]} did not finish within {timeout:g}s") from exc
    except OSError as exc:
        raise ToolchainError(f"cannot run {binary}: {exc}") from exc


def _reason(result: subprocess.CompletedProcess[bytes], default: str) -> str:
    """ssh-keygen's own word on a failure, kept short: its first informative line, else `default`."""
    detail = _details(result)
    return detail[0][:_REASON_LIMIT] if detail else default


def _details(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    """The informative lines of a failed run (stderr, then stdout), without generic verdicts and noise."""
    lines = [line.strip() for stream in (result.stderr, result.stdout) for line in _text(stream).splitlines()]
    return [line for line in lines if line and line not in _VERDICTS and not _NOISE.match(line)]


def _text(data: bytes | None) -> str:
    return (data or b"").decode("utf-8", errors="replace")
