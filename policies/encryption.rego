# Encryption at rest: S3 default encryption, DynamoDB, EKS secrets envelope encryption, GKE application-layer
# secrets encryption, CloudWatch log groups. Only EKS is a deny (in prod): the other services encrypt by default.
package datamcp.rules.encryption

import data.datamcp.lib

s3_bucket_types := {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"}

sse_types := {
	"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
	"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
}

warn contains lib.finding(
	"DM-ENC-001", "medium", b,
	sprintf("S3 bucket %s has no server-side encryption configuration (AWS falls back to SSE-S3)", [b.name]),
	"Create the bucket through the Storage component (components/aws/storage.py), which adds a BucketServerSideEncryptionConfiguration (SSE-KMS when kms_key_arn is given).",
) if {
	some b in input.resources
	b.type in s3_bucket_types
	not has_sse(b)
}

has_sse(b) if b.inputs.serverSideEncryptionConfiguration

has_sse(b) if lib.has_attached(sse_types, b, "bucket")

warn contains lib.finding(
	"DM-ENC-002", "low", r,
	sprintf("DynamoDB table %s does not enable serverSideEncryption (AWS encrypts it with an AWS-owned key)", [r.name]),
	"Keep serverSideEncryption {enabled: true} on the table (components/aws/opslog.py sets it; give kms_key_arn for a customer-managed key).",
) if {
	some r in lib.resources("aws:dynamodb/table:Table")
	object.get(r.inputs, ["serverSideEncryption", "enabled"], false) != true
}

eks_unencrypted contains r if {
	some r in lib.resources("aws:eks/cluster:Cluster")
	not encrypts_secrets(r.inputs)
}

encrypts_secrets(inputs) if "secrets" in inputs.encryptionConfig.resources

eks_message(r) := sprintf("EKS cluster %s does not encrypt Kubernetes secrets with a KMS key (no encryptionConfig for \"secrets\")", [r.name])

eks_fix := "Keep the EksCluster component's encryptionConfig {resources: [secrets], provider.keyArn: <its KMS key>} (components/aws/eks.py)."

deny contains lib.finding("DM-ENC-003", "high", r, eks_message(r), eks_fix) if {
	lib.is_prod
	some r in eks_unencrypted
}

warn contains lib.finding("DM-ENC-003", "medium", r, eks_message(r), eks_fix) if {
	lib.is_dev
	some r in eks_unencrypted
}

warn contains lib.finding(
	"DM-ENC-004", "low", r,
	sprintf("GKE cluster %s has no application-layer secrets encryption (databaseEncryption); etcd uses Google-managed encryption only", [r.name]),
	"Set databaseEncryption {state: ENCRYPTED, keyName: <Cloud KMS crypto key>} on the cluster in components/gcp/gke.py.",
) if {
	some r in lib.resources("gcp:container/cluster:Cluster")
	object.get(r.inputs, ["databaseEncryption", "state"], "DECRYPTED") != "ENCRYPTED"
}

warn contains lib.finding(
	"DM-ENC-005", "low", r,
	sprintf("CloudWatch log group %s is not encrypted with a KMS key (CloudWatch encrypts it with a service key)", [r.name]),
	"Set kmsKeyId on the LogGroup (a customer-managed key whose policy allows the logs service) in the component that creates it.",
) if {
	some r in lib.resources("aws:cloudwatch/logGroup:LogGroup")
	not r.inputs.kmsKeyId
}
