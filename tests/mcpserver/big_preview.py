"""A saved preview of 1,000 changed resources (property diffs, policy findings, waivers, diagnostics), as the engine
stores it: what the paging and size tests of the preview tools read."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from engine.policy.report import PolicyReport, PolicyResult, Waiver
from engine.previews import Digests, PreviewRecord, PreviewStore
from engine.results import Diagnostic, PreviewResult, ResourceChange
from engine.vocabulary import ChangeOp

PREVIEW_ID = "big-preview-0001"
STACK = "aws-dev"
CHANGES = 1_000
WIDE_EVERY = 100  # every 100th resource changes 300 properties: more than one get_change answer holds
GROUPS = ("datamcp:aws:Network", "datamcp:aws:Storage")
TYPES = (
    "aws:s3/bucketV2:BucketV2",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:iam/role:Role",
    "aws:rds/instance:Instance",
)
OPS = (ChangeOp.CREATE,) * 12 + (ChangeOp.UPDATE,) * 5 + (ChangeOp.REPLACE,) * 2 + (ChangeOp.DELETE,)


def urn(i: int) -> str:
    return f"urn:pulumi:{STACK}::datamcp::{GROUPS[i % 2]}${TYPES[i % 5]}::res-{i:04d}-{'x' * 40}"


def change(i: int) -> ResourceChange:
    op = OPS[i % len(OPS)]
    keys = [f"prop{k:03d}" for k in range(300 if i % WIDE_EVERY == 0 else 12)]
    return ResourceChange(
        urn=urn(i),
        type=TYPES[i % 5],
        op=op,
        changed_keys=keys,
        replace_keys=keys[:2] if op == ChangeOp.REPLACE else [],
        detailed_diff={k: "update" for k in keys} if op == ChangeOp.UPDATE else {},
        parent=f"urn:pulumi:{STACK}::datamcp::{GROUPS[i % 2]}::main",
    )


def property_diff(c: ResourceChange) -> dict[str, dict[str, Any]]:
    """Masked as the engine stores it: the password is `[secret]` on both sides."""
    diff: dict[str, dict[str, Any]] = {
        key: {"old": None if c.op == ChangeOp.CREATE else f"old-{key}-" + "o" * 300, "new": f"new-{key}-" + "n" * 300}
        for key in c.changed_keys
    }
    diff["password"] = {"old": "[secret]", "new": "[secret]"}
    return diff


def findings(changes: list[ResourceChange]) -> list[PolicyResult]:
    """Denies first (three public buckets), then the two approvals every database delete needs, then a warning on
    every bucket, as the policy pack orders its decision."""
    buckets = [c for c in changes if c.type == TYPES[0]]
    deletes = [c for c in changes if c.op == ChangeOp.DELETE and c.type == TYPES[4]]
    deny = [
        PolicyResult(
            id="DM-PUBLIC-001",
            decision="deny",
            severity="critical",
            urn=c.urn,
            message="public bucket " * 10,
            remediation="set public_access false " * 10,
        )
        for c in buckets[:3]
    ]
    require = [
        PolicyResult(
            id="DM-RISK-001",
            decision="require",
            severity="high",
            urn=c.urn,
            message="stateful delete",
            remediation="two people approve",
            approvals=2,
            role="approver",
        )
        for c in deletes
    ]
    warn = [
        PolicyResult(
            id="DM-S3-002",
            decision="warn",
            severity="low",
            urn=c.urn,
            message="no lifecycle rule " * 20,
            remediation="add a lifecycle rule " * 20,
        )
        for c in buckets
    ]
    return deny + require + warn


def build() -> PreviewRecord:
    changes = [change(i) for i in range(CHANGES)]
    summary = dict(Counter(c.op for c in changes)) | {"same": 40}
    report = PolicyReport(
        input_schema_version=1,
        pack_digest="d" * 64,
        results=findings(changes),
        waived=[Waiver(id="DM-TAG-001", reason="tags come later", urn=c.urn, message="untagged") for c in changes[:60]],
    )
    now = time.time()
    result = PreviewResult(
        preview_id=PREVIEW_ID,
        operation_id="op-big-preview-0001",
        kind="update",
        stack=STACK,
        user="alice",
        change_summary=summary,
        changes=sorted(changes, key=lambda c: c.urn),
        diagnostics=[
            Diagnostic(severity="warning", message="deprecated argument " * 10, urn=c.urn) for c in changes[:80]
        ],
        policy=report,
        duration_seconds=12.5,
        expires_at="2099-01-01T00:00:00+00:00",
    )
    return PreviewRecord(
        preview_id=PREVIEW_ID,
        stack=STACK,
        user="alice",
        created_at="2027-01-15T08:00:00+00:00",
        created_epoch=now,
        expires_epoch=int(now) + 3600,
        operation_id=result.operation_id,
        digests=Digests(program="p" * 64, config="c" * 64, state="s" * 64, policy="d" * 64),
        change_summary=summary,
        result=result.model_dump(),
        property_diffs={c.urn: property_diff(c) for c in changes},
        policy=report,
    )


def save(state_dir: Path) -> PreviewRecord:
    """The preview, saved where an engine on `state_dir` reads previews."""
    record = build()
    PreviewStore(state_dir / "previews").save(record)
    return record
