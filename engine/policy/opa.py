"""Running OPA: the policy pack's digest, `opa eval` on one input document, `opa test` on the pack."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from engine.errors import PolicyError

QUERY = "data.datamcp.main.decision"
TIMEOUT_SECONDS = 60


def pack_files(policies: Path) -> list[Path]:
    """Every file under the pack's folder, sorted: `opa eval --data` loads Rego (tests too) and data files of
    several kinds, so the digest leaves nothing out that could change a decision."""
    if not policies.is_dir():
        raise PolicyError(f"no policy pack at {policies.name}/ (a folder of Rego files)")
    return sorted(p for p in policies.rglob("*") if p.is_file())


def bundle_digest(policies: Path) -> str:
    """sha256 over every file's relative path and content: any change in the folder changes it."""
    digest = hashlib.sha256()
    for path in pack_files(policies):
        digest.update(path.relative_to(policies).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def evaluate(document: dict[str, Any], policies: Path, opa: Path) -> dict[str, Any]:
    """The pack's decision (`deny`, `require` and `warn` lists) for one input document, from `opa eval`."""
    pack_files(policies)
    command = [str(opa), "eval", "--format", "json", "--stdin-input", "--data", str(policies), QUERY]
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
