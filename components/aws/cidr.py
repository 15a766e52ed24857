"""Pure helpers that validate a VPC block and carve subnets from it without overlap."""

from __future__ import annotations

import ipaddress
import math

from components.ipv4 import PRIVATE_BLOCKS

AWS_SMALLEST_SUBNET = 28


def validate_vpc_cidr(cidr: str, min_prefix: int = 16, max_prefix: int = 24) -> ipaddress.IPv4Network:
    """A private RFC 1918 IPv4 block of /min_prefix to /max_prefix with no host bits set."""
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError as exc:
        raise ValueError(f"cidr {cidr!r} is not a valid network: {exc}") from None
    if not isinstance(net, ipaddress.IPv4Network):
        raise ValueError(f"cidr {cidr!r} must be IPv4")
    if not any(net.subnet_of(block) for block in PRIVATE_BLOCKS):
        raise ValueError(f"cidr {cidr!r} is not inside a private RFC 1918 block (10/8, 172.16/12, 192.168/16)")
    if not min_prefix <= net.prefixlen <= max_prefix:
        raise ValueError(f"cidr {cidr!r} must be /{min_prefix} to /{max_prefix}")
    return net


def carve_subnets(vpc_cidr: str, az_count: int, subnet_prefix: int | None = None) -> tuple[list[str], list[str]]:
    """(public, private) subnet CIDRs, one of each per AZ, carved from `vpc_cidr` in order without overlap.

    Without `subnet_prefix` the block is split into the fewest equal parts that hold 2 * az_count subnets.
    """
    net = validate_vpc_cidr(vpc_cidr)
    if az_count < 1:
        raise ValueError("az_count must be at least 1")
    needed = 2 * az_count
    prefix = subnet_prefix if subnet_prefix is not None else net.prefixlen + math.ceil(math.log2(needed))
    if prefix < net.prefixlen:
        raise ValueError(f"subnet prefix /{prefix} is larger than the VPC block {net}")
    if prefix > AWS_SMALLEST_SUBNET:
        raise ValueError(f"{net} cannot hold {needed} subnets: they would be /{prefix}, smaller than /28")
    available = 2 ** (prefix - net.prefixlen)
    if available < needed:
        raise ValueError(f"{net} holds {available} subnets of /{prefix}, {needed} are needed for {az_count} AZs")
    subnets = [str(s) for s in list(net.subnets(new_prefix=prefix))[:needed]]
    return subnets[:az_count], subnets[az_count:]
