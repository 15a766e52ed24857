"""The DynamoDB table behind the engine's DynamoDB audit store (`mcp_ops_log`).

Key design (the audit store in engine/audit/dynamodb.py reads and writes exactly this):
- `pk` (S) = "OP#<operation id>", `sk` (S) = "SEQ#<20-digit chain sequence>": every audit record is an immutable
  item; an operation's current state is its item with the highest `sk`.
- GSI `by_stack`: `stack` (S) + `ts_seq` (S, "<start ISO-8601>#<seq>"), per-stack history newest first.
- GSI `by_user`: `user` (S) + `ts_seq`, per-user history.
- GSI `by_seq`: `chain` (S, one chain name) + `seq` (N), the hash chain in order for `verify()`.
All GSIs project every attribute; records are small (bounded stdout/stderr).
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.base import ComponentArgs, child

KEY_SCHEMA = {"hash_key": "pk", "range_key": "sk"}
ATTRIBUTES = {"pk": "S", "sk": "S", "stack": "S", "user": "S", "ts_seq": "S", "chain": "S", "seq": "N"}
INDEXES = {"by_stack": ("stack", "ts_seq"), "by_user": ("user", "ts_seq"), "by_seq": ("chain", "seq")}


class OpsLogTableArgs(ComponentArgs):
    table_name: str = Field("mcp_ops_log", pattern=r"^[A-Za-z0-9_.-]{3,255}$")
    kms_key_arn: str | None = Field(None, description="Customer-managed key; the AWS-owned key when unset.")
    deletion_protection: bool = Field(False, description="On in prod: the table cannot be deleted by accident.")
    point_in_time_recovery: bool = True


class OpsLogTable(pulumi.ComponentResource):
    """On-demand DynamoDB table with PITR, encryption and the audit store's keys and indexes."""

    name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: OpsLogTableArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:aws:OpsLogTable", name, None, opts)
        sse: dict[str, object] = {"enabled": True}
        if args.kms_key_arn:
            sse["kms_key_arn"] = args.kms_key_arn
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.table_name,
            billing_mode="PAY_PER_REQUEST",
            hash_key=KEY_SCHEMA["hash_key"],
            range_key=KEY_SCHEMA["range_key"],
            attributes=[{"name": n, "type": t} for n, t in ATTRIBUTES.items()],
            global_secondary_indexes=[
                {"name": index, "hash_key": h, "range_key": r, "projection_type": "ALL"}
                for index, (h, r) in INDEXES.items()
            ],
            point_in_time_recovery={"enabled": args.point_in_time_recovery},
            server_side_encryption=sse,
            deletion_protection_enabled=args.deletion_protection,
            tags=args.resource_tags(),
            opts=child(self, protect=args.deletion_protection),
        )
        self.name = self.table.name
        self.arn = self.table.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
