package datamcp.rules.stateful_changes_test

import data.datamcp.rules.stateful_changes
import data.datamcp.testing as t

test_stateful_replace_requires_two_admins if {
	replace := object.union(t.change("aws:dynamodb/table:Table", "ops-log-table", "replace"), {"replace_keys": ["name"]})
	results := stateful_changes.require with input as t.change_doc("prod", "update", [replace])
	t.fired(results, "DM-RISK-001", "ops-log-table")
	some r in results
	r.approvals == 2
	r.role == "admin"
	r.severity == "critical"
	contains(r.message, "forced by name")
}

test_stateful_delete_requires_two_admins_in_dev_too if {
	changes := [
		t.change("gcp:storage/bucket:Bucket", "data-bucket", "delete"),
		t.change("gcp:container/nodePool:NodePool", "gke-pool-default", "delete"),
		t.change("aws:kms/key:Key", "eks-secrets-key", "delete"),
	]
	results := stateful_changes.require with input as t.change_doc("dev", "update", changes)
	count(results) == 3
	every r in results {
		r.id == "DM-RISK-001"
		r.severity == "high"
	}
}

test_stateful_create_or_update_needs_nothing if {
	changes := [
		t.change("aws:s3/bucket:Bucket", "data-bucket", "update"),
		t.change("aws:eks/cluster:Cluster", "eks-cluster", "create"),
	]
	results := stateful_changes.require with input as t.change_doc("prod", "update", changes)
	count(results) == 0
}

test_stateless_replace_needs_nothing if {
	results := stateful_changes.require with input as t.change_doc("prod", "update", [t.change("aws:ec2/routeTable:RouteTable", "rt", "replace")])
	count(results) == 0
}

test_prod_destroy_requires_two_admins_stack_wide if {
	results := stateful_changes.require with input as t.change_doc("prod", "destroy", [t.change("aws:ec2/vpc:Vpc", "network-vpc", "delete")])
	some r in results
	r.id == "DM-RISK-003"
	r.urn == null
	r.approvals == 2
	r.role == "admin"
}

test_dev_destroy_has_no_stack_wide_requirement if {
	results := stateful_changes.require with input as t.change_doc("dev", "destroy", [t.change("aws:ec2/vpc:Vpc", "network-vpc", "delete")])
	count(results) == 0
}
