"""The pack's raw decision as a typed report: malformed answers fail closed, waivers need a recorded reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.cli.markdown import preview_markdown
from engine.errors import PolicyError, StackConfigInvalid
from engine.policy.document import UNKNOWN, known
from engine.policy.exceptions import policy_exceptions
from engine.policy.opa import bundle_digest
from engine.policy.report import report_from_decision
from engine.results import PreviewResult

URN = "urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::data"


def result(rule: str = "DM-S3-001", **extra: Any) -> dict[str, Any]:
    return {"id": rule, "severity": "high", "urn": URN, "message": "public", "remediation": "block it", **extra}


def report(decision: dict[str, Any], exceptions: dict[str, str] | None = None) -> Any:
    return report_from_decision(decision, pack_digest="d" * 64, schema_version=1, exceptions=exceptions or {})


def test_results_are_typed_and_ordered_deny_require_warn() -> None:
    r = report(
        {"warn": [result("DM-W-001")], "deny": [result()], "require": [result("DM-R-001", approvals=2, role="admin")]}
    )
    assert [(x.decision, x.id) for x in r.results] == [
        ("deny", "DM-S3-001"),
        ("require", "DM-R-001"),
        ("warn", "DM-W-001"),
    ]
    assert r.counts() == {"deny": 1, "require": 1, "warn": 1}


@pytest.mark.parametrize(
    "decision",
    [
        {"deny": "not a list"},
        {"deny": ["not an object"]},
        {"deny": [result(severity="catastrophic")]},
        {"deny": [result(rule="lower-case")]},
        {"require": [result()]},  # a require without approvals and role
        {"require": [result(approvals=2, role="root")]},
    ],
)
def test_a_malformed_decision_fails_closed(decision: dict[str, Any]) -> None:
    with pytest.raises(PolicyError):
        report(decision)


def test_a_waived_rule_neither_denies_nor_requires_and_keeps_its_reason() -> None:
    r = report({"deny": [result()], "warn": [result("DM-W-001")]}, {"DM-S3-001": "a public website bucket, by design"})
    assert not r.denied and [x.id for x in r.results] == ["DM-W-001"]
    assert [(w.id, w.reason, w.urn) for w in r.waived] == [("DM-S3-001", "a public website bucket, by design", URN)]


def write_config(root: Path, exceptions: object) -> Path:
    (root / "Pulumi.aws-dev.yaml").write_text(
        "config:\n  datamcp:policy_exceptions: " + __import__("json").dumps(exceptions) + "\n"
    )
    return root


def test_exceptions_come_from_the_stack_config(tmp_path: Path) -> None:
    write_config(tmp_path, {"DM-S3-001": "  a public website bucket  "})
    assert policy_exceptions(tmp_path, "aws-dev") == {"DM-S3-001": "a public website bucket"}
    assert policy_exceptions(tmp_path, "gcp-dev") == {}


@pytest.mark.parametrize(
    "bad", [{"DM-S3-001": "because"}, {"DM-S3-001": 7}, {"not an id": "a long enough reason"}, ["DM-S3-001"]]
)
def test_an_exception_without_a_real_reason_is_a_config_error(tmp_path: Path, bad: object) -> None:
    write_config(tmp_path, bad)
    with pytest.raises(StackConfigInvalid):
        policy_exceptions(tmp_path, "aws-dev", {"DM-S3-001"})


def test_a_waiver_never_lowers_what_a_risky_change_needs() -> None:
    r = report({"require": [result("DM-RISK-001", approvals=2, role="admin")]}, {"DM-RISK-001": "we trust ourselves"})
    assert [x.id for x in r.results] == ["DM-RISK-001"] and r.waived == [] and r.min_approvals() == 2


@pytest.mark.parametrize("kind", ["file", "folder", "fifo"])
def test_links_and_special_files_in_the_pack_are_refused(tmp_path: Path, kind: str) -> None:
    """OPA follows a link the digest could not see; a FIFO would hang it."""
    pack, outside = tmp_path / "policies", tmp_path / "outside"
    pack.mkdir()
    outside.mkdir()
    (pack / "main.rego").write_text("package datamcp.main\n")
    (outside / "lib.rego").write_text("package datamcp.lib\n")
    if kind == "fifo":
        __import__("os").mkfifo(pack / "pipe.rego")
    else:
        (pack / "shared").symlink_to(outside if kind == "folder" else outside / "lib.rego")
    with pytest.raises(PolicyError, match="not a plain file"):
        bundle_digest(pack)


def test_the_rule_ids_are_read_from_the_packs_rego(tmp_path: Path) -> None:
    from engine.policy.opa import pack_files, rule_ids

    (tmp_path / "a.rego").write_text('deny contains lib.finding("DM-S3-001", "high", r, "m", "x")\n')
    (tmp_path / "a_test.rego").write_text('x := "DM-TEST-999"\n')
    assert rule_ids(pack_files(tmp_path)) == {"DM-S3-001"}


@pytest.mark.parametrize("added", ["main_test.rego", "more.yaml", "sub/data.json", ".hidden.rego", "notes.txt"])
def test_the_pack_digest_covers_every_file_opa_could_load(tmp_path: Path, added: str) -> None:
    """`opa eval --data` loads test files and several data formats too: none can change unnoticed."""
    (tmp_path / "main.rego").write_text("package datamcp.main\n")
    before = bundle_digest(tmp_path)
    (tmp_path / added).parent.mkdir(exist_ok=True)
    (tmp_path / added).write_text("{}")
    assert bundle_digest(tmp_path) != before


def test_a_missing_pack_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(PolicyError):
        bundle_digest(tmp_path / "missing")


def test_unknown_values_are_shown_as_synth_shows_them() -> None:
    assert known({"a": UNKNOWN, "b": [UNKNOWN, 1], "c": "x"}) == {"a": "[unknown]", "b": ["[unknown]", 1], "c": "x"}


def test_the_pr_comment_shows_each_finding_with_its_fix() -> None:
    preview = PreviewResult(
        preview_id="p-1",
        operation_id="o-1",
        kind="update",
        stack="aws-dev",
        user="alice",
        change_summary={"update": 1},
        changes=[],
        duration_seconds=1.0,
        expires_at="2026-11-25T20:00:00+00:00",
        policy=report(
            {"deny": [result()], "require": [result("DM-R-001", approvals=2, role="admin")]},
            {"DM-W-001": "ignored on purpose"},
        ),
    )
    text = preview_markdown(preview)
    assert "#### Policy" in text
    assert "| **deny** | `DM-S3-001` | high | `data` | public | block it |" in text
    assert "(needs 2 x admin)" in text


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        ({"deny": "x"}, "the policy decision's 'deny' must be a list"),
        ({"warn": [7]}, "a warn result of the policy pack is not an object: 7"),
        ({"deny": [result(severity="huge")]}, "a deny result of the policy pack is malformed: Input should be"),
        ({"require": [result(approvals=2)]}, "require result DM-S3-001 needs `approvals` and `role`"),
        ({"require": [result(role="admin")]}, "require result DM-S3-001 needs `approvals` and `role`"),
    ],
)
def test_a_malformed_decision_says_what_is_wrong(decision: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as refused:
        report(decision)
    assert refused.value.message.startswith(message)


def test_requirements_come_from_requires_only_whatever_comes_before() -> None:
    r = report(
        {
            "deny": [result()],
            "warn": [result("DM-W-001")],
            "require": [result("DM-R-001", approvals=1, role="security")],
        }
    )
    assert [(q.role, q.approvals, q.rules) for q in r.requirements()] == [("security", 1, ["DM-R-001"])]
    assert report({"warn": [result("DM-W-001")]}).min_approvals() == 0


def test_an_exception_names_the_file_and_key_and_counts_visible_characters(tmp_path: Path) -> None:
    write_config(tmp_path, {"DM-S3-001": "abcdefghij"})  # exactly 10 visible characters
    assert policy_exceptions(tmp_path, "aws-dev", {"DM-S3-001"}) == {"DM-S3-001": "abcdefghij"}
    for reason in ("abcdefghi", " " * 12 + "abc", "\x07" * 12, "a b c d e f g h i"):
        write_config(tmp_path, {"DM-S3-001": reason})
        with pytest.raises(StackConfigInvalid) as refused:
            policy_exceptions(tmp_path, "aws-dev", {"DM-S3-001"})
        assert refused.value.details == {"file": "Pulumi.aws-dev.yaml", "key": "datamcp:policy_exceptions"}
        assert refused.value.message == (
            "Pulumi.aws-dev.yaml: datamcp:policy_exceptions.DM-S3-001: switching a rule off needs a reason of at "
            "least 10 characters"
        )
    write_config(tmp_path, {"DM-X-001": "a long enough reason"})
    with pytest.raises(StackConfigInvalid) as unknown:
        policy_exceptions(tmp_path, "aws-dev", {"DM-S3-001"})
    assert (
        unknown.value.message
        == "Pulumi.aws-dev.yaml: datamcp:policy_exceptions: 'DM-X-001' is not a rule of the policy pack"
    )
    assert unknown.value.details == {"file": "Pulumi.aws-dev.yaml", "key": "datamcp:policy_exceptions"}


@pytest.mark.parametrize("bad", [["DM-S3-001"], "a string"])
def test_exceptions_that_are_no_mapping_say_so(tmp_path: Path, bad: object) -> None:
    write_config(tmp_path, bad)
    with pytest.raises(StackConfigInvalid) as refused:
        policy_exceptions(tmp_path, "aws-dev")
    assert refused.value.message == "Pulumi.aws-dev.yaml: datamcp:policy_exceptions must map rule ids to reasons"
    assert refused.value.details == {"file": "Pulumi.aws-dev.yaml", "key": "datamcp:policy_exceptions"}


def test_a_refused_result_is_quoted_at_most_100_characters() -> None:
    with pytest.raises(PolicyError) as refused:
        report({"deny": ["x" * 300]})
    assert refused.value.message.endswith(": " + "x" * 100)
