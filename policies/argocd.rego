# Argo CD Applications deploy only from the allowed repositories (data.datamcp.config.allowed_repositories).
package datamcp.rules.argocd

import data.datamcp.lib

sources(spec) := [s | some s in array.concat([object.get(spec, "source", null)], object.get(spec, "sources", [])); s != null]

deny contains lib.finding(
	"DM-ARGO-001", "high", r,
	sprintf("Argo CD application %s deploys from %s, which is not an allowed repository", [r.name, source.repoURL]),
	"Set datamcp:app.repo_url to an allowed repository, or add the repository to datamcp.config.allowed_repositories in policies/data.json (a reviewed change).",
) if {
	some r in lib.resources("kubernetes:argoproj.io/v1alpha1:Application")
	some source in sources(r.inputs.spec)
	lib.known(source.repoURL)
	not lib.allowed_repository(source.repoURL)
}
