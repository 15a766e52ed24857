# Shared helpers for the rule packages: the stack's environment, unknown values, and the result objects.
package datamcp.lib

config := data.datamcp.config

# Any environment other than "dev" gets the strict (prod) treatment.
is_dev if input.stack.environment == "dev"

is_prod if not is_dev

# Values the engine could not know before apply ("[unknown]") or must not show ("[secret]") are never judged.
known(value) if not value in {"[unknown]", "[secret]"}

# A source range that opens to the internet: the world's own spellings, and any range so broad it is the internet in
# parts (0.0.0.0/1 and 128.0.0.0/1 together are 0.0.0.0/0): IPv4 prefixes up to /8, IPv6 up to /16.
world_open_cidr(cidr) if cidr in config.world_cidrs

world_open_cidr(cidr) if {
	[address, length] := split(cidr, "/")
	not contains(address, ":")
	to_number(length) <= config.broadest_ipv4_prefix
}

world_open_cidr(cidr) if {
	[address, length] := split(cidr, "/")
	contains(address, ":")
	to_number(length) <= config.broadest_ipv6_prefix
}

# The resources of one type in the desired state, in input order.
resources(type) := object.get(resources_by_type, type, [])

# The resources grouped by type once per evaluation: OPA indexes the inner comprehension on `type`, so this is one
# pass over the resources rather than one per type, and no rule scans every resource for each type it asks for.
resources_by_type := {type: typed |
	some type in {r.type | some r in input.resources}
	typed := [r | some r in input.resources; r.type == type]
}

finding(id, severity, resource, message, remediation) := {
	"id": id,
	"severity": severity,
	"urn": resource.urn,
	"message": message,
	"remediation": remediation,
}

approval(id, severity, urn, approvals, role, message, remediation) := {
	"id": id,
	"severity": severity,
	"urn": urn,
	"message": message,
	"remediation": remediation,
	"approvals": approvals,
	"role": role,
}

# A resource of one of `types` belongs to `parent`: it depends on it, or names it in `bucket` by the physical name
# the parent has in `key`. Looked up in two indexes built in one pass over the resources, so asking it for every
# bucket stays linear in the number of resources.
has_attached(types, parent, _) if {
	some type in types
	[type, parent.urn] in dependency_index
}

has_attached(types, parent, key) if {
	name := parent.inputs[key]
	known(name)
	some type in types
	[type, name] in bucket_name_index
}

# [type, URN] for every URN a resource of that type depends on.
dependency_index := {[r.type, urn] | some r in input.resources; some urn in r.dependencies}

# [type, name] for every physical bucket name a resource of that type gives in `bucket`.
bucket_name_index := {[r.type, r.inputs.bucket] | some r in input.resources}

# A policy document given as a JSON string or as an object; nothing when unknown or not valid JSON.
policy_document(value) := value if is_object(value)

policy_document(value) := json.unmarshal(value) if {
	is_string(value)
	json.is_valid(value)
}

# A policy's statements, whether `Statement` is one object or a list.
statements(doc) := doc.Statement if is_array(doc.Statement)

statements(doc) := [doc.Statement] if is_object(doc.Statement)

# Repository URLs compare without case, a trailing "/" or ".git".
normalized_repository(url) := trim_suffix(trim_suffix(lower(url), "/"), ".git")

allowed_repository(url) if {
	some allowed in config.allowed_repositories
	normalized_repository(allowed) == normalized_repository(url)
}
