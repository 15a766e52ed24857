package datamcp.main_test

import data.datamcp.main
import data.datamcp.testing as t

result(id, urn) := {"id": id, "severity": "low", "urn": urn, "message": "m", "remediation": "r"}

fake_rules := {
	"b": {
		"deny": {result("DM-B-001", "urn:z"), result("DM-A-001", "urn:b")},
		"warn": {result("DM-W-001", "urn:a")},
	},
	"a": {
		"deny": {result("DM-A-001", "urn:a"), result("DM-B-001", null)},
		"require": {object.union(result("DM-R-001", null), {"approvals": 2, "role": "admin"})},
	},
}

test_decision_has_exactly_three_lists if {
	decision := main.decision with input as t.doc("dev", [])
	object.keys(decision) == {"deny", "require", "warn"}
	is_array(decision.deny)
	is_array(decision.require)
	is_array(decision.warn)
}

test_decision_aggregates_every_package_sorted_by_id_then_urn if {
	decision := main.decision with data.datamcp.rules as fake_rules
	[[r.id, r.urn] | some r in decision.deny] == [
		["DM-A-001", "urn:a"],
		["DM-A-001", "urn:b"],
		["DM-B-001", null],
		["DM-B-001", "urn:z"],
	]
	[r.id | some r in decision.require] == ["DM-R-001"]
	[r.id | some r in decision.warn] == ["DM-W-001"]
}

test_decision_combines_real_rules if {
	bucket := t.resource("aws:s3/bucket:Bucket", "data-bucket", {"bucket": "d", "forceDestroy": true, "tags": t.tags})
	changes := [t.change("aws:iam/role:Role", "r", "update"), t.change("aws:s3/bucket:Bucket", "data-bucket", "replace")]
	doc := object.union(t.doc("prod", [bucket]), {"kind": "update", "changes": changes})
	decision := main.decision with input as doc
	[r.id | some r in decision.deny] == ["DM-DATA-004", "DM-S3-002"]
	[r.id | some r in decision.require] == ["DM-RISK-001", "DM-RISK-002"]
	[r.id | some r in decision.warn] == ["DM-ENC-001"]
}

test_every_result_has_the_contract_fields if {
	bucket := t.resource("aws:s3/bucket:Bucket", "data-bucket", {"bucket": "d"})
	doc := object.union(t.doc("prod", [bucket]), {"kind": "destroy", "changes": [t.change("aws:s3/bucket:Bucket", "data-bucket", "delete")]})
	decision := main.decision with input as doc
	every list in [decision.deny, decision.require, decision.warn] {
		every r in list {
			regex.match(`^DM-[A-Z0-9]+-[0-9]{3}$`, r.id)
			r.severity in {"critical", "high", "medium", "low"}
			is_string(r.message)
			is_string(r.remediation)
			urn_ok(r.urn)
		}
	}
	every r in decision.require {
		is_number(r.approvals)
		r.role in {"approver", "admin", "security"}
	}
}

urn_ok(null)

urn_ok(urn) if is_string(urn)
