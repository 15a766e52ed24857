package datamcp.rules.data_protection_test

import data.datamcp.rules.data_protection
import data.datamcp.testing as t

table(inputs) := t.resource("aws:dynamodb/table:Table", "ops-log-table", object.union({"name": "mcp_ops_log", "tags": t.tags}, inputs))

protected_table := table({"deletionProtectionEnabled": true, "pointInTimeRecovery": {"enabled": true}})

test_protected_table_passes_in_prod if {
	results := data_protection.deny with input as t.doc("prod", [protected_table])
	count(results) == 0
}

test_table_without_deletion_protection_denied_in_prod if {
	results := data_protection.deny with input as t.doc("prod", [table({"deletionProtectionEnabled": false, "pointInTimeRecovery": {"enabled": true}})])
	t.ids(results) == {"DM-DATA-001"}
}

test_table_without_deletion_protection_warned_in_dev if {
	doc := t.doc("dev", [table({"deletionProtectionEnabled": false, "pointInTimeRecovery": {"enabled": true}})])
	denied := data_protection.deny with input as doc
	warned := data_protection.warn with input as doc
	count(denied) == 0
	t.ids(warned) == {"DM-DATA-001"}
	every r in warned {
		r.severity == "low"
	}
}

test_table_without_point_in_time_recovery_denied_in_prod if {
	results := data_protection.deny with input as t.doc("prod", [table({"deletionProtectionEnabled": true})])
	t.ids(results) == {"DM-DATA-002"}
}

test_table_without_point_in_time_recovery_warned_in_dev if {
	results := data_protection.warn with input as t.doc("dev", [table({"deletionProtectionEnabled": true, "pointInTimeRecovery": {"enabled": false}})])
	t.ids(results) == {"DM-DATA-002"}
}

gke(inputs) := t.resource("gcp:container/cluster:Cluster", "gke-cluster", object.union({"name": "g", "resourceLabels": t.tags}, inputs))

test_gke_deletion_protection_on_or_default_passes if {
	results := data_protection.deny with input as t.doc("prod", [gke({"deletionProtection": true}), gke({})])
	count(results) == 0
}

test_gke_deletion_protection_off_denied_in_prod_warned_in_dev if {
	denied := data_protection.deny with input as t.doc("prod", [gke({"deletionProtection": false})])
	warned := data_protection.warn with input as t.doc("dev", [gke({"deletionProtection": false})])
	t.fired(denied, "DM-DATA-003", "gke-cluster")
	t.fired(warned, "DM-DATA-003", "gke-cluster")
}

test_bucket_force_destroy_denied_in_prod_warned_in_dev if {
	s3 := t.resource("aws:s3/bucket:Bucket", "s3", {"bucket": "d", "forceDestroy": true})
	gcs := t.resource("gcp:storage/bucket:Bucket", "gcs", {"name": "d", "forceDestroy": true})
	denied := data_protection.deny with input as t.doc("prod", [s3, gcs])
	warned := data_protection.warn with input as t.doc("dev", [s3, gcs])
	t.fired(denied, "DM-DATA-004", "s3")
	t.fired(denied, "DM-DATA-004", "gcs")
	t.fired(warned, "DM-DATA-004", "s3")
	every r in denied {
		r.severity == "medium"
	}
}

test_bucket_without_force_destroy_passes if {
	results := data_protection.deny with input as t.doc("prod", [t.resource("aws:s3/bucket:Bucket", "s3", {"bucket": "d", "forceDestroy": false})])
	count(results) == 0
}
