package datamcp.rules.iam_changes_test

import data.datamcp.rules.iam_changes
import data.datamcp.testing as t

test_iam_changes_require_security if {
	changes := [
		t.change("aws:iam/role:Role", "eks-node-role", "update"),
		t.change("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "eks-node-AmazonEKS_CNI_Policy", "delete"),
		t.change("gcp:serviceaccount/account:Account", "gke-nodes", "create"),
		t.change("gcp:projects/iAMMember:IAMMember", "gke-nodes-artifactregistry-reader", "replace"),
		t.change("gcp:storage/bucketIAMMember:BucketIAMMember", "reader", "create"),
		t.change("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding", "admins", "create"),
		t.change("aws:eks/accessEntry:AccessEntry", "ci", "create"),
	]
	results := iam_changes.require with input as t.change_doc("dev", "update", changes)
	count(results) == 7
	every r in results {
		r.id == "DM-RISK-002"
		r.approvals == 1
		r.role == "security"
	}
}

test_non_iam_changes_need_nothing if {
	changes := [
		t.change("aws:s3/bucket:Bucket", "data-bucket", "update"),
		t.change("gcp:container/cluster:Cluster", "gke-cluster", "update"),
		t.change("aws:kms/key:Key", "k", "create"),
	]
	results := iam_changes.require with input as t.change_doc("prod", "update", changes)
	count(results) == 0
}

test_synth_has_no_changes_to_judge if {
	results := iam_changes.require with input as t.doc("prod", [t.resource("aws:iam/role:Role", "r", {"tags": t.tags})])
	count(results) == 0
}
