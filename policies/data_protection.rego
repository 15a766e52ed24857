# Stateful resources survive mistakes: deletion protection, point-in-time recovery, no force-destroy of buckets.
# Each rule is a deny in prod and a warn in dev (where throw-away data is the point).
package datamcp.rules.data_protection

import data.datamcp.lib

violations contains [
	"DM-DATA-001", r,
	sprintf("DynamoDB table %s has deletion protection off", [r.name]),
	"Set datamcp:ops_log.deletion_protection: true in the stack config.",
] if {
	some r in lib.resources("aws:dynamodb/table:Table")
	object.get(r.inputs, "deletionProtectionEnabled", false) != true
}

violations contains [
	"DM-DATA-002", r,
	sprintf("DynamoDB table %s has point-in-time recovery off", [r.name]),
	"Keep pointInTimeRecovery {enabled: true} on the table (the OpsLogTable component's point_in_time_recovery, on by default).",
] if {
	some r in lib.resources("aws:dynamodb/table:Table")
	object.get(r.inputs, ["pointInTimeRecovery", "enabled"], false) != true
}

# GKE's deletionProtection defaults to true when unset.
violations contains [
	"DM-DATA-003", r,
	sprintf("GKE cluster %s has deletion protection off", [r.name]),
	"Set datamcp:cluster.deletion_protection: true in the stack config.",
] if {
	some r in lib.resources("gcp:container/cluster:Cluster")
	r.inputs.deletionProtection == false
}

violations contains [
	"DM-DATA-004", r,
	sprintf("bucket %s has forceDestroy on: deleting it deletes every object in it", [r.name]),
	"Set datamcp:storage.force_destroy: false in the stack config.",
] if {
	some r in input.resources
	r.type in {"aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2", "gcp:storage/bucket:Bucket"}
	r.inputs.forceDestroy == true
}

prod_severity := {"DM-DATA-001": "high", "DM-DATA-002": "high", "DM-DATA-003": "high", "DM-DATA-004": "medium"}

deny contains lib.finding(id, prod_severity[id], r, message, fix) if {
	lib.is_prod
	some [id, r, message, fix] in violations
}

warn contains lib.finding(id, "low", r, message, fix) if {
	lib.is_dev
	some [id, r, message, fix] in violations
}
