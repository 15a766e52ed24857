package datamcp.rules.endpoints_test

import data.datamcp.rules.endpoints
import data.datamcp.testing as t

eks(vpc) := t.resource("aws:eks/cluster:Cluster", "eks-cluster", {"name": "c", "vpcConfig": vpc, "tags": t.tags})

private_eks := eks({"endpointPrivateAccess": true, "endpointPublicAccess": false, "subnetIds": "[unknown]"})

team_eks := eks({"endpointPrivateAccess": true, "endpointPublicAccess": true, "publicAccessCidrs": ["203.0.113.0/24"]})

test_eks_private_endpoint_passes_in_prod if {
	results := endpoints.deny with input as t.doc("prod", [private_eks])
	count(results) == 0
}

test_eks_public_endpoint_for_team_cidr_passes_in_dev if {
	results := endpoints.deny with input as t.doc("dev", [team_eks])
	count(results) == 0
}

test_eks_public_endpoint_denied_in_prod if {
	results := endpoints.deny with input as t.doc("prod", [team_eks])
	t.ids(results) == {"DM-EKS-001"}
}

test_eks_public_access_unset_is_public if {
	results := endpoints.deny with input as t.doc("prod", [eks({"subnetIds": "[unknown]"})])
	t.ids(results) == {"DM-EKS-001", "DM-EKS-002"}
}

test_eks_world_open_endpoint_denied_in_dev if {
	results := endpoints.deny with input as t.doc("dev", [eks({"endpointPublicAccess": true, "publicAccessCidrs": ["10.0.0.0/8", "0.0.0.0/0"]})])
	t.fired(results, "DM-EKS-002", "eks-cluster")
	not "DM-EKS-001" in t.ids(results)
}

test_eks_public_endpoint_without_cidrs_denied_in_dev if {
	results := endpoints.deny with input as t.doc("dev", [eks({"endpointPublicAccess": true, "publicAccessCidrs": []})])
	t.ids(results) == {"DM-EKS-002"}
}

gke(inputs) := t.resource("gcp:container/cluster:Cluster", "gke-cluster", object.union({"name": "g", "resourceLabels": t.tags}, inputs))

private_gke := gke({
	"privateClusterConfig": {"enablePrivateEndpoint": true, "enablePrivateNodes": true},
	"masterAuthorizedNetworksConfig": {"cidrBlocks": []},
})

office_gke := gke({
	"privateClusterConfig": {"enablePrivateEndpoint": false, "enablePrivateNodes": true},
	"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "203.0.113.0/24", "displayName": "office"}]},
})

test_gke_private_endpoint_passes_in_prod if {
	results := endpoints.deny with input as t.doc("prod", [private_gke])
	count(results) == 0
}

test_gke_public_endpoint_with_authorized_networks_passes_in_dev if {
	results := endpoints.deny with input as t.doc("dev", [office_gke])
	count(results) == 0
}

test_gke_public_endpoint_denied_in_prod if {
	results := endpoints.deny with input as t.doc("prod", [office_gke])
	t.ids(results) == {"DM-GKE-001"}
}

test_gke_public_endpoint_without_authorized_networks_denied_in_dev if {
	results := endpoints.deny with input as t.doc("dev", [gke({"privateClusterConfig": {"enablePrivateEndpoint": false}})])
	t.ids(results) == {"DM-GKE-002"}
}

test_gke_authorized_network_for_everyone_denied if {
	world := gke({"masterAuthorizedNetworksConfig": {"cidrBlocks": [{"cidrBlock": "0.0.0.0/0"}]}})
	results := endpoints.deny with input as t.doc("prod", [world])
	t.ids(results) == {"DM-GKE-001", "DM-GKE-002"}
}

test_eks_world_open_in_halves_or_other_spellings_is_denied if {
	every cidrs in [["0.0.0.0/1", "128.0.0.0/1"], ["0::/0"], ["0.0.0.0/5"], ["2000::/3"]] {
		results := endpoints.deny with input as t.doc("dev", [eks({"endpointPublicAccess": true, "publicAccessCidrs": cidrs})])
		t.fired(results, "DM-EKS-002", "eks-cluster")
	}
}

test_eks_a_narrow_range_is_not_world_open if {
	results := endpoints.deny with input as t.doc("dev", [eks({"endpointPublicAccess": true, "publicAccessCidrs": ["10.0.0.0/9"]})])
	count(results) == 0
}
