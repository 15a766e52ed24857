package datamcp.rules.argocd_test

import data.datamcp.rules.argocd
import data.datamcp.testing as t

app(spec) := t.resource("kubernetes:argoproj.io/v1alpha1:Application", "datamcp-application", {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "Application",
	"metadata": {"name": "datamcp", "namespace": "argocd"},
	"spec": object.union({"destination": {"namespace": "datamcp", "server": "https://kubernetes.default.svc"}, "project": "default"}, spec),
})

test_app_from_allowed_repository_passes if {
	ok := app({"source": {"path": "charts/datamcp", "repoURL": "https://github.com/datamcp/datamcp.git", "targetRevision": "main"}})
	no_suffix := app({"source": {"repoURL": "https://GitHub.com/datamcp/datamcp/", "targetRevision": "main"}})
	results := argocd.deny with input as t.doc("prod", [ok, no_suffix])
	count(results) == 0
}

test_app_from_foreign_repository_denied if {
	results := argocd.deny with input as t.doc("dev", [app({"source": {"repoURL": "https://github.com/someone-else/fork.git", "path": "charts/datamcp"}})])
	t.fired(results, "DM-ARGO-001", "datamcp-application")
	some r in results
	contains(r.message, "someone-else/fork.git")
}

test_multi_source_app_checks_every_source if {
	spec := {"sources": [
		{"repoURL": "https://github.com/datamcp/datamcp.git", "path": "charts/datamcp"},
		{"repoURL": "https://charts.example.org", "chart": "x", "targetRevision": "1.0.0"},
	]}
	results := argocd.deny with input as t.doc("dev", [app(spec)])
	t.ids(results) == {"DM-ARGO-001"}
	count(results) == 1
}
