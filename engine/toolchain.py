"""Where the pulumi CLI and other tools are, and the environment every pulumi subprocess gets."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ToolchainError
from engine.settings import Settings

PULUMI_VERSION = "3.259.0"
HELM_VERSION = "3.22.0"
ACTIONLINT_VERSION = "1.7.12"
OPA_VERSION = "1.22.3"
# The OpenID Connect provider of the console's browser tests (tests/console/); the engine itself never runs it.
HYDRA_VERSION = "2.3.0"
# The Kubernetes control plane of the tests (tests/k8s.py) and Pulumi's Kubernetes provider, built from a commit
# between its v4.24.0 and v4.25.0 releases (scripts/build-go-tools.sh): the default stacks run without them.
ETCD_VERSION = "3.6.16"
KUBERNETES_VERSION = "1.34.4"
PULUMI_KUBERNETES_VERSION = "4.25.0-alpha.1768448096+f47bc2d6"


@dataclass(frozen=True)
class Tool:
    name: str
    path: Path | None
    version: str | None


def plugins_dir(settings: Settings) -> Path:
    """Where the bootstrap puts provider plugins it builds (never next to pulumi, which would prefer them)."""
    return settings.tools_dir.parent / "plugins"


def tool_search_path(settings: Settings, path: str | None = None) -> str:
    """PATH with the project's tools and then its plugins first, so a built tool wins over an ambient one. The
    sandbox's launchers go before both (pulumi_env), so a simulated provider wins over a built one."""
    rest = os.environ.get("PATH", "") if path is None else path
    return os.pathsep.join(p for p in (str(settings.tools_dir), str(plugins_dir(settings)), rest) if p)


def find_tool(settings: Settings, name: str, path: str | None = None) -> Path | None:
    found = shutil.which(name, path=tool_search_path(settings, path))
    return Path(found) if found else None


_VERSION_ARGS = {
    "pulumi": ["version"],
    "helm": ["version", "--template", "{{.Version}}"],
    "actionlint": ["-version"],
    "opa": ["version"],
    "hydra": ["version"],
}


_VERSIONS: dict[tuple[str, str, int, int, int, int, int], str] = {}
_VERSIONS_LOCK = threading.Lock()


def tool_version(name: str, binary: Path) -> str | None:
    """The version a tool reports, without a leading 'v', or None when it cannot run. Asked once per binary file
    per process: the answer is kept by the file's identity (device, inode, size, modification and change times), so
    a binary that is replaced or rebuilt is asked again (every operation checks pulumi's version: ~0.2 s a time). The
    change time counts because its owner can set the others back (rewritten in place, `touch -d`), but not that."""
    try:
        info = binary.stat()
    except OSError:
        return None
    key = (name, str(binary), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    with _VERSIONS_LOCK:
        known = _VERSIONS.get(key)
    if known is not None:
        return known
    version = _ask_version(name, binary)
    if version is not None:
        with _VERSIONS_LOCK:
            _VERSIONS[key] = version
    return version


def _ask_version(name: str, binary: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(binary), *_VERSION_ARGS.get(name, ["--version"])],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
            env={**os.environ, "PULUMI_SKIP_UPDATE_CHECK": "true"},
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # The last word of the first line: `v3.259.0`, `Version: 1.22.3`, `etcd Version: 3.6.16`, `Kubernetes v1.34.4`.
    words = out.strip().splitlines()[0].split() if out.strip() else []
    return words[-1].removeprefix("v") if words else None


def locate(settings: Settings, name: str, path: str | None = None) -> Tool:
    binary = find_tool(settings, name, path)
    return Tool(name, binary, tool_version(name, binary) if binary else None)


def require_pulumi(settings: Settings) -> Path:
    """The pulumi binary of the pinned version, or a ToolchainError that says how to get it. A provider plugin
    beside it is refused: the CLI would prefer it to the sandbox's simulated providers and the built real ones."""
    binary = require_tool(settings, "pulumi", PULUMI_VERSION)
    beside = sorted(p.name for p in binary.parent.glob("pulumi-resource-*"))
    if beside:
        raise ToolchainError(
            f"provider plugins next to pulumi in {binary.parent}: {', '.join(beside)}; remove them (`make bootstrap` "
            "builds providers into .tools/plugins)"
        )
    return binary


def require_tool(settings: Settings, name: str, version: str) -> Path:
    """The tool's binary of the pinned version, or a ToolchainError that says how to get it."""
    tool = locate(settings, name)
    if tool.path is None:
        raise ToolchainError(f"{name} was not found; run `make bootstrap` to build it into .tools/bin")
    if tool.version != version:
        raise ToolchainError(
            f"{name} at {tool.path} is version {tool.version!r}, DataMCP needs {version}; run `make bootstrap`"
        )
    return tool.path


def pulumi_env(settings: Settings, simulated: frozenset[str] | None = None) -> dict[str, str]:
    """Variables for every pulumi subprocess: offline, project-local home, no update checks or plugin downloads.
    `simulated`: the providers the sandbox stands in for (default: all of them); the others are the real plugins
    of the project's tools dir."""
    env = {
        "PULUMI_BACKEND_URL": str(settings.backend_url),
        "PULUMI_HOME": str(settings.pulumi_home),
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
    }
    if not os.environ.get("USER"):
        # The CLI (built without cgo) names lock holders from $USER and refuses to run without it; a service
        # user with no passwd entry (containers, numeric uids) has none.
        env["USER"] = settings.default_user
    if settings.secrets_provider == "passphrase" and settings.config_passphrase is not None:
        env["PULUMI_CONFIG_PASSPHRASE"] = settings.config_passphrase.get_secret_value()
    if settings.sandbox:
        from engine.sandbox.fakes import PACKAGES

        # The simulated cloud's launchers come first on this subprocess's PATH, and nowhere else.
        from engine.sandbox.launchers import write_launchers
        from engine.sandbox.provider import SANDBOX_DIR_ENV

        packages = frozenset(PACKAGES) if simulated is None else simulated
        launchers = write_launchers(settings.sandbox_dir, packages=packages)
        env["PATH"] = os.pathsep.join([str(launchers), tool_search_path(settings)])
        env[SANDBOX_DIR_ENV] = str(settings.sandbox_dir)
    else:
        # Real clouds: only plugins installed in PULUMI_HOME, never a stray executable on PATH.
        env["PULUMI_IGNORE_AMBIENT_PLUGINS"] = "true"
    return env


def prepare_local_dirs(settings: Settings) -> None:
    """Create the local backend directory and PULUMI_HOME; the file backend refuses a missing directory."""
    assert settings.pulumi_home is not None
    settings.pulumi_home.mkdir(parents=True, exist_ok=True)
    if settings.backend_path is not None:
        settings.backend_path.mkdir(parents=True, exist_ok=True)
