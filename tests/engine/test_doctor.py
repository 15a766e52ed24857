from __future__ import annotations

import importlib.util
import json
import os
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import main
from engine.doctor import WARM_MODULES, bytecode_check, module_source, run_checks
from engine.settings import Settings
from engine.toolchain import (
    ETCD_VERSION,
    HYDRA_VERSION,
    KUBERNETES_VERSION,
    OPA_VERSION,
    PULUMI_KUBERNETES_VERSION,
    PULUMI_VERSION,
)

# The tests' Kubernetes control plane and Pulumi's Kubernetes provider: built by the bootstrap, optional for a server.
KUBERNETES_TOOLS = {
    "etcd": ETCD_VERSION,
    "kube-apiserver": KUBERNETES_VERSION,
    "kube-controller-manager": KUBERNETES_VERSION,
    "pulumi-resource-kubernetes": PULUMI_KUBERNETES_VERSION,
}


def _by_name(report_checks: list) -> dict:  # type: ignore[type-arg]
    return {c.name: c for c in report_checks}


def test_all_pieces_present_after_bootstrap(settings: Settings) -> None:
    report = run_checks(settings)
    checks = _by_name(report.checks)
    assert report.ok, [c for c in report.checks if c.required and not c.ok]
    assert checks["pulumi"].detail.startswith(f"{PULUMI_VERSION} at ")
    assert checks["python:pulumi"].detail == PULUMI_VERSION
    assert checks["opa"].detail.startswith(f"{OPA_VERSION} at ")
    assert checks["hydra"].ok and checks["hydra"].detail.startswith(f"{HYDRA_VERSION} at ")
    for name, version in KUBERNETES_TOOLS.items():
        assert checks[name].ok and checks[name].detail.startswith(f"{version} at "), checks[name]
    assert checks["backend"].ok
    assert checks["audit"].ok


def test_missing_tool_is_reported_and_fails(tmp_path: Path) -> None:
    # A tools dir with only helm and a PATH with nothing else: pulumi, actionlint and opa are missing.
    tools = tmp_path / "tools"
    tools.mkdir()
    helm = shutil.which("helm", path=str(Path(__file__).resolve().parents[2] / ".tools" / "bin"))
    assert helm, "helm must be built by `make bootstrap`"
    (tools / "helm").symlink_to(helm)
    s = Settings(project_root=tmp_path, tools_dir=tools)
    report = run_checks(s, path=str(Path(sys.executable).parent))
    checks = _by_name(report.checks)
    assert not report.ok
    assert not checks["pulumi"].ok
    assert "not found" in checks["pulumi"].detail
    assert not checks["actionlint"].ok
    assert not checks["opa"].ok
    assert not checks["hydra"].ok and not checks["hydra"].required
    assert not any(checks[name].ok or checks[name].required for name in KUBERNETES_TOOLS)
    assert checks["helm"].ok


def test_missing_test_tools_leave_the_report_ok(tmp_path: Path) -> None:
    # hydra (the browser tests' OpenID provider) and the Kubernetes tools: a server is complete without them.
    built = Path(__file__).resolve().parents[2] / ".tools" / "bin"
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("pulumi", "helm", "actionlint", "opa"):
        (tools / name).symlink_to(built / name)
    report = run_checks(Settings(project_root=tmp_path, tools_dir=tools), path=str(Path(sys.executable).parent))
    checks = _by_name(report.checks)
    for name in ("hydra", *KUBERNETES_TOOLS):
        assert not checks[name].ok and "not found" in checks[name].detail
    assert report.ok, [c for c in report.checks if c.required and not c.ok]


def test_hydra_version_is_read_from_its_padded_version_line(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    fake = tools / "hydra"
    fake.write_text("#!/bin/sh\nprintf 'Version:    v2.2.0\\nGit Hash:   x\\n'\n")
    fake.chmod(0o755)
    hydra = _by_name(run_checks(Settings(project_root=tmp_path, tools_dir=tools), path="").checks)["hydra"]
    assert not hydra.ok
    assert "'2.2.0'" in hydra.detail


@pytest.mark.parametrize(
    ("name", "output", "reported"),
    [("etcd", "etcd Version: 3.6.15\\nGit SHA: x\\n", "3.6.15"), ("kube-apiserver", "Kubernetes v1.33.0\\n", "1.33.0")],
)
def test_kubernetes_versions_are_read_from_their_version_lines(
    tmp_path: Path, name: str, output: str, reported: str
) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    fake = tools / name
    fake.write_text(f"#!/bin/sh\nprintf '{output}'\n")
    fake.chmod(0o755)
    check = _by_name(run_checks(Settings(project_root=tmp_path, tools_dir=tools), path="").checks)[name]
    assert not check.ok and not check.required
    assert f"reports {reported!r}" in check.detail


def test_wrong_tool_version_is_reported(tmp_path: Path) -> None:
    tools = tmp_path / "tools"
    tools.mkdir()
    fake = tools / "pulumi"
    fake.write_text("#!/bin/sh\necho v3.1.0\n")
    fake.chmod(0o755)
    report = run_checks(Settings(project_root=tmp_path, tools_dir=tools), path="")
    pulumi = _by_name(report.checks)["pulumi"]
    assert not pulumi.ok
    assert "'3.1.0'" in pulumi.detail


def test_unwritable_backend_fails(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    s = Settings(project_root=tmp_path, backend_url=(blocker / "backend").as_uri())
    backend = _by_name(run_checks(s).checks)["backend"]
    assert not backend.ok
    assert "not writable" in backend.detail


def test_cli_doctor_exit_code_follows_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATAMCP_STATE_DIR", str(tmp_path / "state"))
    assert main(["doctor"]) == 0
    assert "all required pieces present" in capsys.readouterr().out
    monkeypatch.setenv("DATAMCP_TOOLS_DIR", str(tmp_path / "empty"))
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
    assert main(["doctor", "--json"]) == 1
    assert '"ok": false' in capsys.readouterr().out


def test_cli_rejects_bad_settings_with_exit_3(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATAMCP_BACKEND_URL", "ftp://nowhere")
    assert main(["doctor"]) == 3
    assert "DATAMCP_BACKEND_URL" in capsys.readouterr().err


def test_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == "datamcp 0.1.0"


@pytest.fixture
def prefix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A bytecode cache of our own for this process (the engine's private prefix, pointed elsewhere)."""
    folder = tmp_path / "pycache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(folder))
    monkeypatch.setattr(sys, "pycache_prefix", str(folder))
    return folder


def compile_into_prefix(modules: tuple[str, ...]) -> None:
    for name in modules:
        source = module_source(name)
        assert source is not None and source.is_file(), name
        py_compile.compile(str(source), cfile=importlib.util.cache_from_source(str(source)), doraise=True)


def test_a_cold_bytecode_cache_is_reported_but_not_required(prefix: Path) -> None:
    check = bytecode_check()
    assert not check.ok and not check.required
    assert "cold" in check.detail and "make bootstrap" in check.detail


def test_a_warm_private_bytecode_cache_is_ok(prefix: Path) -> None:
    compile_into_prefix(WARM_MODULES)
    check = bytecode_check()
    assert check.ok and check.detail == f"{prefix} (private, warm)"


def test_bytecode_older_than_its_source_is_cold(prefix: Path) -> None:
    compile_into_prefix(WARM_MODULES)
    pyc = next(prefix.rglob("registry.*.pyc"))
    pyc.write_bytes(pyc.read_bytes()[:8] + (0).to_bytes(4, "little") + pyc.read_bytes()[12:])  # another mtime
    check = bytecode_check()
    assert not check.ok and "stacks.registry" in check.detail


@pytest.mark.parametrize("mode", [0o770, 0o777, 0o702])
def test_a_bytecode_cache_others_can_write_fails_the_doctor(prefix: Path, mode: int, settings: Settings) -> None:
    compile_into_prefix(WARM_MODULES)
    prefix.chmod(mode)
    report = run_checks(settings)
    check = next(c for c in report.checks if c.name == "bytecode")
    assert not check.ok and check.required and not report.ok
    assert "not private" in check.detail


@pytest.mark.slow
def test_bootstrap_warms_the_bytecode_cache_once(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX" and not k.startswith("DATAMCP_")}
    env.update(XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONDONTWRITEBYTECODE="1", DATAMCP_STATE_DIR=str(tmp_path))

    def bytecode() -> dict[str, object]:
        done = subprocess.run(
            [str(root / ".venv" / "bin" / "datamcp"), "doctor", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return next(c for c in json.loads(done.stdout)["checks"] if c["name"] == "bytecode")

    assert bytecode()["ok"] is False
    first = subprocess.run(
        [str(root / "scripts" / "bootstrap.sh")], env=env, capture_output=True, text=True, timeout=600, check=True
    )
    assert "bytecode cache warm" in first.stdout
    assert bytecode() == {
        "name": "bytecode",
        "ok": True,
        "required": True,
        "detail": f"{tmp_path / 'cache' / 'datamcp' / 'pycache'} (private, warm)",
    }
    again = subprocess.run(
        [str(root / "scripts" / "bootstrap.sh")], env=env, capture_output=True, text=True, timeout=600, check=True
    )
    assert "bytecode cache warm" not in again.stdout


def test_dev_mode_says_it_is_no_trust_boundary(settings: Settings) -> None:
    check = _by_name(run_checks(settings).checks)["approvals"]
    assert check.ok and "NOT a trust boundary" in check.detail


def test_signed_mode_with_a_broken_trust_list_fails_the_doctor(settings: Settings, tmp_path: Path) -> None:
    broken = tmp_path / "approvers.yaml"
    broken.write_text("version: 1\napprovers: [{principal: bob}]\n")
    signed = settings.model_copy(update={"approval_mode": "signed", "approvers_file": broken})
    check = _by_name(run_checks(signed).checks)["approvals"]
    assert not check.ok and "trust list" in check.detail and not run_checks(signed).ok


def test_a_server_key_others_can_read_fails_the_doctor(settings: Settings, tmp_path: Path) -> None:
    from engine.trust.server_key import ServerKey

    key = tmp_path / "server.key"
    ServerKey.generate(key)
    key.chmod(0o644)
    check = _by_name(run_checks(settings.model_copy(update={"server_key_file": key})).checks)["server-key"]
    assert not check.ok


def test_a_server_without_helm_and_actionlint_is_complete(tmp_path: Path) -> None:
    # helm and actionlint are development and CI tools: the container image ships only pulumi and opa.
    built = Path(__file__).resolve().parents[2] / ".tools" / "bin"
    tools = tmp_path / "tools"
    tools.mkdir()
    for name in ("pulumi", "opa"):
        (tools / name).symlink_to(built / name)
    report = run_checks(Settings(project_root=tmp_path, tools_dir=tools), path=str(Path(sys.executable).parent))
    checks = _by_name(report.checks)
    assert not checks["helm"].ok and not checks["helm"].required
    assert not checks["actionlint"].ok and not checks["actionlint"].required
    assert report.ok, [c for c in report.checks if c.required and not c.ok]
