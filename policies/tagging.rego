# Every taggable AWS resource carries the project's tags, every labelled GCP resource its labels
# (components/tags.py: project, stack, managed-by; the keys are data.datamcp.config.required_tag_keys).
package datamcp.rules.tagging

import data.datamcp.lib

# AWS: the listed taggable types, and any other AWS resource that takes `tags`.
aws_tags contains [r, tags] if {
	some r in input.resources
	startswith(r.type, "aws:")
	r.custom
	tags := object.get(r.inputs, "tags", {})
	tagged(r)
}

tagged(r) if r.type in lib.config.aws_taggable_types

tagged(r) if "tags" in object.keys(r.inputs)

deny contains lib.finding(
	"DM-TAG-001", "medium", r,
	sprintf("%s (%s) lacks the required tag(s) %s", [r.name, r.type, concat(", ", sort(missing))]),
	"Build the resource's tags with components.tags.common_tags(project, stack, extra) and pass them to every taggable resource; extra tags go in datamcp:tags.",
) if {
	some [r, tags] in aws_tags
	lib.known(tags)
	missing := {k | some k in lib.config.required_tag_keys; not has_key(tags, k)}
	count(missing) > 0
}

deny contains lib.finding(
	"DM-TAG-002", "medium", r,
	sprintf("%s (%s) lacks the required label(s) %s", [r.name, r.type, concat(", ", sort(missing))]),
	"Build the resource's labels with components.tags.gcp_labels(common_tags(...)) and pass them to every labelled resource; extra labels go in datamcp:tags.",
) if {
	some r in input.resources
	path := lib.config.gcp_label_paths[r.type]
	labels := object.get(r.inputs, path, {})
	lib.known(labels)
	missing := {k | some k in lib.config.required_tag_keys; not has_key(labels, k)}
	count(missing) > 0
}

has_key(obj, key) if key in object.keys(obj)
