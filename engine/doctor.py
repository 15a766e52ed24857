"""`datamcp doctor`: one check per toolchain piece, so a broken set-up says what is missing and how to fix it."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import urlparse

from pydantic import BaseModel

from engine.bytecode import is_private, private_prefix
from engine.errors import DataMcpError
from engine.settings import Settings
from engine.toolchain import (
    ACTIONLINT_VERSION,
    ETCD_VERSION,
    HELM_VERSION,
    HYDRA_VERSION,
    KUBERNETES_VERSION,
    OPA_VERSION,
    PULUMI_KUBERNETES_VERSION,
    PULUMI_VERSION,
    locate,
)
from engine.trust.approvers import TrustList
from engine.trust.server_key import ServerKey

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

# What `make bootstrap` compiles into the private bytecode cache; when these are current there, the rest is too.
WARM_MODULES = ("pulumi", "pulumi.automation", "pulumi_aws", "pulumi_gcp", "pulumi_kubernetes", "stacks.registry")


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


def _audit(settings: Settings, fix: bool) -> Check:
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
    if parsed.scheme in ("postgresql", "postgres"):
        return postgres_check("audit", url, fix)
    return Check(name="audit", ok=True, detail=f"{url} (remote; credentials are checked at first use)")


def postgres_check(name: str, url: str, fix: bool) -> Check:
    """Reach the database and compare its schema with this DataMCP's; `fix` applies the missing migrations (which
    servers also apply when they start)."""
    from engine.pgstore.database import Database, shown
    from engine.pgstore.schema import VERSION

    try:
        db = Database(url, pool_size=1, migrated=fix)
        try:
            version = db.version()
        finally:
            db.close()
    except DataMcpError as exc:
        return Check(name=name, ok=False, detail=f"{shown(url)}: {exc.message}")
    if version != VERSION:
        need = f"schema version {version}, this DataMCP needs {VERSION}"
        advice = "run `datamcp doctor --fix` (servers migrate when they start)" if version < VERSION else "upgrade"
        return Check(name=name, ok=False, detail=f"{shown(url)}: {need}: {advice}")
    return Check(name=name, ok=True, detail=f"{shown(url)} (schema version {VERSION})")


def _store(settings: Settings, fix: bool) -> Check:
    if not settings.store_url:
        return Check(name="store", ok=True, detail=f"files under {settings.state_dir} (one host)")
    check = postgres_check("store", settings.store_url, fix)
    return check.model_copy(update={"detail": check.detail + (" shared by every host" if check.ok else "")})


def module_source(module: str) -> Path | None:
    """The source file of a module, found without importing it (only a dotted name's top package is looked up)."""
    top, *rest = module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        return None
    if not rest:
        return Path(spec.origin)
    base = Path(spec.origin).parent.joinpath(*rest)
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def _compiled(source: Path) -> bool:
    """The cache holds current bytecode of `source` (this Python's magic number, the source's mtime and size)."""
    try:
        with open(importlib.util.cache_from_source(str(source)), "rb") as pyc:
            header = pyc.read(16)
        info = source.stat()
    except (OSError, ValueError):
        return False
    fields = [int.from_bytes(header[i : i + 4], "little") for i in (4, 8, 12)] if len(header) == 16 else []
    return header[:4] == importlib.util.MAGIC_NUMBER and fields == [
        0,  # a timestamp-based pyc
        int(info.st_mtime) & 0xFFFFFFFF,
        info.st_size & 0xFFFFFFFF,
    ]


def bytecode_check() -> Check:
    """Bytecode comes from a cache only this OS user can write (else the engine would trust the checkout's), and
    `make bootstrap` warmed it (else every process compiles the cloud SDKs from source: seconds per start)."""
    prefix = private_prefix()
    if not is_private(prefix) or sys.pycache_prefix != str(prefix):
        return Check(
            name="bytecode",
            ok=False,
            detail=f"{prefix} is not private to this user (another owner, or group/world-writable), so it is not "
            "used: fix its owner and mode (chmod 700) or remove it, then run `make bootstrap`",
        )
    cold = [name for name in WARM_MODULES if (source := module_source(name)) is None or not _compiled(source)]
    if cold:
        return Check(
            name="bytecode",
            ok=False,
            required=False,
            detail=f"{prefix} is private but cold (no current bytecode of {', '.join(cold)}): each process compiles "
            "them from source; run `make bootstrap`",
        )
    return Check(name="bytecode", ok=True, detail=f"{prefix} (private, warm)")


def approvals_check(settings: Settings) -> Check:
    """Dev mode says plainly that it is no trust boundary; signed mode needs a trust list that parses."""
    if settings.approval_mode == "dev":
        detail = "dev mode: the checkout's own key signs approvals; NOT a trust boundary (docs/security.md)"
        return Check(name="approvals", ok=True, detail=detail)
    try:
        trust = TrustList.load(settings.approvers_file)
    except DataMcpError as exc:
        return Check(name="approvals", ok=False, detail=f"signed mode, but the trust list: {exc.message}")
    people = ", ".join(a.principal for a in trust.approvers) or "nobody yet"
    return Check(name="approvals", ok=True, detail=f"signed mode: {settings.approvers_file.name} lists {people}")


def server_key_check(settings: Settings) -> Check:
    """The server key signs audit checkpoints and server-issued approvals; only the server may read it."""
    try:
        secret = settings.server_key.get_secret_value() if settings.server_key is not None else None
        key = ServerKey.configured(secret, settings.server_key_file)
    except DataMcpError as exc:
        return Check(name="server-key", ok=False, detail=exc.message)
    if key is None:
        detail = "none: audit checkpoints use the state dir's own key (dev); set DATAMCP_SERVER_KEY_FILE on a server"
        return Check(name="server-key", ok=settings.approval_mode == "dev", required=False, detail=detail)
    return Check(name="server-key", ok=True, detail=f"{key.verifier().key_id} (private to this user)")


def run_checks(settings: Settings, path: str | None = None, *, fix: bool = False) -> DoctorReport:
    """Check every piece; `path` replaces $PATH for the tool lookup (the project's tools dir always comes first);
    `fix` brings the databases' schema up to date."""
    checks = _python_deps()
    checks.append(_tool(settings, "pulumi", PULUMI_VERSION, path))
    # helm (the chart's tests) and actionlint (the workflows' lint) are development and CI tools: the engine never
    # runs them, so a server (the container image) is complete without them.
    checks.append(_tool(settings, "helm", HELM_VERSION, path, required=False))
    checks.append(_tool(settings, "actionlint", ACTIONLINT_VERSION, path, required=False))
    checks.append(_tool(settings, "opa", OPA_VERSION, path))
    # Only the console's browser tests run hydra (their OpenID provider): a server without it is complete.
    checks.append(_tool(settings, "hydra", HYDRA_VERSION, path, required=False))
    # The tests' Kubernetes control plane and Pulumi's real Kubernetes provider (a stack on a real cluster uses it):
    # the default stacks run without them.
    checks.append(_tool(settings, "etcd", ETCD_VERSION, path, required=False))
    checks.append(_tool(settings, "kube-apiserver", KUBERNETES_VERSION, path, required=False))
    checks.append(_tool(settings, "kube-controller-manager", KUBERNETES_VERSION, path, required=False))
    checks.append(_tool(settings, "pulumi-resource-kubernetes", PULUMI_KUBERNETES_VERSION, path, required=False))
    checks.append(_language_host(settings, path))
    checks.append(_backend(settings))
    checks.append(_store(settings, fix))
    checks.append(_audit(settings, fix))
    checks.append(bytecode_check())
    checks.append(approvals_check(settings))
    checks.append(server_key_check(settings))
    checks.append(Check(name="audit-anchor", ok=True, detail=settings.audit_anchor_url))
    checks.append(Check(name="secrets", ok=True, detail=settings.secrets_provider))
    checks.append(Check(name="sandbox", ok=True, detail="on (simulated cloud)" if settings.sandbox else "off"))
    return DoctorReport(checks=checks)
