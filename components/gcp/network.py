"""A custom-mode VPC with regional subnetworks (pods/services ranges), Cloud NAT and closed-by-default firewalls."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
from pydantic import BaseModel, ConfigDict, Field, model_validator

from components.base import ComponentArgs, child
from components.gcp.ranges import validate_ranges
from components.naming import dns_label

IAP_RANGE = "35.235.240.0/20"  # Google's IAP TCP forwarding range


class SubnetSpec(BaseModel):
    """One regional subnetwork with the secondary ranges a VPC-native GKE cluster uses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$")
    region: str = Field(pattern=r"^[a-z]+-[a-z]+\d+$")
    cidr: str
    pods_cidr: str
    services_cidr: str


class NetworkArgs(ComponentArgs):
    subnets: list[SubnetSpec] = Field(min_length=1)
    allow_iap_ssh: bool = Field(True, description="Allow SSH from Google's IAP range only.")
    flow_logs: bool = Field(True, description="Subnetwork flow logs (on by default).")
    nat: bool = Field(True, description="Cloud Router + Cloud NAT per region for private egress.")

    @model_validator(mode="after")
    def _ranges(self) -> NetworkArgs:
        names = [s.name for s in self.subnets]
        if len(names) != len(set(names)):
            raise ValueError("subnet names must be unique")
        validate_ranges(
            (f"{s.name}.{kind}", cidr)
            for s in self.subnets
            for kind, cidr in (("cidr", s.cidr), ("pods_cidr", s.pods_cidr), ("services_cidr", s.services_cidr))
        )
        return self


def pods_range_name(subnet: str) -> str:
    return f"{subnet}-pods"


def services_range_name(subnet: str) -> str:
    return f"{subnet}-services"


class Network(pulumi.ComponentResource):
    """VPC (no auto subnets), subnetworks, router + NAT, internal-only and IAP-SSH firewall rules."""

    network_id: pulumi.Output[str]
    network_self_link: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:gcp:Network", name, None, opts)
        base = dns_label(pulumi.get_project(), pulumi.get_stack(), name, max_len=40)
        self.network = gcp.compute.Network(
            f"{name}-vpc",
            name=base,
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=child(self),
        )
        self.subnetworks: dict[str, gcp.compute.Subnetwork] = {}
        for spec in args.subnets:
            log_config = (
                {"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"}
                if args.flow_logs
                else None
            )
            self.subnetworks[spec.name] = gcp.compute.Subnetwork(
                f"{name}-{spec.name}",
                name=dns_label(base, spec.name, max_len=63),
                network=self.network.id,
                region=spec.region,
                ip_cidr_range=spec.cidr,
                private_ip_google_access=True,
                secondary_ip_ranges=[
                    {"range_name": pods_range_name(spec.name), "ip_cidr_range": spec.pods_cidr},
                    {"range_name": services_range_name(spec.name), "ip_cidr_range": spec.services_cidr},
                ],
                log_config=log_config,
                opts=child(self),
            )
        if args.nat:
            for region in sorted({s.region for s in args.subnets}):
                router = gcp.compute.Router(
                    f"{name}-router-{region}",
                    name=dns_label(base, "router", region, max_len=63),
                    network=self.network.id,
                    region=region,
                    opts=child(self),
                )
                gcp.compute.RouterNat(
                    f"{name}-nat-{region}",
                    name=dns_label(base, "nat", region, max_len=63),
                    router=router.name,
                    region=region,
                    nat_ip_allocate_option="AUTO_ONLY",
                    source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
                    log_config={"enable": True, "filter": "ERRORS_ONLY"},
                    opts=child(self),
                )
        internal = sorted({c for s in args.subnets for c in (s.cidr, s.pods_cidr, s.services_cidr)})
        gcp.compute.Firewall(
            f"{name}-allow-internal",
            name=dns_label(base, "allow-internal", max_len=63),
            network=self.network.id,
            direction="INGRESS",
            priority=1000,
            source_ranges=internal,
            allows=[{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}],
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
            opts=child(self),
        )
        if args.allow_iap_ssh:
            gcp.compute.Firewall(
                f"{name}-allow-iap-ssh",
                name=dns_label(base, "allow-iap-ssh", max_len=63),
                network=self.network.id,
                direction="INGRESS",
                priority=1000,
                source_ranges=[IAP_RANGE],
                allows=[{"protocol": "tcp", "ports": ["22"]}],
                log_config={"metadata": "INCLUDE_ALL_METADATA"},
                opts=child(self),
            )
        self.network_id = self.network.id
        self.network_self_link = self.network.self_link
        self.subnetwork_ids = {k: v.id for k, v in self.subnetworks.items()}
        self.register_outputs(
            {
                "network_id": self.network_id,
                "network_self_link": self.network_self_link,
                "subnetwork_ids": self.subnetwork_ids,
            }
        )
