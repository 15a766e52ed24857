"""Fixtures of the console's browser tests: a real OpenID provider (Hydra) and a real browser (Debian's Chromium)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator

import pytest
from playwright.sync_api import Browser, Error, Page, sync_playwright

from tests.console.idp import HarnessError, IdentityProvider, running_identity_provider

# Playwright's waits, in milliseconds: generous for a loaded 2-core machine, short enough to fail a hung page fast.
BROWSER_TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    """Hydra on free loopback ports with the test users (tests.console.idp.TEST_USERS) and one confidential client
    (`idp.client_id`, `idp.client_secret`; add the test's callback with `idp.add_redirect_uri(url)`).

    One per test module: users, clients and redirect URIs a test adds stay for the module's later tests."""
    try:
        with running_identity_provider() as provider:
            yield provider
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


def chromium_executable() -> str:
    """Debian's Chromium; Playwright's own browser builds are never downloaded."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium was not found on PATH: the browser tests drive Debian's chromium "
            "(`apt-get install chromium chromium-driver`; .ci/run installs them)",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per test module (each test gets its own context from `browser_page`)."""
    executable = chromium_executable()
    # Chromium's sandbox refuses to start as root (containers, CI); an unprivileged user keeps it.
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(chromium: Browser) -> Iterator[Page]:
    """A page in a fresh browser context: no cookies or storage from another test."""
    context = chromium.new_context()
    context.set_default_timeout(BROWSER_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """When a browser test fails, its report shows where the page was and what it said, and saves a screenshot."""
    report = yield
    page = getattr(item, "funcargs", {}).get("browser_page")
    if report.when == "call" and report.failed and isinstance(page, Page):
        try:
            shot = item.config._tmp_path_factory.mktemp("screenshots") / f"{item.name}.png"  # type: ignore[attr-defined]
            page.screenshot(path=shot, full_page=True)
            text = page.inner_text("body", timeout=2_000)[:2_000]
            report.sections.append(("browser page", f"url: {page.url}\nscreenshot: {shot}\n\n{text}"))
        except Error as exc:
            report.sections.append(("browser page", f"url: {page.url} (no snapshot: {exc.message})"))
    return report
