"""A custom-mode VPC with regional subnetworks (pods/services ranges), Cloud NAT and closed-by-default firewalls."""

from __future__ import annotations

from typing import Any

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
        self.subnetworks = self._subnetworks(name, base, args)
        if args.nat:
            self._nat(name, base, args)
        self._firewalls(name, base, args)
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

    def _subnetworks(self, name: str, base: str, args: NetworkArgs) -> dict[str, gcp.compute.Subnetwork]:
        """One subnetwork per spec with its pods/services ranges and Private Google Access (no public IPs needed)."""
        log_config = (
            {"aggregation_interval": "INTERVAL_5_SEC", "flow_sampling": 0.5, "metadata": "INCLUDE_ALL_METADATA"}
            if args.flow_logs
            else None
        )
        return {
            spec.name: gcp.compute.Subnetwork(
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
            for spec in args.subnets
        }

    def _nat(self, name: str, base: str, args: NetworkArgs) -> None:
        """A Cloud Router and Cloud NAT per region: private nodes reach out, nothing reaches in."""
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

    def _firewalls(self, name: str, base: str, args: NetworkArgs) -> None:
        """Ingress only from the subnets' own ranges, and SSH only from IAP: the VPC denies all other ingress."""
        internal = sorted({c for s in args.subnets for c in (s.cidr, s.pods_cidr, s.services_cidr)})
        all_protocols = [{"protocol": "tcp"}, {"protocol": "udp"}, {"protocol": "icmp"}]
        self._allow_ingress(name, base, "allow-internal", internal, all_protocols)
        if args.allow_iap_ssh:
            self._allow_ingress(name, base, "allow-iap-ssh", [IAP_RANGE], [{"protocol": "tcp", "ports": ["22"]}])

    def _allow_ingress(self, name: str, base: str, rule: str, sources: list[str], allows: list[dict[str, Any]]) -> None:
        """One logged ingress allow rule: every rule is logged so that what got in can be audited."""
        gcp.compute.Firewall(
            f"{name}-{rule}",
            name=dns_label(base, rule, max_len=63),
            network=self.network.id,
            direction="INGRESS",
            priority=1000,
            source_ranges=sources,
            allows=allows,
            log_config={"metadata": "INCLUDE_ALL_METADATA"},
            opts=child(self),
        )
