"""Pure helpers that validate a GCP subnetwork's primary and secondary ranges."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from components.ipv4 import PRIVATE_BLOCKS


def validate_ranges(named: Iterable[tuple[str, str]]) -> None:
    """Every range is a private IPv4 block with no host bits, and no two ranges overlap."""
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for label, cidr in named:
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            raise ValueError(f"{label}: {cidr!r} is not a valid network: {exc}") from None
        if not isinstance(net, ipaddress.IPv4Network) or not any(net.subnet_of(b) for b in PRIVATE_BLOCKS):
            raise ValueError(f"{label}: {cidr!r} must be a private RFC 1918 IPv4 block")
        if net.prefixlen > 29:
            raise ValueError(f"{label}: {cidr!r} is smaller than GCP's smallest subnet range (/29)")
        for other_label, other in seen:
            if net.overlaps(other):
                raise ValueError(f"{label} {cidr} overlaps {other_label} {other}")
        seen.append((label, net))
