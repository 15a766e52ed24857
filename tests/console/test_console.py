"""The approval console in a real browser (Debian's Chromium through Playwright), logged in through a real OpenID
provider (Ory Hydra), in front of the real engine, CLI and simulated cloud, in signed mode: people review exactly
what they approve, and the console enforces what the engine enforces."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Page

from engine.operations import Engine
from engine.settings import Settings
from engine.trust.server_key import ServerKey
from tests.console.idp import IdentityProvider

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STACK = "gcp-dev"
SHOTS = os.environ.get("DATAMCP_CONSOLE_SCREENSHOTS")  # a folder: the docs' screenshots are made by these tests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Console:
    def __init__(self, url: str, settings: Settings, process: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.settings = settings
        self.process = process

    def engine(self) -> Engine:
        return Engine(self.settings)


@pytest.fixture(scope="module")
def console(idp: IdentityProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """The MCP server with its console, on a loopback port, in signed mode with a server key and a trust list."""
    base = tmp_path_factory.mktemp("console")
    project = base / "project"
    project.mkdir()
    for source in [ROOT / "Pulumi.yaml", *ROOT.glob("Pulumi.*.yaml")]:
        (project / source.name).write_bytes(source.read_bytes())
    for name in ("stacks", "policies"):
        (project / name).symlink_to(ROOT / name)
    people = [{"principal": p, "roles": ["approver", "security"], "environments": ["dev"]} for p in ("alice", "bob")]
    (base / "approvers.yaml").write_text(yaml.safe_dump({"version": 1, "approvers": people}))
    ServerKey.generate(base / "server.key")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    idp.add_redirect_uri(f"{url}/console/auth/callback")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATAMCP_", "PULUMI_"))}
    env |= {
        "DATAMCP_PROJECT_ROOT": str(project),
        "DATAMCP_STATE_DIR": str(base / "state"),
        "DATAMCP_TOOLS_DIR": str(ROOT / ".tools" / "bin"),
        "DATAMCP_SANDBOX": "1",
        "DATAMCP_APPROVAL_MODE": "signed",
        "DATAMCP_APPROVERS_FILE": str(base / "approvers.yaml"),
        "DATAMCP_SERVER_KEY_FILE": str(base / "server.key"),
        "DATAMCP_MCP_TOKENS": json.dumps(
            {"agent-token-0123456789abcdef": {"principal": "otto", "roles": ["operator"]}}
        ),
        "DATAMCP_CONSOLE_OIDC_ISSUER": idp.issuer,
        "DATAMCP_CONSOLE_OIDC_CLIENT_ID": idp.client_id,
        "DATAMCP_CONSOLE_OIDC_CLIENT_SECRET": idp.client_secret,
        "XDG_STATE_HOME": str(base / "xdg"),
    }
    command = [sys.executable, "-m", "mcp_server", "--transport", "http", "--port", str(port)]
    log = (base / "server.log").open("wb")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_healthy(url, process)
        settings = Settings(
            project_root=project,
            state_dir=base / "state",
            tools_dir=ROOT / ".tools" / "bin",
            sandbox=True,
            approval_mode="signed",
            approvers_file=base / "approvers.yaml",
            server_key_file=base / "server.key",  # the engine beside the server checks its signatures
        )
        yield Console(url, settings, process)
    finally:
        process.terminate()
        process.wait(30)
        log.close()


def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the console's server exited at start-up")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 - loopback
                return
        except OSError:
            time.sleep(0.3)
    pytest.fail("the console's server did not start")


def log_in(page: Page, console: Console, idp: IdentityProvider, user: str) -> None:
    page.goto(f"{console.url}/console/previews")
    page.click("text=Log in with your identity provider")
    idp.log_in(page, user)
    page.wait_for_url(f"{console.url}/console/previews")


def shot(page: Page, name: str, full_page: bool = True) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=full_page)


def test_an_approver_reviews_and_approves_and_the_engine_applies(
    console: Console, idp: IdentityProvider, browser_page: Page
) -> None:
    page = browser_page
    engine = console.engine()
    preview = engine.preview(STACK, user="otto")
    log_in(page, console, idp, "bob")
    assert "bob (approver)" in page.inner_text("header")
    row = page.locator("tr", has_text=preview.preview_id[:8])
    assert STACK in row.inner_text() and "otto" in row.inner_text()
    shot(page, "pending")
    row.locator("a").click()
    assert preview.preview_id in page.inner_text("main")
    assert engine.review(preview.preview_id).binding in page.inner_text("main")  # exactly what the approval binds
    assert "DM-RISK-002" in page.inner_text("main")  # the policy's findings, per rule
    shot(page, "preview", full_page=False)
    page.fill("#approve-reason", "the dev cluster as planned")
    page.click("button.approve")
    assert "Approved (approval" in page.inner_text("[role=status]")
    applied = engine.apply_preview(preview.preview_id, user="otto")
    assert applied.applied
    page.goto(f"{console.url}/console/previews/{preview.preview_id}?message=Pre-approved%20by%20security")
    assert "Pre-approved" not in page.inner_text("main")  # a link's text never poses as the console's own notice
    assert "Applied." in page.inner_text("main")
    late = f"{console.url}/console/previews/{preview.preview_id}/approve"
    assert post(page, late, {"reason": "one more, after the fact", "csrf": csrf_of(page)}) == 409
    record = engine.get_operation(applied.operation_id)
    assert record.summary["approvers"] == ["bob"]
    page.goto(f"{console.url}/console/stacks")
    assert "gcp-dev" in page.inner_text("main")
    shot(page, "stacks")
    page.goto(f"{console.url}/console/audit?stack={STACK}")
    assert "Chain: verified" in page.inner_text("main") and "up" in page.inner_text("table")
    shot(page, "audit")


def test_a_rejection_reaches_the_requester(console: Console, idp: IdentityProvider, browser_page: Page) -> None:
    engine = console.engine()
    preview = engine.preview(STACK, user="otto", refresh=True)
    log_in(browser_page, console, idp, "alice")
    browser_page.goto(f"{console.url}/console/previews/{preview.preview_id}")
    browser_page.fill("#reject-reason", "refresh first, then we talk")
    browser_page.click("button.reject")
    assert "Rejected" in browser_page.inner_text("[role=status]")
    said = engine.rejection(preview.preview_id)
    assert said is not None and said["rejected_by"] == "alice" and said["reason"] == "refresh first, then we talk"
    assert engine.approvals.for_preview(preview.preview_id) == []


def post(page: Page, url: str, form: dict[str, Any]) -> int:
    """A form POST from the logged-in browser context (its cookies, the console's Origin)."""
    answer = page.request.post(url, form=form, headers={"Origin": url.split("/console")[0]})
    return answer.status


def csrf_of(page: Page) -> str:
    return str(page.locator("input[name=csrf]").first.get_attribute("value"))


def test_a_post_without_the_csrf_token_is_refused(console: Console, idp: IdentityProvider, browser_page: Page) -> None:
    preview = console.engine().preview(STACK, user="otto")
    log_in(browser_page, console, idp, "bob")
    target = f"{console.url}/console/previews/{preview.preview_id}/approve"
    assert post(browser_page, target, {"reason": "forged by another site"}) == 403
    assert post(browser_page, target, {"reason": "forged by another site", "csrf": "guess"}) == 403
    assert console.engine().approvals.for_preview(preview.preview_id) == []


def test_a_viewer_cannot_approve(console: Console, idp: IdentityProvider, browser_page: Page) -> None:
    preview = console.engine().preview(STACK, user="otto")
    log_in(browser_page, console, idp, "vera")
    browser_page.goto(f"{console.url}/console/previews/{preview.preview_id}")
    assert browser_page.locator("button.approve").count() == 0
    assert "cannot approve" in browser_page.inner_text("main")
    token = csrf_of(browser_page)
    target = f"{console.url}/console/previews/{preview.preview_id}/approve"
    assert post(browser_page, target, {"reason": "let me in", "csrf": token}) == 403
    assert console.engine().approvals.for_preview(preview.preview_id) == []


def test_the_requester_cannot_approve_their_own_preview(
    console: Console, idp: IdentityProvider, browser_page: Page
) -> None:
    preview = console.engine().preview(STACK, user="alice")
    log_in(browser_page, console, idp, "alice")
    browser_page.goto(f"{console.url}/console/previews/{preview.preview_id}")
    browser_page.fill("#approve-reason", "my own change")
    browser_page.click("button.approve")
    assert "cannot approve" in browser_page.inner_text("[role=alert]")
    assert console.engine().approvals.for_preview(preview.preview_id) == []


def test_pages_carry_a_strict_policy_and_no_script(console: Console, idp: IdentityProvider, browser_page: Page) -> None:
    log_in(browser_page, console, idp, "vera")
    answer = browser_page.request.get(f"{console.url}/console/previews")
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "frame-ancestors 'none'" in policy
    assert "<script" not in answer.text()
    cookie = next(c for c in browser_page.context.cookies() if c["name"] == "datamcp_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["path"] == "/console"
