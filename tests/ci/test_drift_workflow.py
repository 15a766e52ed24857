"""drift.yml's check step with the environment the job sets."""

from __future__ import annotations

from typing import Any

SCENARIO = {
    "matrix.stack": "aws-dev",
    "vars.DATAMCP_BACKEND_URL": "s3://acme-pulumi-state?region=eu-west-1",
    "vars.DATAMCP_SECRETS_PROVIDER": "awskms://alias/acme/pulumi?region=eu-west-1",
    "vars.DATAMCP_AUDIT_URL": "dynamodb://mcp_ops_log?region=eu-west-1",
    "secrets.DATAMCP_CONFIG_PASSPHRASE": "",
}


def test_a_check_that_cannot_run_fails_with_its_own_code_and_reports_no_drift(runner: Any) -> None:
    step = runner.step("drift.yml", "drift", "drift")
    env = runner.env("drift.yml", "drift", step, SCENARIO)
    assert env["REQUESTER"] == "github:drift-check" and "DATAMCP_DEFAULT_USER" not in env
    done = runner.run(step, env)  # no cloud credentials on this runner: the audit table cannot be reached
    assert done.returncode == 1, done.stderr
    assert "the audit table mcp_ops_log is unreachable" in done.stderr
    assert runner.outputs() == {}
    assert (runner.workspace / "drift.json").read_text() == ""
