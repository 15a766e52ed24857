"""A regional private GKE cluster: VPC-native, Workload Identity, shielded nodes, least-privilege node identity."""

from __future__ import annotations

import ipaddress
import json
from typing import Any, Literal

import pulumi
import pulumi_gcp as gcp
from pydantic import Field, field_validator, model_validator

from components.base import ComponentArgs, child
from components.cluster_specs import AuthorizedNetwork, NodePoolSpec
from components.gcp.network import pods_range_name, services_range_name
from components.naming import dns_label
from components.tags import gcp_labels

# What a GKE node needs and no more (Google's "least privilege service account for nodes").
NODE_ROLES = (
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/monitoring.viewer",
    "roles/stackdriver.resourceMetadata.writer",
    "roles/artifactregistry.reader",
)


class GkeClusterArgs(ComponentArgs):
    network: Any = Field(description="The VPC's id or self link.")
    subnetwork: Any = Field(description="The subnetwork's id or self link.")
    subnet_name: str = Field(description="The SubnetSpec name, for its pods/services secondary range names.")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d+$")
    project: str | None = Field(None, description="GCP project; the provider's project when unset.")
    cluster_name: str | None = Field(None, pattern=r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")
    master_cidr: str = Field("172.16.0.0/28", description="The control plane's private /28.")
    private_endpoint: bool = Field(True, description="Control plane reachable only privately (on by default).")
    master_authorized_networks: list[AuthorizedNetwork] = Field(default_factory=list)
    release_channel: Literal["RAPID", "REGULAR", "STABLE"] = "REGULAR"
    node_pools: list[NodePoolSpec] = Field(default_factory=lambda: [NodePoolSpec(name="default")], min_length=1)
    deletion_protection: bool = False

    @field_validator("master_cidr")
    @classmethod
    def _master(cls, value: str) -> str:
        net = ipaddress.ip_network(value, strict=True)
        if net.prefixlen != 28 or not net.is_private:
            raise ValueError("master_cidr must be a private /28")
        return value

    @model_validator(mode="after")
    def _pools(self) -> GkeClusterArgs:
        names = [p.name for p in self.node_pools]
        if len(names) != len(set(names)):
            raise ValueError("node pool names must be unique")
        return self


def gke_kubeconfig(name: str, endpoint: str, ca: str) -> str:
    """A kubeconfig that authenticates with gke-gcloud-auth-plugin (no static credentials inside)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": name, "cluster": {"server": f"https://{endpoint}", "certificate-authority-data": ca}}
            ],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [
                {
                    "name": name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "gke-gcloud-auth-plugin",
                            "provideClusterInfo": True,
                        }
                    },
                }
            ],
        }
    )


class GkeCluster(pulumi.ComponentResource):
    """Cluster with its default pool removed, separate autoscaled node pools and a dedicated node service account."""

    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:gcp:GkeCluster", name, None, opts)
        labels = gcp_labels(args.resource_tags())
        cluster_name = args.cluster_name or dns_label(pulumi.get_project(), pulumi.get_stack(), name, max_len=40)
        project: pulumi.Input[str] = (
            args.project
            if args.project
            else gcp.organizations.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self)).project
        )
        workload_pool = pulumi.Output.concat(project, ".svc.id.goog")
        self._node_identity(name, cluster_name, project)
        self._cluster(name, cluster_name, args, labels, workload_pool)
        self.node_pools = self._node_pools(name, args, labels)
        self._outputs(workload_pool)

    def _node_identity(self, name: str, cluster_name: str, project: pulumi.Input[str]) -> None:
        """A service account of the cluster's own for the nodes, with only NODE_ROLES (not the default editor)."""
        self.node_sa = gcp.serviceaccount.Account(
            f"{name}-nodes",
            account_id=dns_label(cluster_name, "nodes", max_len=30),
            display_name=f"GKE nodes of {cluster_name}",
            opts=child(self),
        )
        self.node_sa_roles = [
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[1].replace('.', '-')}",
                project=project,
                role=role,
                member=self.node_sa.member,
                opts=child(self),
            )
            for role in NODE_ROLES
        ]

    def _cluster(
        self,
        name: str,
        cluster_name: str,
        args: GkeClusterArgs,
        labels: dict[str, str],
        workload_pool: pulumi.Output[str],
    ) -> None:
        """The control plane: private nodes, VPC-native on the subnet's ranges, Workload Identity, shielded nodes.

        Its default pool is removed at once: pools are managed separately, so changing one never recreates the cluster.
        """
        self.cluster = gcp.container.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            project=args.project,
            location=args.region,
            network=args.network,
            subnetwork=args.subnetwork,
            remove_default_node_pool=True,
            initial_node_count=1,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={
                "cluster_secondary_range_name": pods_range_name(args.subnet_name),
                "services_secondary_range_name": services_range_name(args.subnet_name),
            },
            private_cluster_config={
                "enable_private_nodes": True,
                "enable_private_endpoint": args.private_endpoint,
                "master_ipv4_cidr_block": args.master_cidr,
            },
            master_authorized_networks_config={
                "cidr_blocks": [{"cidr_block": n.cidr, "display_name": n.name} for n in args.master_authorized_networks]
            },
            workload_identity_config={"workload_pool": workload_pool},
            release_channel={"channel": args.release_channel},
            enable_shielded_nodes=True,
            deletion_protection=args.deletion_protection,
            resource_labels=labels,
            opts=child(self, protect=args.deletion_protection),
        )

    def _node_pools(self, name: str, args: GkeClusterArgs, labels: dict[str, str]) -> list[gcp.container.NodePool]:
        """Autoscaled, auto-repaired pools on the node service account, created once its roles are granted."""
        return [
            gcp.container.NodePool(
                f"{name}-pool-{pool.name}",
                name=pool.name,
                project=args.project,
                cluster=self.cluster.name,
                location=args.region,
                autoscaling={"min_node_count": pool.min_nodes, "max_node_count": pool.max_nodes},
                management={"auto_repair": True, "auto_upgrade": True},
                node_config={
                    "machine_type": pool.machine_type,
                    "disk_size_gb": pool.disk_size_gb,
                    "spot": pool.spot,
                    "service_account": self.node_sa.email,
                    "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
                    "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
                    "workload_metadata_config": {"mode": "GKE_METADATA"},
                    "labels": pool.labels,
                    "resource_labels": labels,
                },
                opts=child(self, depends_on=self.node_sa_roles),
            )
            for pool in args.node_pools
        ]

    def _outputs(self, workload_pool: pulumi.Output[str]) -> None:
        """Connection details; the kubeconfig is a secret because it is all a client needs to find the API."""
        self.name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        ca = self.cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.endpoint, ca).apply(lambda a: gke_kubeconfig(a[0], a[1], a[2]))
        )
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "ca_certificate": ca,
                "node_service_account": self.node_sa.email,
                "workload_pool": workload_pool,
                "kubeconfig": self.kubeconfig,
            }
        )
