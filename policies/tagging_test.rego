package datamcp.rules.tagging_test

import data.datamcp.rules.tagging
import data.datamcp.testing as t

test_tagged_aws_resources_pass if {
	vpc := t.resource("aws:ec2/vpc:Vpc", "network-vpc", {"cidrBlock": "10.0.0.0/16", "tags": object.union(t.tags, {"Name": "v"})})
	assoc := t.resource("aws:ec2/routeTableAssociation:RouteTableAssociation", "rta", {"routeTableId": "[unknown]"})
	results := tagging.deny with input as t.doc("prod", [vpc, assoc])
	count(results) == 0
}

test_aws_resource_missing_a_tag_denied if {
	vpc := t.resource("aws:ec2/vpc:Vpc", "network-vpc", {"tags": {"project": "datamcp", "stack": "s"}})
	results := tagging.deny with input as t.doc("dev", [vpc])
	t.fired(results, "DM-TAG-001", "network-vpc")
	some r in results
	contains(r.message, "managed-by")
}

test_taggable_aws_type_without_tags_denied if {
	table := t.resource("aws:dynamodb/table:Table", "ops-log-table", {"name": "t"})
	results := tagging.deny with input as t.doc("dev", [table])
	some r in results
	r.id == "DM-TAG-001"
	contains(r.message, "managed-by, project, stack")
}

test_unlisted_aws_type_with_tags_checked if {
	queue := t.resource("aws:sqs/queue:Queue", "q", {"tags": {}})
	results := tagging.deny with input as t.doc("dev", [queue])
	t.fired(results, "DM-TAG-001", "q")
}

test_unknown_tags_not_judged if {
	vpc := t.resource("aws:ec2/vpc:Vpc", "network-vpc", {"tags": "[unknown]"})
	results := tagging.deny with input as t.doc("dev", [vpc])
	count(results) == 0
}

test_labelled_gcp_resources_pass if {
	bucket := t.resource("gcp:storage/bucket:Bucket", "b", {"labels": t.tags})
	pool := t.resource("gcp:container/nodePool:NodePool", "p", {"nodeConfig": {"resourceLabels": t.tags}})
	network := t.resource("gcp:compute/network:Network", "n", {"name": "n"})
	results := tagging.deny with input as t.doc("prod", [bucket, pool, network])
	count(results) == 0
}

test_gcp_resource_missing_labels_denied if {
	cluster := t.resource("gcp:container/cluster:Cluster", "gke-cluster", {"resourceLabels": {"project": "datamcp"}})
	pool := t.resource("gcp:container/nodePool:NodePool", "pool", {"nodeConfig": {}})
	results := tagging.deny with input as t.doc("prod", [cluster, pool])
	t.fired(results, "DM-TAG-002", "gke-cluster")
	t.fired(results, "DM-TAG-002", "pool")
}
