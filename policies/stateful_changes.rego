# Risk: deleting or replacing a stateful resource (buckets, tables, clusters, node pools, KMS keys, databases)
# loses data or capacity; it needs two admins. Destroying a prod stack needs two admins whatever it holds.
package datamcp.rules.stateful_changes

import data.datamcp.lib

severity := "critical" if lib.is_prod

else := "high"

require contains lib.approval(
	"DM-RISK-001", severity, change.urn, 2, "admin",
	sprintf("%s of stateful %s %s%s", [change.op, change.type, change.name, replace_reason(change)]),
	"Two admins approve the preview; to avoid the replacement instead, revert the change to the keys that force it, or move the resource with an alias.",
) if {
	some change in input.changes
	change.op in {"delete", "replace"}
	change.type in lib.config.stateful_types
}

replace_reason(change) := sprintf(" (forced by %s)", [concat(", ", change.replace_keys)]) if {
	change.op == "replace"
	count(object.get(change, "replace_keys", [])) > 0
}

else := ""

require contains lib.approval(
	"DM-RISK-003", "critical", null, 2, "admin",
	sprintf("destroy of prod stack %s deletes all %d of its resources", [input.stack.name, count(input.changes)]),
	"Two admins approve the destroy preview; to keep data, set Pulumi protect on the stateful resources or remove them from state first.",
) if {
	input.kind == "destroy"
	lib.is_prod
}
