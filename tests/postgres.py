"""A throwaway PostgreSQL cluster for tests: Debian's postgresql server (initdb, pg_ctl) in a temp dir, on a free
loopback port, stopped and removed afterwards. PostgreSQL refuses to run as root, so under root the cluster runs as
the unprivileged `nobody` (setpriv)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = 65534


def bindir() -> Path:
    """The server's programs (`dpkg -L postgresql-15` puts them under /usr/lib/postgresql/15/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail("PostgreSQL's server is required: install Debian's `postgresql` (.ci/run does)", pytrace=False)
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *command]


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """A running cluster; yields a libpq URL of its `postgres` database for the user `datamcp` (trust auth)."""
    programs = bindir()
    base = Path(tempfile.mkdtemp(prefix="datamcp-pg-", dir="/tmp"))
    base.chmod(0o755)
    data, sockets, port = base / "data", base / "sockets", free_port()
    sockets.mkdir()
    if os.geteuid() == 0:
        for path in (base, sockets):
            os.chown(path, NOBODY, NOBODY)
    run = {"check": True, "capture_output": True, "timeout": 120, "cwd": base}
    try:
        subprocess.run(
            as_owner(
                [str(programs / "initdb"), "-D", str(data), "-U", "datamcp", "--auth=trust", "-E", "UTF8", "--no-sync"]
            ),
            **run,  # type: ignore[call-overload]
        )
        options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50"
        subprocess.run(
            as_owner(
                [str(programs / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
            ),
            **run,  # type: ignore[call-overload]
        )
        yield f"postgresql://datamcp@127.0.0.1:{port}/postgres"
    finally:
        if data.exists():
            subprocess.run(
                as_owner([str(programs / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
                cwd=base,
            )
        shutil.rmtree(base, ignore_errors=True)
