# The pack's one decision: every rule package's deny, require and warn results, in a stable order.
package datamcp.main

decision := {
	"deny": ordered({r | some r in data.datamcp.rules[_].deny}),
	"require": ordered({r | some r in data.datamcp.rules[_].require}),
	"warn": ordered({r | some r in data.datamcp.rules[_].warn}),
}

# By id, then urn (null, i.e. stack-wide, first), then message, so equal inputs give byte-equal decisions.
ordered(results) := [entry[3] | some entry in sort([[r.id, r.urn, r.message, r] | some r in results])]
