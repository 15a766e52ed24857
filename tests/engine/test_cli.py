"""The `datamcp` command end to end in-process: output formats and exit codes."""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.audit import OperationRecord, now, open_store
from engine.cli import EXIT_BROKEN_PIPE, EXIT_FAILED, EXIT_INVALID, EXIT_OK, EXIT_REFUSED, main
from engine.settings import Settings

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    for name in ("project_root", "state_dir", "tools_dir"):
        monkeypatch.setenv(f"DATAMCP_{name.upper()}", str(getattr(sandbox_settings, name)))
    monkeypatch.setenv("DATAMCP_SANDBOX", "1")

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_the_approval_flow_and_exit_codes(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("stacks", "--json")
    names = [s["name"] for s in json.loads(out)]
    assert code == EXIT_OK and names == ["aws-dev", "aws-prod", "aws-scale", "gcp-dev", "gcp-prod", "k8s-local"]
    code, out, _ = cli("up", "gcp-dev", "--user", "alice")
    assert code == EXIT_OK and "dry run: nothing was changed" in out
    preview_id = re.search(r"Preview (\S+) of gcp-dev", out).group(1)  # type: ignore[union-attr]
    code, _, err = cli("approve", preview_id, "--approver", "alice")
    assert code == EXIT_REFUSED and "cannot approve" in err
    code, out, _ = cli("approve", preview_id, "--approver", "bob", "--json")
    approval_id = json.loads(out)["approval_id"]
    code, _, err = cli("up", "gcp-dev", "--user", "alice", "--preview-id", preview_id, "--approval-id", "bogus-id")
    assert code == EXIT_REFUSED and "no approval" in err
    code, out, _ = cli("up", "gcp-dev", "--user", "alice", "--preview-id", preview_id, "--approval-id", approval_id)
    assert code == EXIT_OK and "applied" in out and "kubeconfig: [secret]" in out
    code, out, _ = cli("preview", "gcp-dev", "--format", "markdown")
    assert code == EXIT_OK and "No changes." in out
    code, out, _ = cli("ops", "--stack", "gcp-dev")
    assert code == EXIT_OK and " up " in out and "succeeded" in out and "refused" in out
    code, out, _ = cli("ops", "verify")
    assert code == EXIT_OK and "intact" in out
    code, _, err = cli("preview", "../gcp-dev")
    assert code == EXIT_INVALID and "not a valid stack name" in err


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (("--cursor", "garbage"), "'garbage' is not a cursor"),
        (("--cursor", "x" * 5000), "is not a cursor"),
        (("--limit", "-1"), "limit must be a whole number from 1 to 1000, not -1"),
        (("--limit", "1001"), "limit must be a whole number from 1 to 1000"),
    ],
)
def test_bad_paging_input_exits_3_with_a_short_message(cli, flags: tuple[str, ...], says: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = cli("ops", "list", *flags)
    assert (code, out) == (EXIT_INVALID, "")
    assert says in err and "Traceback" not in err and len(err) < 400


def test_a_reader_that_goes_away_early_ends_the_command_quietly(sandbox_settings: Settings) -> None:
    store = open_store(sandbox_settings.audit_url)
    for i in range(300):
        store.append(OperationRecord(id=f"op-{i:04d}", user="alice", tool="up", status="started", start_ts=now()))  # type: ignore[arg-type]
    env = {
        **os.environ,
        "DATAMCP_PROJECT_ROOT": str(sandbox_settings.project_root),
        "DATAMCP_STATE_DIR": str(sandbox_settings.state_dir),
        "DATAMCP_SANDBOX": "1",
    }
    for argv in (("ops", "show", "op-0007"), ("ops", "list", "--limit", "300", "--json")):
        read_end, write_end = os.pipe()
        os.close(read_end)  # like `| head -1` that has its line: the reader is gone before the writer is done
        try:
            done = subprocess.run(
                [sys.executable, "-m", "engine.cli", *argv],
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                timeout=120,
                check=False,
            )
        finally:
            os.close(write_end)
        assert (done.returncode, done.stderr) == (EXIT_BROKEN_PIPE, ""), argv


def test_the_command_as_its_own_process_prints_and_exits_as_main_does(capsys: pytest.CaptureFixture[str]) -> None:
    """`datamcp` as a process of its own (main() on sys.argv, which tunes the collector for a one-shot run) prints
    the same graph and exits with the same codes as main() called with arguments."""

    def process(*argv: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        command = [sys.executable, "-m", "engine.cli", *argv]
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False)

    done = process("synth", "aws-dev", "--format", "json")
    assert main(["synth", "aws-dev", "--format", "json"]) == EXIT_OK
    assert (done.returncode, done.stdout, done.stderr) == (EXIT_OK, capsys.readouterr().out, "")
    done = process("synth", "../aws-dev")
    assert done.returncode == EXIT_INVALID and "not a valid stack name" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_main_called_with_arguments_leaves_the_callers_collector_alone() -> None:
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert main(["synth", "../aws-dev"]) == EXIT_INVALID
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)


def preview_of(cli, user: str = "alice") -> str:  # type: ignore[no-untyped-def]
    code, out, _ = cli("preview", "gcp-dev", "--user", user, "--format", "json")
    assert code == EXIT_OK
    return str(json.loads(out)["preview_id"])


@pytest.mark.parametrize("spelling", ["Alice", " alice", "alice\t", "\uff41lice"])
def test_the_requester_cannot_approve_under_another_spelling(cli, spelling: str) -> None:  # type: ignore[no-untyped-def]
    preview_id = preview_of(cli)
    code, _, err = cli("approve", preview_id, "--approver", spelling, "--yes")
    assert code == EXIT_REFUSED and "cannot approve" in err


@pytest.mark.parametrize("name", ["\u0430lice", "al\u200bice", "", "x" * 10_000, "bob\nalice"])
def test_unusable_identities_are_refused_on_record(cli, name: str) -> None:  # type: ignore[no-untyped-def]
    preview_id = preview_of(cli)
    code, _, err = cli("approve", preview_id, "--approver", name, "--yes")
    assert code == EXIT_INVALID and len(err) < 400
    code, out, _ = cli("ops", "--json", "--status", "refused")
    refused = json.loads(out)["items"][0]
    assert refused["tool"] == "approve" and refused["user"] == "(invalid identity)"


def test_up_with_a_preview_but_no_approval_says_what_is_missing(cli) -> None:  # type: ignore[no-untyped-def]
    preview_id = preview_of(cli)
    code, out, err = cli("up", "gcp-dev", "--user", "alice", "--preview-id", preview_id)
    assert code == EXIT_INVALID and "--approval-id" in err and "dry run" not in out


def test_show_renders_what_the_approval_binds(cli) -> None:  # type: ignore[no-untyped-def]
    preview_id = preview_of(cli)
    code, out, _ = cli("show", preview_id)
    assert code == EXIT_OK and "binding digest: " in out and "requested by alice" in out
    assert "create" in out and " -> " in out and "approvals: 0 of 1 needed" in out
    code, out, _ = cli("approve", preview_id, "--approver", "bob", "--yes")
    code, out, _ = cli("show", preview_id, "--json")
    assert json.loads(out)["approved_by"] == ["bob"]


def test_the_hint_after_a_preview_is_a_command_that_works(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("preview", "gcp-dev", "--user", "alice")
    command = re.search(r"`(datamcp approve \S+)`", out).group(1)  # type: ignore[union-attr]
    code, out, err = cli(*command.split()[1:], "--approver", "bob", "--yes")
    assert code == EXIT_OK, err


def test_a_wrong_passphrase_is_a_clear_error_not_a_traceback(cli, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    preview_of(cli)  # the stack now exists, its secrets under the checkout's passphrase
    monkeypatch.setenv("DATAMCP_CONFIG_PASSPHRASE", "not-the-passphrase-of-this-stack")
    code, _, err = cli("refresh", "gcp-dev")
    assert code == EXIT_FAILED and "incorrect passphrase" in err and "Traceback" not in err


def test_an_invalid_config_value_is_invalid_input_naming_the_key(cli, sandbox_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    config = sandbox_settings.project_root / "Pulumi.gcp-dev.yaml"
    config.write_text(config.read_text().replace("    replicas: 1\n", "    replicas: many\n", 1))
    code, _, err = cli("preview", "gcp-dev", "--user", "alice")
    assert code == EXIT_INVALID and "Pulumi.gcp-dev.yaml" in err and "replicas" in err, err


def test_read_only_commands_leave_a_fresh_clone_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    monkeypatch.setenv("DATAMCP_PROJECT_ROOT", str(clone))
    monkeypatch.setenv("DATAMCP_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("DATAMCP_TOOLS_DIR", str(ROOT / ".tools" / "bin"))
    for argv in (
        ["stacks"],
        ["describe", "aws-prod"],
        ["preview", "aws-prod"],
        ["preview", "gcp-prod"],
        ["refresh", "gcp-dev"],
        ["ops", "list"],
        ["ops", "verify"],
    ):
        assert main(argv) == EXIT_OK, argv
    capsys.readouterr()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True, check=True)
    assert status.stdout == ""
