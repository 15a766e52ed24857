"""An S3 bucket hardened by default: no public access, encryption, versioning, owner-enforced, TLS only."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from components.base import ComponentArgs, child
from components.naming import dns_label

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


class LifecycleRule(BaseModel):
    """Expire or transition objects under a prefix; noncurrent versions can expire separately."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=255)
    prefix: str = ""
    expire_after_days: int | None = Field(None, ge=1)
    noncurrent_expire_after_days: int | None = Field(None, ge=1)
    transition_to_ia_after_days: int | None = Field(None, ge=30)
    abort_incomplete_uploads_after_days: int | None = Field(7, ge=1)

    @model_validator(mode="after")
    def _does_something(self) -> LifecycleRule:
        if not any(
            (
                self.expire_after_days,
                self.noncurrent_expire_after_days,
                self.transition_to_ia_after_days,
                self.abort_incomplete_uploads_after_days,
            )
        ):
            raise ValueError(f"lifecycle rule {self.id!r} has no action")
        return self


def s3_bucket_name(*parts: str) -> str:
    """A valid, stable S3 bucket name (3-63 lowercase letters, digits, hyphens) from name parts."""
    return dns_label(*parts, max_len=63)


class StorageArgs(ComponentArgs):
    bucket_name: str | None = Field(None, description="Physical name; derived from project/stack/name if unset.")
    kms_key_arn: Any = Field(None, description="SSE-KMS with this key; SSE-S3 (AES256) when unset.")
    versioning: bool = True
    lifecycle_rules: list[LifecycleRule] = Field(default_factory=list)
    force_destroy: bool = Field(False, description="Allow deleting a non-empty bucket. Off unless asked.")
    public_access: bool = Field(
        False, description="Lift the public access block (the policy pack denies it: docs/policy-rules.md)."
    )

    @field_validator("bucket_name")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and (not _BUCKET_RE.match(value) or ".." in value or "--" in value[:4]):
            raise ValueError(f"bucket_name {value!r} is not a valid S3 bucket name (3-63 of a-z 0-9 -)")
        return value

    @model_validator(mode="after")
    def _unique_rule_ids(self) -> StorageArgs:
        ids = [r.id for r in self.lifecycle_rules]
        if len(ids) != len(set(ids)):
            raise ValueError("lifecycle rule ids must be unique")
        return self


def _lifecycle_rule(rule: LifecycleRule) -> dict[str, Any]:
    spec: dict[str, Any] = {"id": rule.id, "status": "Enabled", "filter": {"prefix": rule.prefix}}
    if rule.expire_after_days:
        spec["expiration"] = {"days": rule.expire_after_days}
    if rule.noncurrent_expire_after_days:
        spec["noncurrent_version_expiration"] = {"noncurrent_days": rule.noncurrent_expire_after_days}
    if rule.transition_to_ia_after_days:
        spec["transitions"] = [{"days": rule.transition_to_ia_after_days, "storage_class": "STANDARD_IA"}]
    if rule.abort_incomplete_uploads_after_days:
        spec["abort_incomplete_multipart_upload"] = {"days_after_initiation": rule.abort_incomplete_uploads_after_days}
    return spec


def tls_only_policy(bucket_arn: str) -> str:
    """A bucket policy that denies every request not made over TLS."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


class Storage(pulumi.ComponentResource):
    """S3 bucket with public access blocked, encryption, versioning, owner-enforced objects and TLS-only access."""

    bucket_name: pulumi.Output[str]
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: StorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:aws:Storage", name, None, opts)
        tags = args.resource_tags()
        physical = args.bucket_name or s3_bucket_name(pulumi.get_project(), pulumi.get_stack(), name)

        self.bucket = aws.s3.Bucket(
            f"{name}-bucket", bucket=physical, force_destroy=args.force_destroy, tags=tags, opts=child(self)
        )
        public_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=self.bucket.id,
            block_public_acls=not args.public_access,
            block_public_policy=not args.public_access,
            ignore_public_acls=not args.public_access,
            restrict_public_buckets=not args.public_access,
            opts=child(self),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=self.bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child(self),
        )
        sse: dict[str, Any] = (
            {"sse_algorithm": "aws:kms", "kms_master_key_id": args.kms_key_arn}
            if args.kms_key_arn is not None
            else {"sse_algorithm": "AES256"}
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[
                {"apply_server_side_encryption_by_default": sse, "bucket_key_enabled": args.kms_key_arn is not None}
            ],
            opts=child(self),
        )
        aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled" if args.versioning else "Suspended"},
            opts=child(self),
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=self.bucket.id,
            policy=self.bucket.arn.apply(tls_only_policy),
            opts=child(self, depends_on=[public_block]),
        )
        if args.lifecycle_rules:
            aws.s3.BucketLifecycleConfiguration(
                f"{name}-lifecycle",
                bucket=self.bucket.id,
                rules=[_lifecycle_rule(r) for r in args.lifecycle_rules],
                opts=child(self),
            )

        self.bucket_name = self.bucket.bucket
        self.arn = self.bucket.arn
        self.register_outputs({"bucket_name": self.bucket_name, "arn": self.arn})
