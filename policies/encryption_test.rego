package datamcp.rules.encryption_test

import data.datamcp.rules.encryption
import data.datamcp.testing as t

bucket := t.resource("aws:s3/bucket:Bucket", "data-bucket", {"bucket": "d", "tags": t.tags})

sse := t.depends(t.resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "data-encryption", {"bucket": "[unknown]", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}), bucket)

test_s3_bucket_with_encryption_configuration_passes if {
	results := encryption.warn with input as t.doc("prod", [bucket, sse])
	count(results) == 0
}

test_s3_bucket_with_inline_encryption_passes if {
	legacy := t.resource("aws:s3/bucket:Bucket", "legacy", {"bucket": "l", "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}}})
	results := encryption.warn with input as t.doc("prod", [legacy])
	count(results) == 0
}

test_s3_bucket_without_encryption_configuration_warned if {
	results := encryption.warn with input as t.doc("prod", [bucket])
	t.fired(results, "DM-ENC-001", "data-bucket")
}

test_s3_encryption_matched_by_bucket_name if {
	by_name := t.resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "encryption", {"bucket": "d", "rules": []})
	results := encryption.warn with input as t.doc("prod", [bucket, by_name])
	count(results) == 0
}

test_s3_encryption_covers_only_its_own_bucket if {
	other := t.resource("aws:s3/bucket:Bucket", "other-bucket", {"bucket": "o", "tags": t.tags})
	results := encryption.warn with input as t.doc("prod", [bucket, sse, other])
	count(results) == 1
	t.fired(results, "DM-ENC-001", "other-bucket")
}

test_s3_unknown_bucket_name_matches_no_encryption if {
	unnamed := t.resource("aws:s3/bucket:Bucket", "unnamed", {"bucket": "[unknown]", "tags": t.tags})
	loose := t.resource("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "loose", {"bucket": "[unknown]", "rules": []})
	results := encryption.warn with input as t.doc("prod", [unnamed, loose])
	t.fired(results, "DM-ENC-001", "unnamed")
}

table(sse) := t.resource("aws:dynamodb/table:Table", "ops-log-table", {"name": "mcp_ops_log", "serverSideEncryption": sse, "tags": t.tags})

test_dynamodb_encryption_enabled_passes if {
	results := encryption.warn with input as t.doc("prod", [table({"enabled": true})])
	count(results) == 0
}

test_dynamodb_encryption_disabled_warned if {
	results := encryption.warn with input as t.doc("prod", [table({"enabled": false})])
	t.fired(results, "DM-ENC-002", "ops-log-table")
}

eks(inputs) := t.resource("aws:eks/cluster:Cluster", "eks-cluster", object.union({"name": "c", "tags": t.tags}, inputs))

encrypted := {"encryptionConfig": {"provider": {"keyArn": "[unknown]"}, "resources": ["secrets"]}}

test_eks_with_secrets_encryption_passes if {
	denied := encryption.deny with input as t.doc("prod", [eks(encrypted)])
	warned := encryption.warn with input as t.doc("dev", [eks(encrypted)])
	count(denied) + count(warned) == 0
}

test_eks_without_secrets_encryption_denied_in_prod if {
	results := encryption.deny with input as t.doc("prod", [eks({})])
	t.fired(results, "DM-ENC-003", "eks-cluster")
	some r in results
	r.severity == "high"
}

test_eks_without_secrets_encryption_warned_in_dev if {
	denied := encryption.deny with input as t.doc("dev", [eks({})])
	warned := encryption.warn with input as t.doc("dev", [eks({})])
	count(denied) == 0
	t.fired(warned, "DM-ENC-003", "eks-cluster")
}

gke(inputs) := t.resource("gcp:container/cluster:Cluster", "gke-cluster", object.union({"name": "g", "resourceLabels": t.tags}, inputs))

test_gke_with_database_encryption_passes if {
	results := encryption.warn with input as t.doc("prod", [gke({"databaseEncryption": {"state": "ENCRYPTED", "keyName": "k"}})])
	count(results) == 0
}

test_gke_without_database_encryption_warned if {
	results := encryption.warn with input as t.doc("prod", [gke({})])
	t.fired(results, "DM-ENC-004", "gke-cluster")
}

test_log_group_with_kms_key_passes if {
	group := t.resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"name": "/x", "kmsKeyId": "[unknown]", "tags": t.tags})
	results := encryption.warn with input as t.doc("prod", [group])
	count(results) == 0
}

test_log_group_without_kms_key_warned if {
	group := t.resource("aws:cloudwatch/logGroup:LogGroup", "logs", {"name": "/x", "tags": t.tags})
	results := encryption.warn with input as t.doc("prod", [group])
	t.fired(results, "DM-ENC-005", "logs")
}
