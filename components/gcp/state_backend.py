"""What an operator needs to leave the local backend on GCP: a GCS state bucket and a KMS key for `gcpkms://`."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
from pydantic import Field

from components.base import ComponentArgs, child
from components.gcp.storage import GcsLifecycleRule, GcsStorageArgs, Storage
from components.naming import dns_label


class GcpStateBackendArgs(ComponentArgs):
    location: str = Field("europe-west1", description="Region of the key ring and the bucket.")
    bucket_name: str | None = None
    key_ring_name: str | None = Field(None, pattern=r"^[a-zA-Z0-9_-]{1,63}$")
    rotation_period_days: int = Field(90, ge=1)
    noncurrent_versions_kept: int = Field(20, ge=1)


class StateBackend(pulumi.ComponentResource):
    """Outputs `backend_url` (gs://...) and `secrets_provider` (gcpkms://...), exactly as DATAMCP_* expects them."""

    backend_url: pulumi.Output[str]
    secrets_provider: pulumi.Output[str]

    def __init__(self, name: str, args: GcpStateBackendArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:gcp:StateBackend", name, None, opts)
        ring_name = args.key_ring_name or dns_label(pulumi.get_project(), pulumi.get_stack(), name, max_len=63)
        ring = gcp.kms.KeyRing(f"{name}-ring", name=ring_name, location=args.location, opts=child(self, protect=True))
        self.key = gcp.kms.CryptoKey(
            f"{name}-key",
            name="pulumi-secrets",
            key_ring=ring.id,
            purpose="ENCRYPT_DECRYPT",
            rotation_period=f"{args.rotation_period_days * 86400}s",
            opts=child(self, protect=True),
        )
        # The bucket's CMEK is used by Cloud Storage's service agent, which needs encrypt/decrypt on the key.
        agent = gcp.storage.get_project_service_account_output(opts=pulumi.InvokeOutputOptions(parent=self))
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-gcs-agent",
            crypto_key_id=self.key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=agent.member,
            opts=child(self),
        )
        self.storage = Storage(
            f"{name}-state",
            GcsStorageArgs(
                location=args.location,
                bucket_name=args.bucket_name,
                kms_key_name=self.key.id,
                lifecycle_rules=[GcsLifecycleRule(num_newer_versions=args.noncurrent_versions_kept)],
                tags=args.tags,
            ),
            opts=child(self, depends_on=[grant]),
        )
        self.backend_url = pulumi.Output.concat("gs://", self.storage.bucket_name)
        self.secrets_provider = pulumi.Output.concat("gcpkms://", self.key.id)
        self.register_outputs(
            {
                "bucket_name": self.storage.bucket_name,
                "key_id": self.key.id,
                "backend_url": self.backend_url,
                "secrets_provider": self.secrets_provider,
            }
        )
