from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from components.aws import (
    LifecycleRule,
    OpsLogTable,
    OpsLogTableArgs,
    StateBackend,
    StateBackendArgs,
    Storage,
    StorageArgs,
)
from engine.mocks import ProgramRun

Run = Callable[..., ProgramRun]


def storage(mock_run: Run, **args: object) -> ProgramRun:
    return mock_run(lambda: Storage("data", StorageArgs(**args)), stack="aws-dev")  # type: ignore[arg-type]


def test_bucket_is_private_encrypted_versioned_and_tls_only(mock_run: Run) -> None:
    run = storage(mock_run)
    bucket = run.one("aws:s3/bucket:Bucket")
    assert bucket.raw_inputs["forceDestroy"] is False
    block = run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").raw_inputs
    assert all(
        block[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    sse = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    assert sse.raw_inputs["rules"][0]["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    versioning = run.one("aws:s3/bucketVersioning:BucketVersioning").raw_inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    ownership = run.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls").raw_inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    policy = json.loads(run.one("aws:s3/bucketPolicy:BucketPolicy").raw_inputs["policy"])
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert statement["Resource"] == [bucket.outputs["arn"], bucket.outputs["arn"] + "/*"]
    assert not run.of_type("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    outputs = run.one("datamcp:aws:Storage").outputs
    assert outputs == {"bucket_name": bucket.outputs["bucket"], "arn": bucket.outputs["arn"]}


def test_kms_key_switches_to_sse_kms(mock_run: Run) -> None:
    run = storage(mock_run, kms_key_arn="arn:aws:kms:us-east-1:123456789012:key/abc")
    rule = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").raw_inputs[
        "rules"
    ][0]
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": "arn:aws:kms:us-east-1:123456789012:key/abc",
    }
    assert rule["bucketKeyEnabled"] is True


def test_lifecycle_rules_and_force_destroy_only_when_asked(mock_run: Run) -> None:
    rules = [LifecycleRule(id="logs", prefix="logs/", expire_after_days=30, noncurrent_expire_after_days=7)]
    run = storage(mock_run, lifecycle_rules=rules, force_destroy=True)
    assert run.one("aws:s3/bucket:Bucket").raw_inputs["forceDestroy"] is True
    lifecycle = run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").raw_inputs["rules"]
    assert lifecycle == [
        {
            "id": "logs",
            "status": "Enabled",
            "filter": {"prefix": "logs/"},
            "expiration": {"days": 30},
            "noncurrentVersionExpiration": {"noncurrentDays": 7},
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7},
        }
    ]


def test_bucket_names_are_derived_and_valid(mock_run: Run) -> None:
    run = mock_run(lambda: Storage("Very_Long_Name_" + "x" * 60, StorageArgs()), stack="aws-prod")
    name = run.one("aws:s3/bucket:Bucket").raw_inputs["bucket"]
    assert len(name) <= 63 and name == name.lower() and "_" not in name


@pytest.mark.parametrize("bad", ["UPPER", "ab", "-lead", "trail-", "a" * 64, "has_underscore"])
def test_invalid_bucket_names_are_rejected(bad: str) -> None:
    with pytest.raises(ValidationError, match="not a valid S3 bucket name"):
        StorageArgs(bucket_name=bad)


def test_lifecycle_rule_validation() -> None:
    with pytest.raises(ValidationError, match="has no action"):
        LifecycleRule(id="x", abort_incomplete_uploads_after_days=None)
    with pytest.raises(ValidationError, match="unique"):
        StorageArgs(lifecycle_rules=[LifecycleRule(id="a", expire_after_days=1)] * 2)


def test_ops_log_table_keys_billing_pitr_encryption(mock_run: Run) -> None:
    run = mock_run(lambda: OpsLogTable("ops", OpsLogTableArgs()), stack="aws-dev")
    table = run.one("aws:dynamodb/table:Table")
    t = table.raw_inputs
    assert t["name"] == "mcp_ops_log"
    assert (t["hashKey"], t["rangeKey"]) == ("pk", "sk")
    assert t["billingMode"] == "PAY_PER_REQUEST"
    assert t["pointInTimeRecovery"] == {"enabled": True}
    assert t["serverSideEncryption"] == {"enabled": True}
    assert t["deletionProtectionEnabled"] is False
    assert {i["name"]: (i["hashKey"], i["rangeKey"]) for i in t["globalSecondaryIndexes"]} == {
        "by_stack": ("stack", "ts_seq"),
        "by_user": ("user", "ts_seq"),
        "by_seq": ("chain", "seq"),
    }
    assert table.protect is False


def test_ops_log_table_in_prod_is_protected(mock_run: Run) -> None:
    run = mock_run(lambda: OpsLogTable("ops", OpsLogTableArgs(table_name="ops_prod", deletion_protection=True)))
    table = run.one("aws:dynamodb/table:Table")
    assert table.raw_inputs["deletionProtectionEnabled"] is True
    assert table.protect is True
    with pytest.raises(ValidationError, match="should match pattern"):
        OpsLogTableArgs(table_name="x")


def test_state_backend_prints_the_exact_strings(mock_run: Run) -> None:
    run = mock_run(
        lambda: StateBackend("state", StateBackendArgs(bucket_name="acme-pulumi-state", key_alias="acme/pulumi")),
        stack="ops",
    )
    outputs = run.one("datamcp:aws:StateBackend").outputs
    assert outputs["backend_url"] == "s3://acme-pulumi-state?region=us-east-1"
    assert outputs["secrets_provider"] == "awskms://alias/acme/pulumi?region=us-east-1"
    key = run.one("aws:kms/key:Key")
    assert key.protect is True and key.inputs["enableKeyRotation"] is True
    assert run.one("aws:kms/alias:Alias").raw_inputs["name"] == "alias/acme/pulumi"
    sse = run.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").raw_inputs[
        "rules"
    ][0]["applyServerSideEncryptionByDefault"]
    assert sse == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key.outputs["arn"]}
    assert run.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").raw_inputs["blockPublicPolicy"] is True
    assert run.one("datamcp:aws:Storage").parent == run.one("datamcp:aws:StateBackend").urn
