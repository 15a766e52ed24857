"""Running OPA: the policy pack's digest, `opa eval` on one input document, `opa test` on the pack."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from engine.errors import PolicyError

QUERY = "data.datamcp.main.decision"
TIMEOUT_SECONDS = 60


def pack_files(policies: Path) -> dict[str, bytes]:
    """Every file under the pack's folder by relative path, read once. Symbolic links, FIFOs and devices below it are
    refused: OPA would follow a link the digest cannot see, and evaluation runs on exactly these bytes."""
    if not policies.is_dir():
        raise PolicyError(f"no policy pack at {policies.name}/ (a folder of Rego files)")
    files: dict[str, bytes] = {}
    for folder, dirs, names in os.walk(policies, followlinks=False):
        for name in sorted(dirs + names):
            path = Path(folder) / name
            relative = path.relative_to(policies).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                raise PolicyError(f"the policy pack holds {relative!r}, which is not a plain file or folder")
            if stat.S_ISREG(mode):
                files[relative] = path.read_bytes()
    return dict(sorted(files.items()))


def files_digest(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for relative, content in files.items():
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def bundle_digest(policies: Path) -> str:
    """sha256 over every file's relative path and content: any change in the folder changes it."""
    return files_digest(pack_files(policies))


def evaluate(document: dict[str, Any], policies: Path, opa: Path) -> dict[str, Any]:
    """The pack's decision (`deny`, `require` and `warn` lists) for one input document, from `opa eval`."""
    return evaluate_files(document, pack_files(policies), opa)


def evaluate_files(document: dict[str, Any], files: dict[str, bytes], opa: Path) -> dict[str, Any]:
    """`opa eval` on a private copy of exactly these files, so what is judged is what was hashed."""
    with tempfile.TemporaryDirectory(prefix="datamcp-policy-") as tmp:
        for relative, content in files.items():
            target = Path(tmp, relative)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        command = [str(opa), "eval", "--format", "json", "--stdin-input", "--data", tmp, QUERY]
        try:
            done = subprocess.run(
                command,
                input=json.dumps(document),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PolicyError(f"opa eval could not run: {exc}") from None
    if done.returncode != 0:
        raise PolicyError(f"opa eval failed: {done.stderr.strip()[:2000]}")
    return _decision(json.loads(done.stdout))


def _decision(output: dict[str, Any]) -> dict[str, Any]:
    results = output.get("result") or []
    if not results:
        raise PolicyError(f"the policy pack defines no {QUERY}")
    value = results[0]["expressions"][0]["value"]
    if not isinstance(value, dict):
        raise PolicyError(f"{QUERY} must be an object with deny, require and warn lists")
    return value


def test_pack(policies: Path, opa: Path) -> subprocess.CompletedProcess[str]:
    """`opa test` over the pack and its Rego unit tests (verbose, so every rule's tests are listed)."""
    return subprocess.run(
        [str(opa), "test", "--verbose", str(policies)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )


test_pack.__test__ = False  # type: ignore[attr-defined]  # a function of the engine, not a pytest test


RULE_ID_LITERAL = re.compile(rb'"([A-Z][A-Z0-9]*-[A-Z0-9-]{1,60})"')


def rule_ids(files: dict[str, bytes]) -> set[str]:
    """The rule ids the pack's Rego names (string literals shaped like `DM-S3-001`; tests left out)."""
    found: set[str] = set()
    for relative, content in files.items():
        if relative.endswith(".rego") and not relative.endswith("_test.rego"):
            found.update(m.decode() for m in RULE_ID_LITERAL.findall(content))
    return found
