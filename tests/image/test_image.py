"""The OCI image of `make image`: built (or reused from its cache), unpacked, and run as the chart's user.

A machine that cannot build the image (no root, no mmdebstrap/umoci, no Debian mirror) fails these tests with the
build's own error: the image is a deliverable, never skipped.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
LAYOUT = ROOT / ".cache" / "image" / "datamcp-oci"
# A PEM private key with a body (the bare header is in ssh's binaries and in the SDKs' docstrings).
PRIVATE_KEY = re.compile(
    rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----\r?\n(?:[A-Za-z-]+: [^\n]*\n)*\r?\n?"
    rb"(?:[A-Za-z0-9+/=]{40,}\r?\n){1,}[A-Za-z0-9+/=]*\r?\n?-----END"
    rb"|-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:\\\\?n)+[A-Za-z0-9+/=]{40,}"  # as escaped text (JSON, YAML)
)
# Tokens by their published shapes (GitHub, GitLab, Pulumi, Slack, a cloud service account's key id).
TOKEN = re.compile(
    rb"\b(ghp_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{40,}|glpat-[A-Za-z0-9_-]{20}|pul-[0-9a-f]{40}|"
    rb"xox[abprs]-[0-9A-Za-z-]{20,}|\"private_key_id\": \"[0-9a-f]{40}\")"
)
# Files of Debian's packages that embed published test vectors, not anyone's key.
KNOWN_TEST_KEYS = re.compile(r"^usr/lib/[^/]+/libgnutls\.so\.[0-9.]+$")  # GnuTLS's power-on self tests
# Names that hold credentials: SSH keys, dotenv files, the server's and the dev mode's keys, dev tokens.
SECRET_NAMES = re.compile(
    r"(^|/)(id_(rsa|ecdsa|ed25519)(_sk)?|\.env(\..*)?|[^/]*tokens?\.(json|txt|plain\.json)|[^/]*\.key|"
    r"credentials(\.json)?|approval[-_]key[^/]*|[^/]*\.(p12|pfx)|\.netrc|\.pypirc|pip\.conf|uv\.toml|"
    r"\.git-credentials|[^/]*_history)$|(^|/)auth\.conf\.d/."
)
# The state dirs a checkout or a server writes (the image carries only the empty, private mount point).
STATE_DIRS = re.compile(r"(^|/)\.state/|^var/lib/datamcp/.")


def _version() -> str:
    for line in (ROOT / "pyproject.toml").read_text().splitlines():
        if line.startswith("version = "):
            return line.split('"')[1]
    raise AssertionError("pyproject.toml has no version")


def _chart_uid() -> int:
    values = yaml.safe_load((ROOT / "charts" / "datamcp" / "values.yaml").read_text())
    return int(values["podSecurityContext"]["runAsUser"])


def _blob(digest: str) -> Path:
    algorithm, _, value = digest.partition(":")
    return LAYOUT / "blobs" / algorithm / value


@pytest.fixture(scope="module")
def image() -> dict[str, object]:
    """Build the image (a no-op when its inputs did not change); its manifest and config."""
    if os.geteuid() != 0:
        pytest.fail("building and unpacking the image needs root (mmdebstrap, chroot); run the tests as root")
    build = subprocess.run(
        [str(ROOT / "scripts" / "image" / "build.sh")], capture_output=True, text=True, timeout=1800, check=False
    )
    if build.returncode != 0:
        pytest.fail(f"`make image` failed (exit {build.returncode}):\n{build.stderr[-4000:]}")
    index = json.loads((LAYOUT / "index.json").read_text())
    (entry,) = [m for m in index["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == _version()]
    manifest = json.loads(_blob(entry["digest"]).read_text())
    config = json.loads(_blob(manifest["config"]["digest"]).read_text())
    return {"manifest": manifest, "config": config}


@pytest.fixture(scope="module")
def rootfs(image: dict[str, object], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    bundle = tmp_path_factory.mktemp("image") / "bundle"
    subprocess.run(
        ["umoci", "unpack", "--image", f"{LAYOUT}:{_version()}", str(bundle)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    yield bundle / "rootfs"
    shutil.rmtree(bundle, ignore_errors=True)


def _run_in_image(rootfs: Path, config: dict[str, object], *command: str) -> subprocess.CompletedProcess[str]:
    """Run a command in the unpacked image as the chart runs it: its user, environment and working dir, a read-only
    root filesystem, and empty writable mounts on the state dir and /tmp (the chart's volumes)."""
    settings = config["config"]
    assert isinstance(settings, dict)
    uid, gid = settings["User"].split(":")
    mounts = (
        f"mount --bind {rootfs} {rootfs} && mount -o remount,bind,ro {rootfs} && "
        f"mount -t tmpfs -o mode=0700,uid={uid},gid={gid} state {rootfs}/var/lib/datamcp && "
        f"mount -t tmpfs -o mode=1777 tmp {rootfs}/tmp && "
        f"mount --rbind /dev {rootfs}/dev && "  # the image ships no /dev: the runtime provides it
        f'exec chroot --userspec={uid}:{gid} {rootfs} /usr/bin/env -i "$@" sh -c "$0"'
    )
    shell = f"cd {settings['WorkingDir']} && exec {' '.join(command)}"
    return subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", mounts, shell, *settings["Env"]],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_image_runs_as_the_charts_user(image: dict[str, object], rootfs: Path) -> None:
    uid = _chart_uid()
    config = image["config"]
    assert isinstance(config, dict)
    assert config["config"]["User"] == f"{uid}:{uid}"
    passwd = {line.split(":")[0]: line.split(":") for line in (rootfs / "etc" / "passwd").read_text().splitlines()}
    assert passwd["datamcp"][2:4] == [str(uid), str(uid)]
    labels = config["config"]["Labels"]
    assert labels["org.opencontainers.image.version"] == _version()
    assert re.fullmatch(r"[0-9a-f]{40}(-dirty)?", labels["org.opencontainers.image.revision"])


def test_version_and_doctor_pass_in_the_image(image: dict[str, object], rootfs: Path) -> None:
    version = _run_in_image(rootfs, image["config"], "datamcp", "--version")  # type: ignore[arg-type]
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"datamcp {_version()}"
    doctor = _run_in_image(rootfs, image["config"], "datamcp", "doctor")  # type: ignore[arg-type]
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    lines = {line.split()[0]: line for line in doctor.stdout.splitlines() if line.strip()}
    assert " ok " in lines["pulumi"] and " ok " in lines["opa"]
    assert "(private, warm)" in lines["bytecode"]


def test_reports_the_image_size(image: dict[str, object], rootfs: Path) -> None:
    manifest = image["manifest"]
    assert isinstance(manifest, dict)
    layers = [layer["size"] for layer in manifest["layers"]]
    du = subprocess.run(["du", "-sb", str(rootfs)], capture_output=True, text=True, check=True)
    unpacked = int(du.stdout.split()[0])
    print(
        f"\nimage datamcp:{_version()}: {len(layers)} layers, {sum(layers) / 1e6:.1f} MB compressed "
        f"({', '.join(f'{size / 1e6:.1f}' for size in layers)} MB), {unpacked / 1e6:.1f} MB unpacked"
    )
    assert sum(layers) < 400e6  # a regression guard, not a goal


def test_no_state_key_or_token_in_any_layer(image: dict[str, object], rootfs: Path) -> None:
    manifest = image["manifest"]
    assert isinstance(manifest, dict)
    found: list[str] = []
    for layer in manifest["layers"]:
        with gzip.open(_blob(layer["digest"])) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                name = member.name.removeprefix("./").lstrip("/")
                if SECRET_NAMES.search(name) or STATE_DIRS.search(name):
                    found.append(f"{layer['digest'][:19]}: {name}")
                if member.isfile():
                    data = tar.extractfile(member)
                    content = data.read() if data is not None else b""
                    if PRIVATE_KEY.search(content) and not KNOWN_TEST_KEYS.match(name):
                        found.append(f"{layer['digest'][:19]}: {name} holds a private key")
                    if (token := TOKEN.search(content)) is not None:
                        found.append(f"{layer['digest'][:19]}: {name} holds a token ({token.group()[:8]!r}...)")
    for path in rootfs.rglob("*"):
        name = str(path.relative_to(rootfs))
        if SECRET_NAMES.search(name) or STATE_DIRS.search(name):
            found.append(f"rootfs: {name}")
    assert not found, "\n".join(found)


def test_the_image_starts_in_signed_mode_with_nothing_secret_in_its_config(image: dict[str, object]) -> None:
    config = image["config"]
    assert isinstance(config, dict)
    env = dict(item.split("=", 1) for item in config["config"]["Env"])
    assert env["DATAMCP_APPROVAL_MODE"] == "signed" and env["DATAMCP_SANDBOX"] == "0"
    assert not [k for k in env if re.search(r"TOKEN|PASSPHRASE|KEY|SECRET|DEV_LOGIN", k)], env
    assert "--dev-tokens" not in config["config"].get("Cmd", [])


def test_the_default_entrypoint_serves_health(image: dict[str, object], rootfs: Path) -> None:
    """The server the chart starts, as the image starts it (its entrypoint and arguments), answers its probe."""
    config = image["config"]
    assert isinstance(config, dict)
    settings = config["config"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    keep = [a for a in settings["Cmd"] if not a.startswith(("--port", "--host"))]
    server = [*settings["Entrypoint"], *keep, "--host=127.0.0.1", f"--port={port}"]  # loopback only in tests
    probe = (
        "import subprocess, sys, time, urllib.request\n"
        f"p = subprocess.Popen({server!r})\n"
        "try:\n"
        "    for _ in range(240):\n"
        "        try:\n"
        f"            print(urllib.request.urlopen('http://127.0.0.1:{port}/healthz', timeout=2).read().decode())\n"
        "            break\n"
        "        except OSError:\n"
        "            time.sleep(0.5)\n"
        "finally:\n"
        "    p.terminate(); p.wait(30)\n"
    )
    tokens = json.dumps({"probe-token-0123456789abcdef": {"principal": "probe", "roles": ["viewer"]}})
    with_tokens = {**config, "config": {**settings, "Env": [*settings["Env"], f"DATAMCP_MCP_TOKENS={tokens}"]}}
    done = _run_in_image(rootfs, with_tokens, "/opt/datamcp/venv/bin/python", "-c", shlex.quote(probe))
    assert '"status":"ok"' in done.stdout.replace(" ", ""), done.stdout + done.stderr


def test_the_scan_finds_what_a_careless_build_would_leave() -> None:
    """The patterns above catch the project's own key format, keys kept as escaped text, tokens and credential files."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    assert PRIVATE_KEY.search(pem)  # one line of body: the server key's format
    assert PRIVATE_KEY.search(json.dumps({"private_key": pem.decode()}).encode())
    assert TOKEN.search(b"token = ghp_" + b"a" * 36) and TOKEN.search(b"pul-" + b"0" * 40)
    for name in (
        ".git-credentials",
        "root/.bash_history",
        "etc/pip.conf",
        "etc/apt/auth.conf.d/x",
        "a/b.p12",
        ".netrc",
    ):
        assert SECRET_NAMES.search(name), name
    assert not SECRET_NAMES.search("etc/ssl/certs/ca-certificates.crt")
