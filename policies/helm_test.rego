package datamcp.rules.helm_test

import data.datamcp.rules.helm
import data.datamcp.testing as t

release(inputs) := t.resource("kubernetes:helm.sh/v3:Release", "argocd-helm-release", object.union(
	{"chart": "argo-cd", "name": "argocd", "namespace": "argocd", "repositoryOpts": {"repo": "https://argoproj.github.io/argo-helm"}},
	inputs,
))

test_exact_version_from_allowed_repository_passes if {
	results := helm.deny with input as t.doc("prod", [release({"version": "7.7.11"}), release({"version": "v1.2.3-rc.1"})])
	count(results) == 0
}

test_missing_version_denied if {
	results := helm.deny with input as t.doc("dev", [release({})])
	t.ids(results) == {"DM-HELM-001"}
}

test_empty_version_denied if {
	results := helm.deny with input as t.doc("dev", [release({"version": ""})])
	t.fired(results, "DM-HELM-001", "argocd-helm-release")
}

test_range_versions_denied if {
	every version in ["^7.7.0", "~7.7", "7.x", ">=7.0.0", "7.7", "*", "latest", "7.7.11 || 7.8.0"] {
		t.fired(helm.deny, "DM-HELM-001", "argocd-helm-release") with input as t.doc("dev", [release({"version": version})])
	}
}

test_unknown_version_and_local_chart_not_judged if {
	local := t.resource("kubernetes:helm.sh/v3:Release", "local", {"chart": "./charts/datamcp"})
	parent := t.resource("kubernetes:helm.sh/v3:Release", "parent", {"chart": "../charts/datamcp"})
	results := helm.deny with input as t.doc("dev", [release({"version": "[unknown]"}), local, parent])
	count(results) == 0
}

test_chart_from_foreign_repository_denied if {
	results := helm.deny with input as t.doc("prod", [release({"version": "7.7.11", "repositoryOpts": {"repo": "https://charts.example.org"}})])
	t.ids(results) == {"DM-HELM-002"}
}

test_oci_chart_repository_checked if {
	oci := t.resource("kubernetes:helm.sh/v3:Release", "oci", {"chart": "oci://ghcr.example/charts/thing", "version": "1.0.0"})
	results := helm.deny with input as t.doc("prod", [oci])
	t.fired(results, "DM-HELM-002", "oci")
	some r in results
	contains(r.message, "oci://ghcr.example/charts")
}
