"""A shared deployment, end to end: the server runs under its own OS user and holds the server key and the state; an
agent with an operator token, a shell as another OS user, read access to the checkout and write access to the
approval store cannot get a change applied, until a person whose SSH key is in the trust list approves.

Users are plain numeric ids (no accounts are created); `setpriv` drops root's privileges for each process.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from engine.sandbox.inventory import Inventory
from engine.trust.server_key import ServerKey

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
SERVER, AGENT, BOB = 43901, 43902, 43903
# The venv's interpreter lives under /root, which other users cannot enter: run the same packages with Debian's.
PYTHON = Path("/usr/bin/python3.11")
TOKEN = "agent-operator-token-0123456789abcdef"


@dataclass
class Deployment:
    base: Path
    url: str
    env: dict[str, str]

    def as_user(self, uid: int, args: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
        home = self.base / f"home-{uid}"
        env = {**self.env, "HOME": str(home), **extra}
        command = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=self.base)


def own(path: Path, uid: int, mode: int) -> Path:
    os.chown(path, uid, uid)
    path.chmod(mode)
    return path


def keygen(path: Path, uid: int) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)
    own(path, uid, 0o600)
    own(path.with_name(path.name + ".pub"), uid, 0o644)
    return path.with_name(path.name + ".pub").read_text().strip()


@contextmanager
def accounts() -> Iterator[None]:
    """Passwd entries for the three users (ssh-keygen refuses to sign for a uid without one); removed afterwards."""
    made = []
    for uid, name in ((SERVER, "datamcp-e2e-server"), (AGENT, "datamcp-e2e-agent"), (BOB, "datamcp-e2e-bob")):
        if subprocess.run(["getent", "passwd", str(uid)], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-u", str(uid), "-M", "-N", "-s", "/usr/sbin/nologin", name], check=True)
            made.append(name)
    try:
        yield
    finally:
        for name in made:
            subprocess.run(["userdel", name], check=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def layout(base: Path) -> dict[str, str]:
    """Homes, the checkout's stack files, the trust list, the state dir and the server key, each with its owner."""
    for uid in (SERVER, AGENT, BOB):
        home = own(_mkdir(base / f"home-{uid}"), uid, 0o700)
        own(_mkdir(home / ".ssh"), uid, 0o700)
    project = base / "project"
    project.mkdir()
    for source in [ROOT / "Pulumi.yaml", *ROOT.glob("Pulumi.*.yaml")]:
        shutil.copy(source, project / source.name)
    (project / "stacks").symlink_to(ROOT / "stacks")
    (project / "policies").symlink_to(ROOT / "policies")
    bob_key = keygen(base / f"home-{BOB}" / ".ssh" / "id_ed25519", BOB)
    keygen(base / f"home-{AGENT}" / ".ssh" / "id_ed25519", AGENT)
    bob = {"principal": "bob", "roles": ["approver", "security"], "environments": ["dev"], "keys": [bob_key]}
    trust = {"version": 1, "approvers": [bob]}
    (base / "approvers.yaml").write_text(yaml.safe_dump(trust))
    state = own(_mkdir(base / "state"), SERVER, 0o711)
    for store in ("previews", "approvals"):
        own(_mkdir(state / store), SERVER, 0o1777)  # agents may add anything here (not replace the server's files)
    keys = own(_mkdir(base / "server"), SERVER, 0o700)
    ServerKey.generate(keys / "ed25519.key")
    own(keys / "ed25519.key", SERVER, 0o600)
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": f"{ROOT}:{ROOT / '.venv' / 'lib' / 'python3.11' / 'site-packages'}",
        "DATAMCP_PROJECT_ROOT": str(project),
        "DATAMCP_STATE_DIR": str(state),
        "DATAMCP_TOOLS_DIR": str(ROOT / ".tools" / "bin"),
        "DATAMCP_SANDBOX": "1",
        "DATAMCP_APPROVAL_MODE": "signed",
        "DATAMCP_APPROVERS_FILE": str(base / "approvers.yaml"),
    }


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def wait_healthy(url: str, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the server exited: {server.stderr.read() if server.stderr else ''}")
        try:
            with urllib.request.urlopen(url.replace("/mcp", "/healthz"), timeout=2) as reply:  # noqa: S310
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail("the server did not answer /healthz within 60 s")


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    if not PYTHON.exists() or not all(shutil.which(tool) for tool in ("setpriv", "useradd", "ssh-keygen")):
        pytest.fail(f"this test needs {PYTHON} (Debian's python3.11), setpriv, useradd and ssh-keygen")
    with accounts(), traversable(ROOT):
        yield from _deployment()


@contextmanager
def traversable(path: Path) -> Iterator[None]:
    """The other users must reach the checkout (its code, venv and tools are world-readable); a clone below a
    private folder such as /root gets search-only permission on that folder for the test, restored afterwards."""
    changed = []
    for folder in reversed(path.resolve().parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append((folder, stat.S_IMODE(mode)))
    try:
        yield
    finally:
        for folder, mode in changed:
            folder.chmod(mode)


def _deployment() -> Iterator[Deployment]:
    base = Path(tempfile.mkdtemp(prefix="datamcp-shared-", dir="/tmp"))
    base.chmod(0o755)
    env = layout(base)
    port = free_port()
    server_env = {
        **env,
        "HOME": str(base / f"home-{SERVER}"),
        "DATAMCP_DEFAULT_USER": "datamcp-server",
        "DATAMCP_SERVER_KEY_FILE": str(base / "server" / "ed25519.key"),
        "DATAMCP_MCP_TOKENS": json.dumps({TOKEN: {"principal": "agent", "roles": ["operator"]}}),
    }
    command = ["setpriv", f"--reuid={SERVER}", f"--regid={SERVER}", "--clear-groups", str(PYTHON), "-m", "mcp_server"]
    server = subprocess.Popen(
        [*command, "--transport", "http", "--port", str(port)],
        env=server_env,
        cwd=base,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        wait_healthy(url, server)
        yield Deployment(base, url, env)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(base, ignore_errors=True)


AGENT_SCRIPT = """
import asyncio, hashlib, hmac, json, os, subprocess, sys
from pathlib import Path
from fastmcp import Client
from fastmcp.client.auth import BearerAuth
from engine.approvals import Approval, Method
from engine.previews import PreviewRecord
from engine.trust.proofs import SshSigner, signed

url, token, step = sys.argv[1], sys.argv[2], sys.argv[3]
state = Path(os.environ["DATAMCP_STATE_DIR"])
out = {}

async def call(client, tool, args):
    try:
        return {"ok": (await client.call_tool(tool, args)).structured_content}
    except Exception as exc:
        return {"error": str(exc)}

def replace(path, text):
    # the store's folder is writable: a file of the server's is swapped for one of ours
    tmp = path.with_name(path.name + ".agent")
    tmp.write_text(text)
    os.replace(tmp, path)

def forge(preview_id, method, approver, sign):
    record = PreviewRecord.model_validate_json((state / "previews" / f"{preview_id}.json").read_text())
    draft = Approval(preview_id=preview_id, kind=record.kind, stack=record.stack, binding=record.binding(),
                     approver=approver, requested_by=record.user, expires_epoch=record.expires_epoch, method=method)
    approval = sign(draft)
    (state / "approvals" / f"{approval.approval_id}.json").write_text(approval.model_dump_json())

async def attacks(client):
    preview = await call(client, "preview", {"stack": "gcp-dev"})
    if "ok" not in preview:
        sys.exit(f"the preview failed: {preview}")
    pid = preview["ok"]["preview_id"]
    out["preview_id"] = pid
    out["apply_unapproved"] = await call(client, "apply", {"preview_id": pid})
    for name, path in (("server_key", os.environ["SERVER_KEY_FILE"]),
                       ("state", str(state / "backend" / ".pulumi" / "stacks" / "datamcp" / "gcp-dev.json"))):
        try:
            Path(path).read_bytes()
            out[name] = "read"
        except OSError as exc:
            out[name] = type(exc).__name__
    def dev(draft):
        draft = draft.model_copy(update={"method": Method.DEV})
        return draft.model_copy(update={"signature": hmac.new(b"guess", draft.payload(), hashlib.sha256).hexdigest()})
    forge(pid, Method.DEV, "bob", dev)
    forge(pid, Method.SSH, "bob", lambda d: signed(d, SshSigner(Path.home() / ".ssh" / "id_ed25519")))
    path = state / "previews" / f"{pid}.json"
    record = json.loads(path.read_text())
    try:
        replace(path, json.dumps(record | {"user": "someone-else"}))
        out["replace_preview"] = "replaced"
    except OSError as exc:
        out["replace_preview"] = type(exc).__name__
    home = Path.home()
    own = {"DATAMCP_AUDIT_URL": f"sqlite:///{home}/audit.db", "DATAMCP_NOTARY_KEY_FILE": f"{home}/notary.key"}
    cli = subprocess.run([sys.executable, "-m", "engine.cli", "approve", pid, "--approver", "bob", "--yes"],
                         capture_output=True, text=True, env={**os.environ, **own})
    out["cli_approve"] = {"code": cli.returncode, "err": cli.stderr[-300:]}
    out["apply_forged"] = await call(client, "apply", {"preview_id": pid})

async def main():
    async with Client(url, auth=BearerAuth(token)) as client:
        if step == "attack":
            await attacks(client)
        else:
            out["apply"] = await call(client, "apply", {"preview_id": step})
    print(json.dumps(out))

asyncio.run(main())
"""


def run_agent(d: Deployment, step: str) -> dict[str, object]:
    script = d.base / "agent.py"
    script.write_text(AGENT_SCRIPT)
    key = str(d.base / "server" / "ed25519.key")
    done = d.as_user(AGENT, [str(PYTHON), str(script), d.url, TOKEN, step], SERVER_KEY_FILE=key)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_an_agent_with_a_shell_cannot_release_a_change_but_a_proven_approver_can(deployment: Deployment) -> None:
    d = deployment
    tried = run_agent(d, "attack")
    assert "approval" in str(tried["apply_unapproved"]["error"])  # type: ignore[index]
    assert tried["server_key"] == "PermissionError" and tried["state"] == "PermissionError"
    assert tried["replace_preview"] == "PermissionError"  # the store is sticky: the server's files stay its own
    assert tried["cli_approve"]["code"] == 4 and "must be signed" in tried["cli_approve"]["err"]  # type: ignore[index]
    assert "approval" in str(tried["apply_forged"]["error"])  # type: ignore[index]
    assert Inventory(d.base / "state" / "sandbox").list("datamcp", "gcp-dev") == []  # nothing reached the cloud

    key = d.base / f"home-{BOB}" / ".ssh" / "id_ed25519"
    home = d.base / f"home-{BOB}"
    own = {"DATAMCP_AUDIT_URL": f"sqlite:///{home / 'audit.db'}", "DATAMCP_NOTARY_KEY_FILE": str(home / "notary.key")}
    pid = str(tried["preview_id"])
    approve = [str(PYTHON), "-m", "engine.cli", "approve", pid, "--key", str(key), "--yes"]
    approved = d.as_user(BOB, approve, **own)
    assert approved.returncode == 0, approved.stderr[-2000:]
    applied = run_agent(d, pid)["apply"]
    assert applied["ok"]["applied"] is True  # type: ignore[index]
    assert Inventory(d.base / "state" / "sandbox").list("datamcp", "gcp-dev")
