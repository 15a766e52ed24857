"""Fixtures for the MCP server's tests: real server processes on loopback, and a JWT issuer with a loopback JWKS."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import httpx2 as httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from engine.settings import Settings, default_project_root

ROOT = default_project_root()
START_SECONDS = 90  # a cold start imports the stacks and providers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {seconds} s")
        time.sleep(0.1)


@dataclass
class RunningServer:
    """A `datamcp-mcp --transport http` process on 127.0.0.1; its stdout and stderr go to `log_file`."""

    proc: subprocess.Popen[bytes]
    port: int
    log_file: Path
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.url = f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            return httpx.get(self.url + "/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)

    def log(self) -> str:
        """What the server wrote so far (call `stop` first to have all of it)."""
        return self.log_file.read_text(errors="replace")


@pytest.fixture
def server_env() -> Callable[..., dict[str, str]]:
    """The environment of a server process on a settings' project and state, plus `extra` variables."""

    def env(settings: Settings, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATAMCP_PROJECT_ROOT": str(settings.project_root),
            "DATAMCP_STATE_DIR": str(settings.state_dir),
            "DATAMCP_TOOLS_DIR": str(settings.tools_dir),
            "DATAMCP_SANDBOX": "1" if settings.sandbox else "0",
            **extra,
        }

    return env


@pytest.fixture
def start_server(tmp_path: Path, server_env: Callable[..., dict[str, str]]) -> Iterator[Callable[..., RunningServer]]:
    """Start HTTP servers on free loopback ports: `start_server(settings, *flags, **env)`; every one is stopped
    after the test, also when it failed."""
    servers: list[RunningServer] = []

    def start(settings: Settings, *flags: str, **env: str) -> RunningServer:
        port = free_port()
        log_file = tmp_path / f"server-{port}.log"
        with log_file.open("wb") as out:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mcp_server",
                    "--transport",
                    "http",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    *flags,
                ],
                env=server_env(settings, **env),
                cwd=str(ROOT),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        server = RunningServer(proc, port, log_file)
        servers.append(server)
        wait_until(lambda: server.healthy() or proc.poll() is not None, START_SECONDS, "the server answered /healthz")
        assert proc.poll() is None, server.log()
        return server

    yield start
    for server in servers:
        server.stop()


@dataclass
class JwtIssuer:
    """Signs tokens with a key whose public half a loopback JWKS serves."""

    jwks_uri: str
    key: rsa.RSAPrivateKey
    issuer: str = "https://issuer.example"
    audience: str = "datamcp"

    def token(self, **claims: Any) -> str:
        """A token for otto@example, valid for five minutes, with `claims` added (None removes a claim)."""
        now = int(time.time())
        body = {"iss": self.issuer, "aud": self.audience, "sub": "otto@example", "iat": now, "exp": now + 300}
        body = {k: v for k, v in {**body, **claims}.items() if v is not None}
        return jwt.encode(body, self.key, algorithm="RS256", headers={"kid": "k1"})

    def env(self) -> dict[str, str]:
        """The server's settings for this issuer."""
        return {
            "DATAMCP_MCP_JWT_JWKS_URI": self.jwks_uri,
            "DATAMCP_MCP_JWT_ISSUER": self.issuer,
            "DATAMCP_MCP_JWT_AUDIENCE": self.audience,
        }


@pytest.fixture(scope="session")
def jwt_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwt_issuer(jwt_key: rsa.RSAPrivateKey) -> Iterator[JwtIssuer]:
    jwk = json.loads(RSAAlgorithm.to_jwk(jwt_key.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield JwtIssuer(f"http://127.0.0.1:{server.server_port}/jwks.json", jwt_key)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
