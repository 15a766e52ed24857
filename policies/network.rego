# No ingress from the whole internet (0.0.0.0/0, ::/0) to administrative ports (SSH, RDP, the Kubernetes API,
# etcd, kubelet, WinRM): AWS security groups and their rules, GCP firewalls.
package datamcp.rules.network

import data.datamcp.lib

all_protocols := {"-1", "all"}

tcp := {"tcp", "6"}

# Admin ports an AWS rule (protocol, fromPort, toPort) opens.
aws_ports(_, protocol) := {p | some p in lib.config.admin_ports} if protocol in all_protocols

aws_ports(rule, protocol) := {p |
	some p in lib.config.admin_ports
	rule.fromPort <= p
	p <= rule.toPort
} if protocol in tcp

world_open_aws(rule) if {
	some cidr in array.concat(object.get(rule, "cidrBlocks", []), object.get(rule, "ipv6CidrBlocks", []))
	lib.world_open_cidr(cidr)
}

# Each (resource, ingress rule) pair in AWS's three shapes: inline `ingress` lists, SecurityGroupRule, and
# SecurityGroupIngressRule (one CIDR per rule, `ipProtocol`).
open_ports contains [r, ports] if {
	some r in input.resources
	r.type in {"aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup"}
	some rule in r.inputs.ingress
	world_open_aws(rule)
	ports := aws_ports(rule, lower(sprintf("%v", [rule.protocol])))
}

open_ports contains [r, ports] if {
	some r in lib.resources("aws:ec2/securityGroupRule:SecurityGroupRule")
	r.inputs.type == "ingress"
	world_open_aws(r.inputs)
	ports := aws_ports(r.inputs, lower(sprintf("%v", [r.inputs.protocol])))
}

open_ports contains [r, ports] if {
	some r in lib.resources("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
	some cidr in [object.get(r.inputs, "cidrIpv4", ""), object.get(r.inputs, "cidrIpv6", "")]
	lib.world_open_cidr(cidr)
	ports := aws_ports(r.inputs, lower(sprintf("%v", [r.inputs.ipProtocol])))
}

# GCP firewalls: ingress unless direction says otherwise; with no source ranges, tags or service accounts the
# source is 0.0.0.0/0.
open_ports contains [r, ports] if {
	some r in lib.resources("gcp:compute/firewall:Firewall")
	object.get(r.inputs, "direction", "INGRESS") == "INGRESS"
	object.get(r.inputs, "disabled", false) != true
	world_source(r.inputs)
	ports := {p | some allow in r.inputs.allows; some p in gcp_ports(allow)}
}

world_source(inputs) if {
	some cidr in inputs.sourceRanges
	lib.world_open_cidr(cidr)
}

world_source(inputs) if {
	not inputs.sourceRanges
	not inputs.sourceTags
	not inputs.sourceServiceAccounts
}

gcp_ports(allow) := {p | some p in lib.config.admin_ports} if {
	allow.protocol in {"all", "tcp", "6"}
	count(object.get(allow, "ports", [])) == 0
}

gcp_ports(allow) := {p |
	some spec in allow.ports
	some p in lib.config.admin_ports
	in_range(p, spec)
} if {
	allow.protocol in {"tcp", "6"}
	count(allow.ports) > 0
}

in_range(p, spec) if to_number(spec) == p

in_range(p, spec) if {
	[low, high] := split(spec, "-")
	to_number(low) <= p
	p <= to_number(high)
}

deny contains lib.finding(
	"DM-NET-001", "critical", r,
	sprintf("%s allows ingress from the whole internet to admin port(s) %s", [r.name, concat(", ", [sprintf("%v", [p]) | some p in sort(ports)])]),
	"Restrict the source to the team's CIDRs or a bastion/IAP range (e.g. 35.235.240.0/20 for IAP), or remove the rule.",
) if {
	some [r, ports] in open_ports
	count(ports) > 0
}
