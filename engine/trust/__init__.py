"""Proven identities for approvals: SSH-signed by people, Ed25519-signed by the server, checked against a trust list."""

from __future__ import annotations

import json

from engine.trust.approvers import DEFAULT_PATH, Approver, Role, SshPublicKey, TrustList, verify_signed
from engine.trust.server_key import ServerKey, ServerVerifier
from engine.trust.ssh import NAMESPACE, find_principals, sign, verify

__all__ = [
    "DEFAULT_PATH",
    "NAMESPACE",
    "Approver",
    "Role",
    "ServerKey",
    "ServerVerifier",
    "SshPublicKey",
    "TrustList",
    "canonical_json",
    "find_principals",
    "sign",
    "verify",
    "verify_signed",
]


def canonical_json(obj: object) -> bytes:
    """The one byte form of a payload that gets signed: sorted keys, no spaces, UTF-8, no NaN or Infinity.

    Keep payloads to strings, integers, booleans, null, lists and objects: floats have no canonical text here.
    """
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
