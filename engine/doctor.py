"""`datamcp doctor`: one check per toolchain piece, so a broken set-up says what is missing and how to fix it."""

from __future__ import annotations

import sqlite3
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel

from engine.settings import Settings
from engine.toolchain import ACTIONLINT_VERSION, HELM_VERSION, PULUMI_VERSION, locate

PYTHON_DISTRIBUTIONS = (
    "pulumi",
    "pulumi-aws",
    "pulumi-gcp",
    "pulumi-kubernetes",
    "fastmcp",
    "boto3",
    "pydantic",
    "pydantic-settings",
)


class Check(BaseModel):
    name: str
    ok: bool
    required: bool = True
    detail: str


class DoctorReport(BaseModel):
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks if c.required)


def _python_deps() -> list[Check]:
    checks = []
    for dist in PYTHON_DISTRIBUTIONS:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            checks.append(Check(name=f"python:{dist}", ok=False, detail="not installed; run `make bootstrap`"))
            continue
        ok = dist != "pulumi" or version == PULUMI_VERSION
        detail = version if ok else f"{version}, but the CLI is {PULUMI_VERSION}: SDK and CLI must match"
        checks.append(Check(name=f"python:{dist}", ok=ok, detail=detail))
    return checks


def _tool(settings: Settings, name: str, want: str, path: str | None, required: bool = True) -> Check:
    tool = locate(settings, name, path)
    if tool.path is None:
        return Check(name=name, ok=False, required=required, detail="not found; run `make bootstrap`")
    if tool.version != want:
        return Check(
            name=name,
            ok=False,
            required=required,
            detail=f"{tool.path} reports {tool.version!r}, want {want}; run `make bootstrap`",
        )
    return Check(name=name, ok=True, required=required, detail=f"{want} at {tool.path}")


def _language_host(settings: Settings, path: str | None) -> Check:
    """Optional: only operators' plain `pulumi preview` of Pulumi.yaml needs it; the engine runs inline programs."""
    tool = locate(settings, "pulumi-language-python", path)
    detail = str(tool.path) if tool.path else "not available (see docs/development.md); inline programs do not need it"
    return Check(name="pulumi-language-python", ok=tool.path is not None, required=False, detail=detail)


def _writable_dir(path: Path) -> str | None:
    """None when `path` exists or can be created and is writable, else the reason."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".datamcp-doctor"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return f"{path} is not writable: {exc.strerror}"
    return None


def _backend(settings: Settings) -> Check:
    url = str(settings.backend_url)
    if settings.backend_path is None:
        return Check(name="backend", ok=True, detail=f"{url} (remote; credentials are checked at first use)")
    problem = _writable_dir(settings.backend_path)
    return Check(name="backend", ok=problem is None, detail=problem or url)


def _audit(settings: Settings) -> Check:
    url = str(settings.audit_url)
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        path = Path(parsed.path)
        problem = _writable_dir(path.parent)
        if problem is None:
            try:
                sqlite3.connect(path).close()
            except sqlite3.Error as exc:
                problem = f"cannot open {path}: {exc}"
        return Check(name="audit", ok=problem is None, detail=problem or url)
    return Check(name="audit", ok=True, detail=f"{url} (remote; credentials are checked at first use)")


def run_checks(settings: Settings, path: str | None = None) -> DoctorReport:
    """Check every piece; `path` replaces $PATH for the tool lookup (the project's tools dir always comes first)."""
    checks = _python_deps()
    checks.append(_tool(settings, "pulumi", PULUMI_VERSION, path))
    checks.append(_tool(settings, "helm", HELM_VERSION, path))
    checks.append(_tool(settings, "actionlint", ACTIONLINT_VERSION, path))
    checks.append(_language_host(settings, path))
    checks.append(_backend(settings))
    checks.append(_audit(settings))
    checks.append(Check(name="secrets", ok=True, detail=settings.secrets_provider))
    checks.append(Check(name="sandbox", ok=True, detail="on (simulated cloud)" if settings.sandbox else "off"))
    return DoctorReport(checks=checks)
