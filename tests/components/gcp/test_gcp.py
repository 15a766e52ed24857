from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from components.gcp import (
    AuthorizedNetwork,
    GcpStateBackendArgs,
    GcsLifecycleRule,
    GcsStorageArgs,
    GkeCluster,
    GkeClusterArgs,
    Network,
    NetworkArgs,
    NodePoolSpec,
    StateBackend,
    Storage,
    SubnetSpec,
)
from components.gcp.gke import NODE_ROLES
from engine.mocks import ProgramRun

Run = Callable[..., ProgramRun]
MAIN = SubnetSpec(
    name="main", region="europe-west1", cidr="10.10.0.0/20", pods_cidr="10.20.0.0/14", services_cidr="10.30.0.0/20"
)


def network(mock_run: Run, **args: object) -> ProgramRun:
    return mock_run(lambda: Network("net", NetworkArgs(subnets=[MAIN], **args)), stack="gcp-dev")  # type: ignore[arg-type]


def test_custom_mode_vpc_with_secondary_ranges_and_private_google_access(mock_run: Run) -> None:
    run = network(mock_run)
    assert run.one("gcp:compute/network:Network").raw_inputs["autoCreateSubnetworks"] is False
    subnet = run.one("gcp:compute/subnetwork:Subnetwork").raw_inputs
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["ipCidrRange"] == "10.10.0.0/20"
    assert subnet["secondaryIpRanges"] == [
        {"rangeName": "main-pods", "ipCidrRange": "10.20.0.0/14"},
        {"rangeName": "main-services", "ipCidrRange": "10.30.0.0/20"},
    ]
    assert subnet["logConfig"]["metadata"] == "INCLUDE_ALL_METADATA"


def test_nat_per_region_and_firewalls_internal_plus_iap_only(mock_run: Run) -> None:
    run = network(mock_run)
    assert len(run.of_type("gcp:compute/router:Router")) == 1
    nat = run.one("gcp:compute/routerNat:RouterNat").raw_inputs
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    rules = {
        r.raw_inputs["name"].rsplit("-", 3)[-1]: r.raw_inputs for r in run.of_type("gcp:compute/firewall:Firewall")
    }
    assert len(rules) == 2
    for rule in rules.values():
        assert rule["direction"] == "INGRESS"
        assert "0.0.0.0/0" not in rule["sourceRanges"]
    internal = next(r for r in rules.values() if "internal" in r["name"])
    assert sorted(internal["sourceRanges"]) == ["10.10.0.0/20", "10.20.0.0/14", "10.30.0.0/20"]
    iap = next(r for r in rules.values() if "iap" in r["name"])
    assert iap["sourceRanges"] == ["35.235.240.0/20"]
    assert iap["allows"] == [{"protocol": "tcp", "ports": ["22"]}]
    closed = network(mock_run, allow_iap_ssh=False, nat=False)
    assert len(closed.of_type("gcp:compute/firewall:Firewall")) == 1
    assert not closed.of_type("gcp:compute/routerNat:RouterNat")


@pytest.mark.parametrize(
    ("subnet", "message"),
    [
        ({"pods_cidr": "10.10.0.0/16"}, "overlaps"),
        ({"services_cidr": "8.8.8.0/24"}, "private RFC 1918"),
        ({"cidr": "10.10.0.1/20"}, "not a valid network"),
        ({"name": "Bad_Name"}, "should match pattern"),
    ],
)
def test_invalid_ranges_are_rejected(subnet: dict, message: str) -> None:  # type: ignore[type-arg]
    spec = MAIN.model_dump() | subnet
    with pytest.raises(ValidationError, match=message):
        NetworkArgs(subnets=[SubnetSpec(**spec)])


def gke(mock_run: Run, **args: object) -> ProgramRun:
    def program() -> None:
        GkeCluster(
            "gke",
            GkeClusterArgs(
                network="net-id",
                subnetwork="sub-id",
                subnet_name="main",  # type: ignore[arg-type]
                region="europe-west1",
                **args,
            ),
        )

    return mock_run(program, stack="gcp-dev")


def test_gke_is_private_vpc_native_with_workload_identity_and_shielded_nodes(mock_run: Run) -> None:
    run = gke(mock_run, master_authorized_networks=[AuthorizedNetwork(cidr="10.0.0.0/8", name="vpn")])
    c = run.one("gcp:container/cluster:Cluster").raw_inputs
    assert c["removeDefaultNodePool"] is True
    assert c["networkingMode"] == "VPC_NATIVE"
    assert c["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "main-pods",
        "servicesSecondaryRangeName": "main-services",
    }
    assert c["privateClusterConfig"]["enablePrivateNodes"] is True
    assert c["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert c["masterAuthorizedNetworksConfig"] == {"cidrBlocks": [{"cidrBlock": "10.0.0.0/8", "displayName": "vpn"}]}
    assert c["workloadIdentityConfig"] == {"workloadPool": "datamcp-sandbox.svc.id.goog"}
    assert c["releaseChannel"] == {"channel": "REGULAR"}
    assert c["enableShieldedNodes"] is True
    assert c["location"] == "europe-west1"


def test_gke_nodes_use_a_dedicated_least_privilege_account(mock_run: Run) -> None:
    run = gke(mock_run, node_pools=[NodePoolSpec(name="a", min_nodes=1, max_nodes=5), NodePoolSpec(name="b")])
    account = run.one("gcp:serviceaccount/account:Account")
    assert sorted(m.raw_inputs["role"] for m in run.of_type("gcp:projects/iAMMember:IAMMember")) == sorted(NODE_ROLES)
    assert all(
        m.raw_inputs["member"] == account.outputs["member"] for m in run.of_type("gcp:projects/iAMMember:IAMMember")
    )
    pools = {p.raw_inputs["name"]: p.raw_inputs for p in run.of_type("gcp:container/nodePool:NodePool")}
    assert set(pools) == {"a", "b"}
    assert pools["a"]["autoscaling"] == {"minNodeCount": 1, "maxNodeCount": 5}
    node = pools["a"]["nodeConfig"]
    assert node["serviceAccount"] == account.outputs["email"]
    assert node["shieldedInstanceConfig"] == {"enableSecureBoot": True, "enableIntegrityMonitoring": True}
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    outputs = run.one("datamcp:gcp:GkeCluster").outputs
    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["node_service_account"] == account.outputs["email"]


def test_gke_validation() -> None:
    with pytest.raises(ValidationError, match="min_nodes 4 > max_nodes 2"):
        NodePoolSpec(name="x", min_nodes=4, max_nodes=2)
    with pytest.raises(ValidationError, match="private /28"):
        GkeClusterArgs(network="n", subnetwork="s", subnet_name="m", region="europe-west1", master_cidr="10.0.0.0/24")
    with pytest.raises(ValidationError, match="unique"):
        GkeClusterArgs(
            network="n",
            subnetwork="s",
            subnet_name="m",
            region="europe-west1",
            node_pools=[NodePoolSpec(name="a"), NodePoolSpec(name="a")],
        )


def test_gcs_bucket_hardening_and_cmek(mock_run: Run) -> None:
    run = mock_run(lambda: Storage("data", GcsStorageArgs()), stack="gcp-dev")
    b = run.one("gcp:storage/bucket:Bucket").raw_inputs
    assert b["uniformBucketLevelAccess"] is True
    assert b["publicAccessPrevention"] == "enforced"
    assert b["versioning"] == {"enabled": True}
    assert b["forceDestroy"] is False
    assert "encryption" not in b
    assert b["labels"]["managed-by"] == "datamcp"
    rules = [GcsLifecycleRule(age_days=30, matches_prefix=["tmp/"])]
    cmek = mock_run(
        lambda: Storage(
            "data", GcsStorageArgs(kms_key_name="projects/p/locations/l/keyRings/r/cryptoKeys/k", lifecycle_rules=rules)
        )
    )
    b2 = cmek.one("gcp:storage/bucket:Bucket").raw_inputs
    assert b2["encryption"] == {"defaultKmsKeyName": "projects/p/locations/l/keyRings/r/cryptoKeys/k"}
    assert b2["lifecycleRules"] == [
        {"action": {"type": "Delete"}, "condition": {"age": 30, "matchesPrefixes": ["tmp/"]}}
    ]
    with pytest.raises(ValidationError, match="needs age_days"):
        GcsLifecycleRule()
    with pytest.raises(ValidationError, match="not a valid GCS bucket name"):
        GcsStorageArgs(bucket_name="Bad Name")


def test_gcp_state_backend_outputs_exact_strings_and_grants_the_storage_agent(mock_run: Run) -> None:
    run = mock_run(
        lambda: StateBackend("state", GcpStateBackendArgs(bucket_name="acme-state", key_ring_name="acme")), stack="ops"
    )
    outputs = run.one("datamcp:gcp:StateBackend").outputs
    key = run.one("gcp:kms/cryptoKey:CryptoKey")
    assert outputs["backend_url"] == "gs://acme-state"
    assert outputs["secrets_provider"] == f"gcpkms://{key.id}"
    assert key.id == "projects/datamcp-sandbox/locations/europe-west1/keyRings/acme/cryptoKeys/pulumi-secrets"
    assert key.protect is True
    grant = run.one("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember").raw_inputs
    assert grant["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant["member"].endswith("@gs-project-accounts.iam.gserviceaccount.com")
    bucket = run.one("gcp:storage/bucket:Bucket").raw_inputs
    assert bucket["encryption"] == {"defaultKmsKeyName": key.id}
