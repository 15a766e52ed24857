# Risk: any change to an identity or permission (AWS IAM, GCP service accounts and IAM members/bindings/policies,
# EKS access entries, Kubernetes RBAC) needs a security approver.
package datamcp.rules.iam_changes

import data.datamcp.lib

iam_type(type) if {
	some prefix in lib.config.iam_type_prefixes
	startswith(type, prefix)
}

# GCP's per-resource IAM types: gcp:storage/bucketIAMMember:BucketIAMMember, gcp:kms/cryptoKeyIAMBinding:..., ...
iam_type(type) if {
	startswith(type, "gcp:")
	parts := split(type, ":")
	contains(parts[count(parts) - 1], "IAM")
}

require contains lib.approval(
	"DM-RISK-002", "high", change.urn, 1, "security",
	sprintf("%s of IAM resource %s %s", [change.op, change.type, change.name]),
	"A security approver reviews the permission change in the preview and approves it.",
) if {
	some change in input.changes
	iam_type(change.type)
}
