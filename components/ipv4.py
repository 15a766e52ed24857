"""The private IPv4 blocks of RFC 1918, that every network (an AWS VPC, a GCP subnetwork and its ranges) stays in."""

from __future__ import annotations

import ipaddress

PRIVATE_BLOCKS = tuple(ipaddress.IPv4Network(b) for b in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
