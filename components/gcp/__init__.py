"""GCP components: network, GKE cluster, GCS storage and the state backend."""

from components.gcp.gke import AuthorizedNetwork, GkeCluster, GkeClusterArgs, NodePoolSpec
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
