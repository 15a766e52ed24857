"""AWS components: network, EKS cluster and its service roles, S3 storage, the ops-log table and the state backend."""

from components.aws.eks import EksCluster, EksClusterArgs
from components.aws.network import Network, NetworkArgs
from components.aws.opslog import OpsLogTable, OpsLogTableArgs
from components.aws.service_role import ServiceRole, ServiceRoleArgs
from components.aws.state_backend import StateBackend, StateBackendArgs
from components.aws.storage import LifecycleRule, Storage, StorageArgs
from components.cluster_specs import NodeGroupSpec

__all__ = [
    "EksCluster",
    "EksClusterArgs",
    "LifecycleRule",
    "Network",
    "NetworkArgs",
    "NodeGroupSpec",
    "OpsLogTable",
    "OpsLogTableArgs",
    "ServiceRole",
    "ServiceRoleArgs",
    "StateBackend",
    "StateBackendArgs",
    "Storage",
    "StorageArgs",
]
