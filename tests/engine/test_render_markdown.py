"""Golden-file tests of the PR comment renderer (`datamcp preview --format markdown`).

Regenerate after an intended change with `UPDATE_GOLDEN=1 .venv/bin/pytest tests/engine/test_render_markdown.py`
and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engine.cli.render import GITHUB_COMMENT_LIMIT, preview_markdown
from engine.results import Diagnostic, PolicyViolation, PreviewResult, ResourceChange

GOLDEN = Path(__file__).parent / "golden"
P = "urn:pulumi:aws-dev::datamcp::"


def preview(changes: list[ResourceChange], summary: dict[str, int], **extra: object) -> PreviewResult:
    return PreviewResult(
        preview_id="11111111-2222-3333-4444-555555555555",
        operation_id="op-1",
        kind="update",
        stack="aws-dev",
        user="alice",
        change_summary=summary,
        changes=changes,
        duration_seconds=1.5,
        expires_at="2026-11-24T10:00:00+00:00",
        **extra,
    )  # type: ignore[arg-type]


def change(
    urn: str, typ: str, op: str, keys: list[str] | None = None, replace: list[str] | None = None
) -> ResourceChange:
    return ResourceChange(urn=P + urn, type=typ, op=op, changed_keys=keys or [], replace_keys=replace or [])


CASES = {
    "no_changes": preview([], {"same": 52}),
    "creates_only": preview(
        [
            change("datamcp:aws:Network$aws:ec2/vpc:Vpc::network-vpc", "aws:ec2/vpc:Vpc", "create"),
            change("datamcp:aws:Network$aws:ec2/subnet:Subnet::network-private-0", "aws:ec2/subnet:Subnet", "create"),
            change("datamcp:aws:Storage$aws:s3/bucket:Bucket::data-bucket", "aws:s3/bucket:Bucket", "create"),
        ],
        {"create": 3},
    ),
    "replace_and_delete": preview(
        [
            change(
                "datamcp:aws:OpsLogTable$aws:dynamodb/table:Table::ops-log-table",
                "aws:dynamodb/table:Table",
                "replace",
                ["name"],
                ["name"],
            ),
            change("datamcp:aws:Storage$aws:s3/bucket:Bucket::old-bucket", "aws:s3/bucket:Bucket", "delete"),
            change(
                "datamcp:k8s:ArgoCdApp$kubernetes:argoproj.io/v1alpha1:Application::datamcp-application",
                "kubernetes:argoproj.io/v1alpha1:Application",
                "update",
                ["spec"],
            ),
        ],
        {"replace": 1, "delete": 1, "update": 1, "same": 48},
    ),
    "policy_and_secret": preview(
        [change("datamcp:aws:Storage$aws:s3/bucket:Bucket::data-bucket", "aws:s3/bucket:Bucket", "update", ["tags"])],
        {"update": 1, "same": 50},
        diagnostics=[
            Diagnostic(
                severity="warning",
                message="repo token ghp_sandboxDevTokenNotReal0123456789abcd is set; config value [secret] used",
            )
        ],
        policy_violations=[
            PolicyViolation(
                policy="s3-no-public-read",
                pack="datamcp-baseline",
                enforcement="mandatory",
                message="bucket must not allow public read",
                urn=P + "datamcp:aws:Storage$aws:s3/bucket:Bucket::data-bucket",
            )
        ],
    ),
    "huge_truncated": preview(
        [
            change(
                f"datamcp:aws:Network$aws:ec2/subnet:Subnet::subnet-{i:04d}",
                "aws:ec2/subnet:Subnet",
                "update",
                ["tags"],
            )
            for i in range(200)
        ]
        + [change("datamcp:aws:Network$aws:ec2/vpc:Vpc::network-vpc", "aws:ec2/vpc:Vpc", "delete")],
        {"update": 200, "delete": 1},
    ),
}
LIMITS = {"huge_truncated": 4000}


@pytest.mark.parametrize("name", sorted(CASES))
def test_markdown_matches_golden(name: str) -> None:
    text = preview_markdown(CASES[name], limit=LIMITS.get(name, GITHUB_COMMENT_LIMIT))
    golden = GOLDEN / f"{name}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_no_changes_is_one_line() -> None:
    text = preview_markdown(CASES["no_changes"])
    assert text.count("\n") == 3 and "No changes." in text


def test_deletes_and_replacements_are_called_out_first() -> None:
    text = preview_markdown(CASES["replace_and_delete"])
    summary = text.splitlines()[2]
    assert summary.startswith("**1 to delete**, **1 to replace**, 1 to update")
    assert "[!WARNING]" in text and "`ops-log-table`" in text
    assert "same" not in summary


def test_secrets_are_masked_and_policy_violations_shown() -> None:
    text = preview_markdown(CASES["policy_and_secret"])
    assert "ghp_" not in text and "[secret]" in text
    assert "datamcp-baseline/s3-no-public-read" in text and "mandatory" in text


@pytest.mark.parametrize("count", [3000, 20000])
def test_huge_previews_fit_in_a_github_comment(count: int) -> None:
    big = preview(
        [
            change(
                f"datamcp:aws:Network$aws:ec2/subnet:Subnet::subnet-{i:05d}",
                "aws:ec2/subnet:Subnet",
                "update",
                ["tags", "mapPublicIpOnLaunch"],
            )
            for i in range(count)
        ]
        + [change("datamcp:aws:Network$aws:ec2/vpc:Vpc::network-vpc", "aws:ec2/vpc:Vpc", "delete")],
        {"update": count, "delete": 1},
    )
    text = preview_markdown(big)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "Truncated to fit a GitHub comment" in text and "change row(s)" in text
    assert "`network-vpc`" in text  # the delete is the last thing to be dropped
    left_out = int(text.split("Truncated to fit a GitHub comment: ")[1].split(" change row")[0])
    assert left_out > 0 and text.count("| update |") == count - left_out
