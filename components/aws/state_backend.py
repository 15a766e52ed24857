"""What an operator needs to leave the local backend: an S3 state bucket and a KMS key for `awskms://`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pydantic import Field

from components.aws.storage import LifecycleRule, Storage, StorageArgs, s3_bucket_name
from components.base import ComponentArgs, child
from components.naming import physical_name


class StateBackendArgs(ComponentArgs):
    bucket_name: str | None = Field(None, description="State bucket; derived from project/stack/name if unset.")
    key_alias: str | None = Field(None, pattern=r"^[A-Za-z0-9/_-]{1,200}$", description="KMS alias (no 'alias/').")
    noncurrent_state_days: int = Field(90, ge=1, description="How long old state versions are kept.")


class StateBackend(pulumi.ComponentResource):
    """Outputs `backend_url` and `secrets_provider`: the exact strings for DATAMCP_BACKEND_URL and ..._PROVIDER."""

    backend_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]

    def __init__(self, name: str, args: StateBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:aws:StateBackend", name, None, opts)
        tags = args.resource_tags()
        alias = args.key_alias or physical_name(
            pulumi.get_project(), pulumi.get_stack(), name, "secrets", max_len=200, invalid=r"[^A-Za-z0-9/_-]"
        )
        self.key = aws.kms.Key(
            f"{name}-secrets-key",
            description="Pulumi secrets provider key",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            tags=tags,
            opts=child(self, protect=True),
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias", name=f"alias/{alias}", target_key_id=self.key.key_id, opts=child(self)
        )
        self.storage = Storage(
            f"{name}-state",
            StorageArgs(
                bucket_name=args.bucket_name or s3_bucket_name(pulumi.get_project(), pulumi.get_stack(), name),
                kms_key_arn=self.key.arn,
                lifecycle_rules=[
                    LifecycleRule(id="expire-old-state", noncurrent_expire_after_days=args.noncurrent_state_days)
                ],
                tags=args.tags,
            ),
            opts=child(self),
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.bucket_name = self.storage.bucket_name
        self.key_arn = self.key.arn
        self.backend_url = pulumi.Output.concat("s3://", self.storage.bucket_name, "?region=", region)
        self.secrets_provider = pulumi.Output.concat("awskms://alias/", alias, "?region=", region)
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "key_arn": self.key_arn,
                "backend_url": self.backend_url,
                "secrets_provider": self.secrets_provider,
            }
        )
