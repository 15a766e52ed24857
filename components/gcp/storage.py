"""A GCS bucket hardened by default: uniform access, public access prevention, versioning, optional CMEK."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_gcp as gcp
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from components.base import ComponentArgs, child
from components.naming import dns_label
from components.tags import gcp_labels

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$")


class GcsLifecycleRule(BaseModel):
    """Delete (or move to a colder class) objects by age or noncurrent-version count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: str = Field("Delete", pattern=r"^(Delete|SetStorageClass)$")
    storage_class: str | None = Field(None, pattern=r"^(NEARLINE|COLDLINE|ARCHIVE)$")
    age_days: int | None = Field(None, ge=1)
    num_newer_versions: int | None = Field(None, ge=1)
    matches_prefix: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _valid(self) -> GcsLifecycleRule:
        if self.age_days is None and self.num_newer_versions is None:
            raise ValueError("a lifecycle rule needs age_days or num_newer_versions")
        if (self.action == "SetStorageClass") != (self.storage_class is not None):
            raise ValueError("storage_class goes with action SetStorageClass, and only with it")
        return self


class GcsStorageArgs(ComponentArgs):
    location: str = Field("EU", description="Multi-region, dual-region or region.")
    bucket_name: str | None = None
    kms_key_name: Any = Field(None, description="CMEK: the crypto key's id; Google-managed keys when unset.")
    versioning: bool = True
    lifecycle_rules: list[GcsLifecycleRule] = Field(default_factory=list)
    force_destroy: bool = Field(False, description="Allow deleting a non-empty bucket. Off unless asked.")

    @field_validator("bucket_name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and (not _BUCKET_RE.match(value) or value.startswith("goog")):
            raise ValueError(f"bucket_name {value!r} is not a valid GCS bucket name")
        return value


class Storage(pulumi.ComponentResource):
    """GCS bucket: uniform bucket-level access, public access prevention enforced, versioning, CMEK if given."""

    bucket_name: pulumi.Output[str]
    url: pulumi.Output[str]

    def __init__(self, name: str, args: GcsStorageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:gcp:Storage", name, None, opts)
        physical = args.bucket_name or dns_label(pulumi.get_project(), pulumi.get_stack(), name, max_len=63)
        rules = []
        for r in args.lifecycle_rules:
            action: dict[str, Any] = {"type": r.action}
            if r.storage_class:
                action["storage_class"] = r.storage_class
            condition: dict[str, Any] = {}
            if r.age_days is not None:
                condition["age"] = r.age_days
            if r.num_newer_versions is not None:
                condition["num_newer_versions"] = r.num_newer_versions
            if r.matches_prefix:
                condition["matches_prefixes"] = r.matches_prefix
            rules.append({"action": action, "condition": condition})
        self.bucket = gcp.storage.Bucket(
            f"{name}-bucket",
            name=physical,
            location=args.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": args.versioning},
            encryption={"default_kms_key_name": args.kms_key_name} if args.kms_key_name is not None else None,
            lifecycle_rules=rules,
            force_destroy=args.force_destroy,
            labels=gcp_labels(args.resource_tags()),
            opts=child(self),
        )
        self.bucket_name = self.bucket.name
        self.url = self.bucket.url
        self.register_outputs({"bucket_name": self.bucket_name, "url": self.url})
