# Builders for the rule tests: resources, changes and input documents shaped like the engine's (schema_version 1).
package datamcp.testing

tags := {"project": "datamcp", "stack": "test", "managed-by": "datamcp"}

resource(type, name, inputs) := {
	"urn": sprintf("urn:pulumi:test::datamcp::%s::%s", [type, name]),
	"type": type,
	"name": name,
	"custom": true,
	"parent": null,
	"provider": null,
	"dependencies": [],
	"protect": false,
	"inputs": inputs,
}

# `child` depending on `parent`, as Pulumi records a resource that takes another's output.
depends(child, parent) := object.union(child, {"dependencies": [parent.urn]})

stack(env) := {"name": sprintf("test-%s", [env]), "project": "datamcp", "cloud": "aws", "environment": env}

doc(env, resources) := {
	"schema_version": 1,
	"stack": stack(env),
	"requester": "alice",
	"kind": "synth",
	"changes": [],
	"resources": resources,
	"pending_operations": [],
	"drift": {"checked": false, "drifted": []},
}

change(type, name, op) := {
	"urn": sprintf("urn:pulumi:test::datamcp::%s::%s", [type, name]),
	"type": type,
	"name": name,
	"op": op,
	"old_inputs": null,
	"new_inputs": null,
	"changed_keys": [],
	"replace_keys": [],
	"detailed_diff": {},
}

change_doc(env, kind, changes) := object.union(doc(env, []), {"kind": kind, "changes": changes})

# A result with this id on the resource named `name`.
fired(results, id, name) if {
	some r in results
	r.id == id
	endswith(r.urn, sprintf("::%s", [name]))
}

ids(results) := {r.id | some r in results}
