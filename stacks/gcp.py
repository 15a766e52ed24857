"""The GCP stack program: Network -> GkeCluster -> Argo CD -> the DataMCP app, plus Storage."""

from __future__ import annotations

import pulumi

from components.gcp import (
    GcsLifecycleRule,
    GcsStorageArgs,
    GkeCluster,
    GkeClusterArgs,
    Network,
    NetworkArgs,
    Storage,
    SubnetSpec,
)
from stacks.common import deploy_apps
from stacks.config import GcpStackConfig

SUBNET = "main"


def gcp_stack(config: GcpStackConfig) -> None:
    """Everything a GCP environment needs; dev and prod differ only by `config`."""
    network = Network(
        "network",
        NetworkArgs(
            subnets=[
                SubnetSpec(
                    name=SUBNET,
                    region=config.region,
                    cidr=config.network.cidr,
                    pods_cidr=config.network.pods_cidr,
                    services_cidr=config.network.services_cidr,
                )
            ],
            tags=config.tags,
        ),
    )
    cluster = GkeCluster(
        "gke",
        GkeClusterArgs(
            network=network.network_id,
            subnetwork=network.subnetwork_ids[SUBNET],
            subnet_name=SUBNET,
            region=config.region,
            project=config.project,
            release_channel=config.cluster.release_channel,
            private_endpoint=config.cluster.private_endpoint,
            master_cidr=config.cluster.master_cidr,
            master_authorized_networks=config.cluster.master_authorized_networks,
            node_pools=config.cluster.node_pools,
            deletion_protection=config.cluster.deletion_protection,
            tags=config.tags,
        ),
    )
    storage = Storage(
        "data",
        GcsStorageArgs(
            location=config.storage.location,
            lifecycle_rules=[GcsLifecycleRule(num_newer_versions=config.storage.noncurrent_versions_kept)],
            force_destroy=config.storage.force_destroy,
            tags=config.tags,
        ),
    )
    deploy_apps(cluster.kubeconfig, config.argocd, config.app, config.tags)

    pulumi.export("project", config.project)
    pulumi.export("region", config.region)
    pulumi.export("network_id", network.network_id)
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("bucket_name", storage.bucket_name)
