"""A throwaway Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager (built into
.tools/bin by `make bootstrap`) on free loopback ports in a temp dir, stopped and removed afterwards. There is no
kubelet: objects are stored and controllers run (namespace deletion, garbage collection), pods never start."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.toolchain import ETCD_VERSION, KUBERNETES_VERSION, tool_version

TOOLS_BIN = Path(__file__).resolve().parents[1] / ".tools" / "bin"
PLUGINS = TOOLS_BIN.parent / "plugins"  # provider plugins (scripts/build-go-tools.sh)
LOOPBACK = "127.0.0.1"
READY_SECONDS = 90.0


@dataclass(frozen=True)
class KubeCluster:
    """A running control plane: a kubeconfig file for it, its API server's URL and the admin's bearer token
    (system:masters)."""

    kubeconfig: Path
    server: str
    token: str


def binary(name: str, version: str) -> Path:
    """The built tool of the pinned version; missing or another version fails the test (never skips it)."""
    found = shutil.which(name, path=os.pathsep.join([str(TOOLS_BIN), str(PLUGINS), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"{name} is required: run `make bootstrap` to build it into .tools/bin", pytrace=False)
    got = tool_version(name, Path(found))
    if got != version:
        pytest.fail(f"{found} reports version {got!r}, the tests need {version}; run `make bootstrap`", pytrace=False)
    return Path(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def write_key_pair(base: Path) -> tuple[Path, Path]:
    """The RSA pair the API server signs service-account tokens with (private) and checks them with (public)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private, public = base / "sa.key", base / "sa.pub"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return private, public


def write_kubeconfig(path: Path, server: str, token: str, ca: Path) -> None:
    """Admin access, trusting the API server's self-signed serving certificate (made by kube-apiserver at start)."""
    cluster = {"server": server, "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode()}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "test", "cluster": cluster}],
        "users": [{"name": "admin", "user": {"token": token}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "admin"}}],
        "current-context": "test",
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)


class _Processes:
    """The started servers, each logging to <name>.log in the cluster's dir."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str]) -> None:
        with (self.base / f"{name}.log").open("wb") as log:
            self.running[name] = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=self.base
            )

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                pytest.fail(f"{name} exited with {process.returncode}:\n{self.log_tail(name)}", pytrace=False)

    def log_tail(self, name: str, lines: int = 30) -> str:
        text = (self.base / f"{name}.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """One after the other, last started first: an API server whose etcd went away first takes ~20 s to stop."""
        for process in reversed(self.running.values()):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def wait_ready(processes: _Processes, server: str, token: str, ca: Path) -> None:
    """Until the API server's /readyz answers ok, over TLS checked against the serving certificate it made."""
    deadline = time.monotonic() + READY_SECONDS
    while not (ca.exists() and answers_ok(f"{server}/readyz", token, ca)):
        processes.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"kube-apiserver not ready in {READY_SECONDS:.0f} s:\n{processes.log_tail('kube-apiserver')}")
        time.sleep(0.5)


def answers_ok(url: str, token: str, ca: Path) -> bool:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - https on loopback
    try:
        trusted = ssl.create_default_context(cafile=str(ca))
        with urllib.request.urlopen(request, timeout=5, context=trusted) as answer:  # noqa: S310
            return bool(answer.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def kube_cluster() -> Iterator[KubeCluster]:
    """A running control plane in a temp dir, removed afterwards (also when the test fails)."""
    etcd = binary("etcd", ETCD_VERSION)
    apiserver = binary("kube-apiserver", KUBERNETES_VERSION)
    manager = binary("kube-controller-manager", KUBERNETES_VERSION)
    base = Path(tempfile.mkdtemp(prefix="datamcp-k8s-"))
    processes = _Processes(base)
    try:
        token = secrets.token_urlsafe(32)
        tokens = base / "tokens.csv"
        tokens.write_text(f"{token},admin,admin,system:masters\n")
        signing_key, verifying_key = write_key_pair(base)
        client_port, peer_port, api_port = free_port(), free_port(), free_port()
        etcd_url, peer_url = f"http://{LOOPBACK}:{client_port}", f"http://{LOOPBACK}:{peer_port}"
        server = f"https://{LOOPBACK}:{api_port}"
        processes.start(
            "etcd",
            [
                str(etcd),
                "--name=test",
                f"--data-dir={base / 'etcd'}",
                f"--listen-client-urls={etcd_url}",
                f"--advertise-client-urls={etcd_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=test={peer_url}",
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        processes.start(
            "kube-apiserver",
            [
                str(apiserver),
                f"--etcd-servers={etcd_url}",
                f"--bind-address={LOOPBACK}",
                f"--advertise-address={LOOPBACK}",
                f"--secure-port={api_port}",
                f"--cert-dir={base / 'certs'}",
                f"--token-auth-file={tokens}",
                "--authorization-mode=RBAC",
                f"--service-account-key-file={verifying_key}",
                f"--service-account-signing-key-file={signing_key}",
                "--service-account-issuer=https://kubernetes.default.svc",
                "--service-cluster-ip-range=10.96.0.0/16",
            ],
        )
        ca = base / "certs" / "apiserver.crt"  # self-signed, with the CA that signed it
        wait_ready(processes, server, token, ca)
        kubeconfig = base / "kubeconfig"
        write_kubeconfig(kubeconfig, server, token, ca)
        processes.start(
            "kube-controller-manager",
            [
                str(manager),
                f"--kubeconfig={kubeconfig}",
                "--controllers=namespace-controller,garbage-collector-controller",
                "--use-service-account-credentials=false",
                "--leader-elect=false",
                "--secure-port=0",  # it serves nothing: no health port is needed here
            ],
        )
        time.sleep(1)
        processes.check_alive()  # a bad flag or kubeconfig ends it at once
        yield KubeCluster(kubeconfig=kubeconfig, server=server, token=token)
    finally:
        processes.stop()
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    """`python -m tests.k8s`: a local control plane until Ctrl-C, to try the k8s-local stack for real by hand."""
    with kube_cluster() as cluster:
        print(f"API server {cluster.server} (no kubelet: workloads never start)")
        print(f"export DATAMCP_KUBECONFIG={cluster.kubeconfig}")
        print("then: datamcp preview k8s-local; Ctrl-C stops the cluster and removes it")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
