"""An EKS cluster in private subnets: least-privilege roles, KMS envelope encryption, logging, IRSA, node groups."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components.aws.iam import IAM_NAME_INVALID
from components.aws.service_role import ServiceRole, ServiceRoleArgs
from components.base import ComponentArgs, child
from components.cluster_specs import NodeGroupSpec
from components.naming import physical_name

CLUSTER_POLICIES = ("AmazonEKSClusterPolicy",)
NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
ALL_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


class EksClusterArgs(ComponentArgs):
    private_subnet_ids: Any = Field(description="Subnets for the control plane ENIs and the nodes (private).")
    cluster_name: str | None = Field(None, pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")
    kubernetes_version: str = Field("1.33", pattern=r"^1\.\d{2}$")
    public_endpoint: bool = Field(False, description="Expose the API endpoint publicly (off by default).")
    public_access_cidrs: list[str] = Field(default_factory=list, description="Who may reach a public endpoint.")
    node_groups: list[NodeGroupSpec] = Field(default_factory=lambda: [NodeGroupSpec(name="default")], min_length=1)
    log_types: list[str] = Field(default_factory=lambda: list(ALL_LOG_TYPES))
    log_retention_days: int = Field(90, ge=1)
    kms_deletion_window_days: int = Field(30, ge=7, le=30)

    @field_validator("public_access_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ValueError(f"public_access_cidrs: {cidr!r} is not a network: {exc}") from None
        return value

    @field_validator("log_types")
    @classmethod
    def _log_types(cls, value: list[str]) -> list[str]:
        unknown = set(value) - set(ALL_LOG_TYPES)
        if unknown:
            raise ValueError(f"unknown log types {sorted(unknown)}; choose from {list(ALL_LOG_TYPES)}")
        return value

    @model_validator(mode="after")
    def _endpoint(self) -> EksClusterArgs:
        if self.public_endpoint and not self.public_access_cidrs:
            raise ValueError("public_endpoint=True needs public_access_cidrs (use 0.0.0.0/0 only on purpose)")
        if not self.public_endpoint and self.public_access_cidrs:
            raise ValueError("public_access_cidrs is set but public_endpoint is False")
        names = [g.name for g in self.node_groups]
        if len(names) != len(set(names)):
            raise ValueError("node group names must be unique")
        return self


def kubeconfig(cluster_name: str, endpoint: str, ca_data: str, region: str) -> str:
    """A kubeconfig that authenticates with `aws eks get-token` (no static credentials inside)."""
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": cluster_name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}
            ],
            "contexts": [{"name": cluster_name, "context": {"cluster": cluster_name, "user": cluster_name}}],
            "current-context": cluster_name,
            "users": [
                {
                    "name": cluster_name,
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": "aws",
                            "args": ["eks", "get-token", "--cluster-name", cluster_name, "--region", region],
                        }
                    },
                }
            ],
        }
    )


class EksCluster(pulumi.ComponentResource):
    """EKS control plane, managed node groups, the IRSA OIDC provider and a secret kubeconfig."""

    name: pulumi.Output[str]
    endpoint: pulumi.Output[str]
    ca_data: pulumi.Output[str]
    oidc_issuer: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:aws:EksCluster", name, None, opts)
        tags = args.resource_tags()
        cluster_name = args.cluster_name or physical_name(
            pulumi.get_project(), pulumi.get_stack(), name, max_len=100, invalid=r"[^A-Za-z0-9_-]"
        )
        key = self._kms(name, cluster_name, args, tags)
        cluster_role, node_role = self._roles(name, cluster_name, args)
        self.node_role = node_role.role
        self._cluster(name, cluster_name, args, tags, key, cluster_role)
        self.node_groups = self._node_groups(name, args, tags, node_role)
        self.oidc_issuer = self.cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        self.oidc_provider = self._irsa(name, tags)
        self._outputs()

    def _kms(self, name: str, cluster_name: str, args: EksClusterArgs, tags: dict[str, str]) -> aws.kms.Key:
        """A rotating key of our own for envelope encryption of Kubernetes secrets (not the AWS-managed one)."""
        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"EKS secrets envelope encryption for {cluster_name}",
            enable_key_rotation=True,
            deletion_window_in_days=args.kms_deletion_window_days,
            tags=tags,
            opts=child(self),
        )
        aws.kms.Alias(
            f"{name}-secrets-key-alias",
            name=f"alias/{cluster_name}-secrets",
            target_key_id=key.key_id,
            opts=child(self),
        )
        return key

    def _roles(self, name: str, cluster_name: str, args: EksClusterArgs) -> tuple[ServiceRole, ...]:
        """The control plane's and the nodes' roles, each with only the managed policies EKS documents for it.

        Both were children of this component before ServiceRole existed: `moved_from=self` keeps them in place.
        """
        return tuple(
            ServiceRole(
                f"{name}-{kind}",
                ServiceRoleArgs(
                    service=service,
                    managed_policies=list(policies),
                    role_name=physical_name(cluster_name, suffix, max_len=64, invalid=IAM_NAME_INVALID),
                    tag_session=tag_session,
                    tags=args.tags,
                ),
                opts=child(self),
                moved_from=self,
            )
            for kind, suffix, service, policies, tag_session in (
                ("cluster", "cluster", "eks.amazonaws.com", CLUSTER_POLICIES, True),  # EKS tags its sessions
                ("node", "nodes", "ec2.amazonaws.com", NODE_POLICIES, False),
            )
        )

    def _cluster(
        self,
        name: str,
        cluster_name: str,
        args: EksClusterArgs,
        tags: dict[str, str],
        key: aws.kms.Key,
        role: ServiceRole,
    ) -> None:
        """The control plane, created after its log group (so retention is ours) and its role's policies."""
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-control-plane-logs",
            name=f"/aws/eks/{cluster_name}/cluster",
            retention_in_days=args.log_retention_days,
            tags=tags,
            opts=child(self),
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-cluster",
            name=cluster_name,
            role_arn=role.arn,
            version=args.kubernetes_version,
            vpc_config={
                "subnet_ids": args.private_subnet_ids,
                "endpoint_private_access": True,
                "endpoint_public_access": args.public_endpoint,
                **({"public_access_cidrs": args.public_access_cidrs} if args.public_endpoint else {}),
            },
            enabled_cluster_log_types=args.log_types,
            encryption_config={"provider": {"key_arn": key.arn}, "resources": ["secrets"]},
            access_config={"authentication_mode": "API", "bootstrap_cluster_creator_admin_permissions": True},
            tags=tags,
            opts=child(self, depends_on=[log_group, *role.attachments]),
        )

    def _node_groups(
        self, name: str, args: EksClusterArgs, tags: dict[str, str], role: ServiceRole
    ) -> list[aws.eks.NodeGroup]:
        """One managed node group per spec, in the private subnets, created once the node role's policies are on."""
        return [
            aws.eks.NodeGroup(
                f"{name}-ng-{group.name}",
                cluster_name=self.cluster.name,
                node_group_name=group.name,
                node_role_arn=role.arn,
                subnet_ids=args.private_subnet_ids,
                instance_types=group.instance_types,
                capacity_type=group.capacity_type,
                disk_size=group.disk_size_gb,
                scaling_config={
                    "min_size": group.min_size,
                    "desired_size": group.desired_size,
                    "max_size": group.max_size,
                },
                update_config={"max_unavailable": 1},
                labels=group.labels,
                tags=tags,
                opts=child(self, depends_on=role.attachments),
            )
            for group in args.node_groups
        ]

    def _irsa(self, name: str, tags: dict[str, str]) -> aws.iam.OpenIdConnectProvider:
        """The IAM OIDC provider for the cluster's issuer: pods assume IAM roles through service accounts (IRSA)."""
        return aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=self.oidc_issuer,
            client_id_lists=["sts.amazonaws.com"],
            tags=tags,
            opts=child(self),
        )

    def _outputs(self) -> None:
        """Connection details; the kubeconfig is a secret because it is all a client needs to find the API."""
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.name = self.cluster.name
        self.endpoint = self.cluster.endpoint
        self.ca_data = self.cluster.certificate_authority.apply(lambda ca: ca.data)
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(self.cluster.name, self.endpoint, self.ca_data, region).apply(
                lambda a: kubeconfig(a[0], a[1], a[2], a[3])
            )
        )
        self.register_outputs(
            {
                "name": self.name,
                "endpoint": self.endpoint,
                "ca_data": self.ca_data,
                "oidc_issuer": self.oidc_issuer,
                "oidc_provider_arn": self.oidc_provider.arn,
                "node_role_arn": self.node_role.arn,
                "kubeconfig": self.kubeconfig,
            }
        )
