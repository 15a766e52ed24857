"""The AWS stack program: Network -> EksCluster -> Argo CD -> the DataMCP app, plus Storage and the ops-log table."""

from __future__ import annotations

import pulumi

from components.aws import (
    EksCluster,
    EksClusterArgs,
    LifecycleRule,
    Network,
    NetworkArgs,
    OpsLogTable,
    OpsLogTableArgs,
    Storage,
    StorageArgs,
)
from components.naming import physical_name
from stacks.common import deploy_apps
from stacks.config import AwsStackConfig


def aws_stack(config: AwsStackConfig) -> None:
    """Everything an AWS environment needs; dev and prod differ only by `config`."""
    cluster_name = physical_name(pulumi.get_project(), pulumi.get_stack(), max_len=100)
    network = Network(
        "network",
        NetworkArgs(
            cidr=config.network.cidr,
            az_count=config.network.az_count,
            nat=config.network.nat,
            cluster_name=cluster_name,
            tags=config.tags,
        ),
    )
    cluster = EksCluster(
        "eks",
        EksClusterArgs(
            private_subnet_ids=network.private_subnet_ids,
            cluster_name=cluster_name,
            kubernetes_version=config.cluster.kubernetes_version,
            public_endpoint=config.cluster.public_endpoint,
            public_access_cidrs=config.cluster.public_access_cidrs,
            node_groups=config.cluster.node_groups,
            tags=config.tags,
        ),
        opts=pulumi.ResourceOptions(depends_on=[network]),
    )
    storage = Storage(
        "data",
        StorageArgs(
            lifecycle_rules=[
                LifecycleRule(
                    id="expire-noncurrent", noncurrent_expire_after_days=config.storage.noncurrent_expire_after_days
                )
            ],
            force_destroy=config.storage.force_destroy,
            public_access=config.storage.public_access,
            tags=config.tags,
        ),
    )
    ops_log = OpsLogTable(
        "ops-log",
        OpsLogTableArgs(
            table_name=config.ops_log.table_name,
            deletion_protection=config.ops_log.deletion_protection,
            tags=config.tags,
        ),
    )
    deploy_apps(cluster.kubeconfig, config.argocd, config.app, config.tags)

    pulumi.export("region", config.region)
    pulumi.export("vpc_id", network.vpc_id)
    pulumi.export("private_subnet_ids", network.private_subnet_ids)
    pulumi.export("cluster_name", cluster.name)
    pulumi.export("cluster_endpoint", cluster.endpoint)
    pulumi.export("kubeconfig", cluster.kubeconfig)
    pulumi.export("bucket_name", storage.bucket_name)
    pulumi.export("ops_log_table", ops_log.name)
