package datamcp.rules.network_test

import data.datamcp.rules.network
import data.datamcp.testing as t

sg(ingress) := t.resource("aws:ec2/securityGroup:SecurityGroup", "web-sg", {"vpcId": "[unknown]", "ingress": ingress, "tags": t.tags})

test_security_group_https_from_world_passes if {
	results := network.deny with input as t.doc("prod", [sg([{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["0.0.0.0/0"]}])])
	count(results) == 0
}

test_security_group_ssh_from_office_passes if {
	results := network.deny with input as t.doc("prod", [sg([{"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": ["203.0.113.0/24"]}])])
	count(results) == 0
}

test_security_group_ssh_from_world_denied if {
	results := network.deny with input as t.doc("dev", [sg([{"protocol": "tcp", "fromPort": 22.0, "toPort": 22.0, "cidrBlocks": ["0.0.0.0/0"]}])])
	t.fired(results, "DM-NET-001", "web-sg")
	some r in results
	contains(r.message, "22")
}

test_security_group_port_range_and_ipv6_denied if {
	results := network.deny with input as t.doc("dev", [sg([{"protocol": "6", "fromPort": 3000, "toPort": 7000, "ipv6CidrBlocks": ["::/0"]}])])
	some r in results
	r.id == "DM-NET-001"
	contains(r.message, "3389, 5985, 5986, 6443")
}

test_security_group_all_traffic_from_world_denied if {
	results := network.deny with input as t.doc("dev", [sg([{"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}])])
	t.fired(results, "DM-NET-001", "web-sg")
}

test_security_group_rule_denied if {
	rule := t.resource("aws:ec2/securityGroupRule:SecurityGroupRule", "api", {"type": "ingress", "protocol": "tcp", "fromPort": 6443, "toPort": 6443, "cidrBlocks": ["0.0.0.0/0"], "securityGroupId": "[unknown]"})
	egress := t.resource("aws:ec2/securityGroupRule:SecurityGroupRule", "out", {"type": "egress", "protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]})
	results := network.deny with input as t.doc("dev", [rule, egress])
	t.ids(results) == {"DM-NET-001"}
	t.fired(results, "DM-NET-001", "api")
}

test_vpc_ingress_rule_denied if {
	rule := t.resource("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "rdp", {"ipProtocol": "tcp", "fromPort": 3389, "toPort": 3389, "cidrIpv4": "0.0.0.0/0"})
	results := network.deny with input as t.doc("dev", [rule])
	t.fired(results, "DM-NET-001", "rdp")
}

firewall(inputs) := t.resource("gcp:compute/firewall:Firewall", "fw", object.union({"name": "fw", "network": "[unknown]"}, inputs))

test_firewall_iap_ssh_passes if {
	results := network.deny with input as t.doc("prod", [firewall({"allows": [{"ports": ["22"], "protocol": "tcp"}], "direction": "INGRESS", "sourceRanges": ["35.235.240.0/20"]})])
	count(results) == 0
}

test_firewall_ssh_from_world_denied if {
	results := network.deny with input as t.doc("dev", [firewall({"allows": [{"ports": ["22"], "protocol": "tcp"}], "sourceRanges": ["0.0.0.0/0"]})])
	t.fired(results, "DM-NET-001", "fw")
}

test_firewall_without_sources_is_world_open if {
	results := network.deny with input as t.doc("dev", [firewall({"allows": [{"ports": ["6000-7000"], "protocol": "tcp"}]})])
	t.fired(results, "DM-NET-001", "fw")
}

test_firewall_all_protocols_from_world_denied if {
	results := network.deny with input as t.doc("dev", [firewall({"allows": [{"protocol": "all"}], "sourceRanges": ["::/0"]})])
	t.fired(results, "DM-NET-001", "fw")
}

test_firewall_egress_tagged_or_disabled_passes if {
	egress := firewall({"allows": [{"protocol": "all"}], "direction": "EGRESS", "destinationRanges": ["0.0.0.0/0"]})
	tagged := firewall({"allows": [{"ports": ["22"], "protocol": "tcp"}], "sourceTags": ["bastion"]})
	disabled := firewall({"allows": [{"ports": ["22"], "protocol": "tcp"}], "sourceRanges": ["0.0.0.0/0"], "disabled": true})
	web := firewall({"allows": [{"ports": ["80", "443"], "protocol": "tcp"}, {"protocol": "icmp"}], "sourceRanges": ["0.0.0.0/0"]})
	results := network.deny with input as t.doc("prod", [egress, tagged, disabled, web])
	count(results) == 0
}
