# Kubernetes API endpoints: private in prod, and never open to the whole internet.
package datamcp.rules.endpoints

import data.datamcp.lib

# EKS: endpointPublicAccess defaults to true, and publicAccessCidrs to 0.0.0.0/0 when unset or empty.
eks_public(inputs) if object.get(inputs, ["vpcConfig", "endpointPublicAccess"], true) == true

eks_world_open(inputs) if count(object.get(inputs, ["vpcConfig", "publicAccessCidrs"], [])) == 0

eks_world_open(inputs) if {
	some cidr in inputs.vpcConfig.publicAccessCidrs
	lib.world_open_cidr(cidr)
}

deny contains lib.finding(
	"DM-EKS-001", "high", r,
	sprintf("EKS cluster %s has a public API endpoint in a prod stack", [r.name]),
	"Set datamcp:cluster.public_endpoint: false in the stack config (reach the API through the VPC).",
) if {
	lib.is_prod
	some r in lib.resources("aws:eks/cluster:Cluster")
	eks_public(r.inputs)
}

deny contains lib.finding(
	"DM-EKS-002", "critical", r,
	sprintf("EKS cluster %s has a public API endpoint open to the whole internet (publicAccessCidrs empty or 0.0.0.0/0)", [r.name]),
	"List the team's CIDRs in datamcp:cluster.public_access_cidrs, or set datamcp:cluster.public_endpoint: false.",
) if {
	some r in lib.resources("aws:eks/cluster:Cluster")
	eks_public(r.inputs)
	eks_world_open(r.inputs)
}

# GKE: the endpoint is public unless privateClusterConfig.enablePrivateEndpoint is true.
gke_public(inputs) if object.get(inputs, ["privateClusterConfig", "enablePrivateEndpoint"], false) != true

gke_world_open(inputs) if count(object.get(inputs, ["masterAuthorizedNetworksConfig", "cidrBlocks"], [])) == 0

gke_world_open(inputs) if {
	some block in inputs.masterAuthorizedNetworksConfig.cidrBlocks
	lib.world_open_cidr(block.cidrBlock)
}

deny contains lib.finding(
	"DM-GKE-001", "high", r,
	sprintf("GKE cluster %s has a public control-plane endpoint in a prod stack", [r.name]),
	"Set datamcp:cluster.private_endpoint: true in the stack config.",
) if {
	lib.is_prod
	some r in lib.resources("gcp:container/cluster:Cluster")
	gke_public(r.inputs)
}

deny contains lib.finding(
	"DM-GKE-002", "critical", r,
	sprintf("GKE cluster %s has a public control-plane endpoint without authorized networks (or with 0.0.0.0/0)", [r.name]),
	"List the team's CIDRs in datamcp:cluster.master_authorized_networks, or set datamcp:cluster.private_endpoint: true.",
) if {
	some r in lib.resources("gcp:container/cluster:Cluster")
	gke_public(r.inputs)
	gke_world_open(r.inputs)
}
