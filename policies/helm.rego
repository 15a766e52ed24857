# Helm releases install an exact chart version from an allowed chart repository.
package datamcp.rules.helm

import data.datamcp.lib

release_types := {"kubernetes:helm.sh/v3:Release", "kubernetes:helm.sh/v4:Chart"}

# An exact SemVer 2 version (an optional leading "v"): no ranges, wildcards or "latest".
exact_version := `^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`

releases contains r if {
	some r in input.resources
	r.type in release_types
	r.inputs.chart
	not local_chart(r.inputs.chart)
}

# A chart from the program's own folders has no version to pin.
local_chart(chart) if startswith(chart, "./")

local_chart(chart) if startswith(chart, "../")

deny contains lib.finding(
	"DM-HELM-001", "high", r,
	sprintf("Helm release %s installs chart %s without an exact version (version is %v)", [r.name, r.inputs.chart, object.get(r.inputs, "version", "unset")]),
	"Pin an exact chart version: datamcp:argocd.chart_version (e.g. \"7.7.11\") for Argo CD, or `version` on the Release.",
) if {
	some r in releases
	version := object.get(r.inputs, "version", "")
	lib.known(version)
	not regex.match(exact_version, version)
}

repository(inputs) := inputs.repositoryOpts.repo

repository(inputs) := concat("/", array.slice(parts, 0, count(parts) - 1)) if {
	not inputs.repositoryOpts.repo
	startswith(inputs.chart, "oci://")
	parts := split(inputs.chart, "/")
}

deny contains lib.finding(
	"DM-HELM-002", "high", r,
	sprintf("Helm release %s installs chart %s from %s, which is not an allowed repository", [r.name, r.inputs.chart, repo]),
	"Use a chart from an allowed repository, or add the repository to datamcp.config.allowed_repositories in policies/data.json (a reviewed change).",
) if {
	some r in releases
	repo := repository(r.inputs)
	lib.known(repo)
	not lib.allowed_repository(repo)
}
