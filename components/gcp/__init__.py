"""GCP components: network, GKE cluster, GCS storage and the state backend."""

from components.cluster_specs import AuthorizedNetwork, NodePoolSpec
from components.gcp.gke import GkeCluster, GkeClusterArgs
from components.gcp.network import Network, NetworkArgs, SubnetSpec
from components.gcp.state_backend import GcpStateBackendArgs, StateBackend
from components.gcp.storage import GcsLifecycleRule, GcsStorageArgs, Storage

__all__ = [
    "AuthorizedNetwork",
    "GcpStateBackendArgs",
    "GcsLifecycleRule",
    "GcsStorageArgs",
    "GkeCluster",
    "GkeClusterArgs",
    "Network",
    "NetworkArgs",
    "NodePoolSpec",
    "StateBackend",
    "Storage",
    "SubnetSpec",
]
