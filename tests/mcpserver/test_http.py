"""The HTTP edge, attacked through real requests against the running server: forged Host and Origin headers, bodies
past the limit (chunked, or with a Content-Length that lies), JWTs that never expire or are not valid yet, bursts of
CLI-spawning calls, long bad input, and viewers calling changing tools."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx2 as httpx
import pytest
from fastmcp import Client, FastMCP
from fastmcp.client.auth import BearerAuth

from engine.mcpserver.http import asgi_app
from engine.mcpserver.settings import McpSettings
from engine.settings import Settings

pytestmark = pytest.mark.slow
VIEWER = "viewer-token-0123456789"
TOKENS = {VIEWER: {"principal": "vera", "roles": ["viewer"]}}
LIMIT = 20_000  # the servers' DATAMCP_MCP_MAX_REQUEST_BYTES here
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
LONG = "Q" * 10_000  # a caller's long bad input; "Q" appears nowhere else in answers or logs


def headers(token: str = VIEWER, **extra: str) -> dict[str, str]:
    return {**MCP_HEADERS, "Authorization": f"Bearer {token}", **extra}


def echoed_run(text: str) -> int:
    """The longest run of the long input repeated in an answer."""
    return max((len(m) for m in re.findall("Q+", text)), default=0)


def echoed_in_log(log: str) -> int:
    """How much of long inputs a log repeats (its formatter wraps lines, so count, not runs)."""
    return log.count("Q")


@pytest.fixture
def server(sandbox_settings: Settings, start_server: Callable[..., Any]) -> Any:
    """A server with a viewer token and a 20,000-byte body limit, on the default Host/Origin allowlist."""
    return start_server(
        sandbox_settings, DATAMCP_MCP_TOKENS=json.dumps(TOKENS), DATAMCP_MCP_MAX_REQUEST_BYTES=str(LIMIT)
    )


# --- Host and Origin ----------------------------------------------------------------------------------------------


def test_a_host_name_that_is_not_ours_gets_403(server: Any) -> None:
    def status(host: str) -> int:
        return httpx.post(server.url + "/mcp", json=INITIALIZE, headers=headers(Host=host)).status_code

    assert status(f"evil.example:{server.port}") == 403  # a DNS-rebinding name pointed at 127.0.0.1
    assert status("127.0.0.1:1") == 403  # another port
    assert status(f"127.0.0.1:{server.port}") == 200
    assert status(f"LOCALHOST:{server.port}") == 200
    probe = httpx.get(server.url + "/healthz", headers={"Host": "10.1.2.3:8000"})
    assert probe.status_code == 200  # probes use the pod's address; the health route reads nothing


def test_a_browser_origin_that_is_not_ours_gets_403(server: Any) -> None:
    def status(**origin: str) -> int:
        return httpx.post(server.url + "/mcp", json=INITIALIZE, headers=headers(**origin)).status_code

    assert status(Origin="http://evil.example") == 403
    assert status(Origin="null") == 403  # sandboxed frames and file:// pages
    assert status(Origin=f"http://evil.example:{server.port}") == 403
    assert status(Origin=f"http://localhost:{server.port}") == 200
    assert status() == 200  # no Origin: not a browser


def test_the_host_check_comes_before_auth(server: Any) -> None:
    unauthenticated = httpx.post(server.url + "/mcp", json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"})
    assert unauthenticated.status_code == 403
    assert unauthenticated.json()["message"].startswith("Host 'evil.example' is not served here")


# --- the body limit -------------------------------------------------------------------------------------------------


def chunked(size: int) -> Iterator[bytes]:
    """A JSON-RPC body of about `size` bytes, sent without a Content-Length (httpx sends a generator chunked)."""
    body = json.dumps({**INITIALIZE, "params": {**INITIALIZE["params"], "padding": "x" * size}}).encode()  # type: ignore[dict-item]
    for start in range(0, len(body), 4096):
        yield body[start : start + 4096]


def test_a_chunked_body_past_the_limit_gets_413(server: Any) -> None:
    assert httpx.post(server.url + "/mcp", content=chunked(200_000), headers=headers()).status_code == 413
    assert httpx.post(server.url + "/mcp", content=chunked(1_000), headers=headers()).status_code == 200


def raw_post(port: int, head: dict[str, str], chunks: list[bytes]) -> bytes:
    """Send a request by hand (raw chunks, any header) and return the response's status line."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        lines = ["POST /mcp HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in head.items())]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        try:
            for chunk in chunks:
                sock.sendall(chunk)
        except OSError:
            pass  # the server may answer and close before it has read everything
        return sock.recv(200).split(b"\r\n")[0]


def test_raw_chunked_and_oversized_declared_bodies_get_413(server: Any) -> None:
    head = {**headers(), "Transfer-Encoding": "chunked"}
    frames = [b"%x\r\n%s\r\n" % (8192, b"x" * 8192) for _ in range(25)] + [b"0\r\n\r\n"]
    assert raw_post(server.port, head, frames) == b"HTTP/1.1 413 Request Entity Too Large"
    declared = {**headers(), "Content-Length": str(LIMIT * 10)}
    assert raw_post(server.port, declared, [b"{}"]) == b"HTTP/1.1 413 Request Entity Too Large"


def test_the_limit_counts_the_bytes_that_arrive_not_the_content_length() -> None:
    """Behind a proxy that forwards a Content-Length it did not check, the app still counts: 10 declared, 3 x 800
    received, the limit 1024."""
    app = asgi_app(FastMCP("probe"), McpSettings(max_request_bytes=1024))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"content-length", b"10"), (b"content-type", b"application/json")],
    }
    parts = [{"type": "http.request", "body": b"x" * 800, "more_body": i < 2} for i in range(3)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return parts.pop(0) if parts else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    assert sent[0]["type"] == "http.response.start" and sent[0]["status"] == 413


# --- JWTs ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def jwt_server(sandbox_settings: Settings, start_server: Callable[..., Any], jwt_issuer: Any) -> Any:
    return start_server(sandbox_settings, **jwt_issuer.env())


def test_jwts_that_never_expire_or_are_not_valid_yet_get_401(jwt_server: Any, jwt_issuer: Any) -> None:
    def status(**claims: Any) -> int:
        token = jwt_issuer.token(datamcp_roles=["viewer"], **claims)
        return httpx.post(jwt_server.url + "/mcp", json=INITIALIZE, headers=headers(token)).status_code

    hour_ahead = int(time.time()) + 3600
    assert status() == 200
    assert status(exp=None) == 401
    assert status(nbf=hour_ahead) == 401
    assert status(iat=hour_ahead) == 401
    assert status(sub="not a name;" + LONG) == 401
    jwt_server.stop()
    log = jwt_server.log()
    assert "Traceback" not in log and echoed_in_log(log) <= 1000  # at most ~100 characters of each


def test_refused_calls_of_changing_tools_are_logged_as_warnings(jwt_server: Any, jwt_issuer: Any) -> None:
    async def call(token: str, tool: str, args: dict[str, Any]) -> str:
        async with Client(jwt_server.url + "/mcp", auth=BearerAuth(token)) as client:
            result = await client.call_tool(tool, args, raise_on_error=False)
            return str(result.content[0].text)

    viewer = jwt_issuer.token(sub="vera@example", datamcp_roles=["viewer"])
    nobody = jwt_issuer.token(sub="nora@example", datamcp_roles=["superuser"])
    assert asyncio.run(call(viewer, "apply", {"preview_id": "abcdefgh-1234"})).startswith("unknown tool 'apply'")
    refused = asyncio.run(call(nobody, "request_apply", {"preview_id": "abcdefgh-1234", "reason": "please"}))
    assert refused.startswith("unknown tool 'request_apply'")
    jwt_server.stop()
    log = jwt_server.log()
    assert "refused: vera@example (viewer) called apply, which needs the operator role" in log
    assert "refused: a token for 'nora@example' with no known role called request_apply" in log
    assert "Traceback" not in log


# --- CLI-spawning calls ---------------------------------------------------------------------------------------------


def test_a_burst_of_drift_checks_and_synths_is_not_all_served(
    sandbox_settings: Settings, start_server: Callable[..., Any]
) -> None:
    server = start_server(
        sandbox_settings,
        DATAMCP_MCP_TOKENS=json.dumps(TOKENS),
        DATAMCP_MCP_RATE_LIMIT_PER_MINUTE="1",
        DATAMCP_MCP_READ_RATE_LIMIT_PER_MINUTE="1",
    )

    async def burst() -> list[tuple[str, bool, str]]:
        async with Client(server.url + "/mcp", auth=BearerAuth(VIEWER), timeout=180) as client:
            calls = [("check_drift", {"stack": "gcp-dev"})] * 30 + [("synth", {"stack": "gcp-dev", "limit": 1})] * 30
            results = await asyncio.gather(*(client.call_tool(t, a, raise_on_error=False) for t, a in calls))
            return [(t, r.is_error, str(r.content[0].text)) for (t, _), r in zip(calls, results, strict=True)]

    results = asyncio.run(burst())
    served = [tool for tool, failed, _ in results if not failed]
    refusals = [text for _, failed, text in results if failed]
    assert served.count("check_drift") <= 1 and served.count("synth") <= 1
    assert all(re.match(r"^(rate limit|busy): .*retry in \d+ s$", text) for text in refusals), refusals[:3]
    assert sum(text.startswith("rate limit: at most 1 previews") for text in refusals) >= 29
    assert sum(text.startswith("rate limit: at most 1 synths") for text in refusals) >= 29


# --- echoes and logs ------------------------------------------------------------------------------------------------


def raw_method_error(url: str, method: str) -> str:
    """Open a session by hand and call a JSON-RPC method no MCP client would send; the answer's text."""
    opened = httpx.post(url + "/mcp", json=INITIALIZE, headers=headers())
    session = headers(**{"Mcp-Session-Id": opened.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-06-18"})
    httpx.post(url + "/mcp", json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session)
    answer = httpx.post(url + "/mcp", json={"jsonrpc": "2.0", "id": 2, "method": method}, headers=session)
    assert '"code":-32601' in answer.text  # method not found
    return answer.text


def test_long_bad_input_comes_back_short_and_client_errors_log_no_traceback(server: Any) -> None:
    async def attempts() -> list[str]:
        errors = []
        async with Client(server.url + "/mcp", auth=BearerAuth(VIEWER)) as client:
            for tool, args in (("describe_stack", {"stack": LONG}), (LONG, {}), ("list_stacks", {LONG: 1})):
                errors.append(str((await client.call_tool(tool, args, raise_on_error=False)).content[0].text))
            for read in (
                lambda: client.read_resource(f"stack://{LONG}/outputs"),
                lambda: client.read_resource("stack://Not_A_Stack/outputs"),
                lambda: client.get_prompt("review_preview", {"preview_id": LONG}),
            ):
                try:
                    await read()
                except Exception as exc:
                    errors.append(str(exc))
        return errors

    errors = asyncio.run(attempts())
    errors.append(raw_method_error(server.url, LONG))
    assert len(errors) == 7
    for error in errors:
        assert echoed_run(error) <= 100 and len(error) < 600, error[:300]
    server.stop()
    log = server.log()
    assert "Traceback" not in log and echoed_in_log(log) <= 1000  # at most ~100 characters of each
