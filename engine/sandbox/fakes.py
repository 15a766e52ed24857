"""Deterministic fake cloud values: the computed outputs a stack reads, derived only from a resource's identity.

Keys are Pulumi wire names (camelCase), as providers return them. The same inputs always give the same values, so
synth output, sandbox state and tests are reproducible.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

ACCOUNT_ID = "123456789012"
DEFAULT_AWS_REGION = "us-east-1"
GCP_PROJECT = "datamcp-sandbox"
DEFAULT_GCP_REGION = "europe-west1"
PACKAGES = ("aws", "gcp", "kubernetes")  # the provider plugins the simulated cloud stands in for
SIMULATED_MARKER = "datamcpSimulated"


def digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:length]


def _short(typ: str) -> str:
    """'aws:ec2/vpc:Vpc' -> 'vpc'."""
    return typ.rsplit(":", 1)[-1].lower()


def fake_id(typ: str, name: str) -> str:  # name doubles as the digest seed
    """A provider-style id: 'vpc-0123abcd...' for AWS EC2, 'projects/.../name' style for GCP, a name otherwise."""
    if typ.startswith("aws:ec2/"):
        prefix = {
            "vpc": "vpc",
            "subnet": "subnet",
            "internetgateway": "igw",
            "natgateway": "nat",
            "eip": "eipalloc",
            "routetable": "rtb",
            "routetableassociation": "rtbassoc",
            "flowlog": "fl",
            "defaultsecuritygroup": "sg",
            "securitygroup": "sg",
        }.get(_short(typ), _short(typ))
        return f"{prefix}-{digest(typ, name)}"
    return f"{_short(typ)}-{digest(typ, name, length=12)}"


def _pem_like(seed: str) -> str:
    body = base64.b64encode(hashlib.sha512(seed.encode()).digest() * 4).decode()
    pem = "-----BEGIN CERTIFICATE-----\n" + body + "\n-----END CERTIFICATE-----\n"
    return base64.b64encode(pem.encode()).decode()


def aws_outputs(
    typ: str, name: str, inputs: dict[str, Any], region: str = DEFAULT_AWS_REGION, seed: str | None = None
) -> dict[str, Any]:
    """Computed outputs for an AWS resource (inputs are echoed by the caller); `seed` makes ids unique per stack."""
    key_seed = seed or name
    rid = fake_id(typ, key_seed)
    service = typ.split(":")[1].split("/")[0]
    out: dict[str, Any] = {"arn": f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{_short(typ)}/{rid}"}
    short = _short(typ)
    if short == "bucket":
        bucket = inputs.get("bucket") or f"{name}-{digest(name, length=7)}"
        rid = bucket
        out.update(
            bucket=bucket,
            arn=f"arn:aws:s3:::{bucket}",
            bucketRegionalDomainName=f"{bucket}.s3.{region}.amazonaws.com",
            region=region,
        )
    elif short == "role":
        role = inputs.get("name") or name
        out.update(name=role, arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{role}", uniqueId=f"AROA{digest(role).upper()}")
        rid = role
    elif short == "key" and service == "kms":
        key_id = (
            f"{digest(key_seed, length=8)}-{digest(key_seed, '1', length=4)}-{digest(key_seed, '2', length=4)}-"
            f"{digest(key_seed, '3', length=4)}-{digest(key_seed, '4', length=12)}"
        )
        out.update(keyId=key_id, arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}")
        rid = key_id
    elif short == "cluster" and service == "eks":
        cluster = inputs.get("name") or name
        host = digest(cluster, length=32).upper()
        out.update(
            name=cluster,
            arn=f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{cluster}",
            endpoint=f"https://{host}.gr7.{region}.eks.amazonaws.com",
            certificateAuthority={"data": _pem_like(cluster)},
            identities=[{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{host}"}]}],
            status="ACTIVE",
            platformVersion="eks.1",
        )
        rid = cluster
    elif short == "table":
        table = inputs.get("name") or name
        out.update(name=table, arn=f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}")
        rid = table
    elif short == "loggroup":
        group = inputs.get("name") or name
        out.update(name=group, arn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{group}")
        rid = group
    elif short == "eip":
        out.update(allocationId=rid, publicIp=f"198.51.100.{int(digest(key_seed, length=2), 16) % 254 + 1}")
    elif short == "openidconnectprovider":
        url = str(inputs.get("url", "")).removeprefix("https://")
        out.update(arn=f"arn:aws:iam::{ACCOUNT_ID}:oidc-provider/{url or rid}")
    elif short == "nodegroup":
        out.update(status="ACTIVE")
    out["id"] = rid
    return out


def gcp_outputs(
    typ: str, name: str, inputs: dict[str, Any], project: str = GCP_PROJECT, seed: str | None = None
) -> dict[str, Any]:
    short = _short(typ)
    res_name = inputs.get("name") or f"{name}-{digest(name, length=7)}"
    region = inputs.get("region") or inputs.get("location") or DEFAULT_GCP_REGION
    base = f"https://www.googleapis.com/compute/v1/projects/{project}"
    out: dict[str, Any] = {"name": res_name, "project": project}
    if short == "network":
        out.update(id=f"projects/{project}/global/networks/{res_name}", selfLink=f"{base}/global/networks/{res_name}")
    elif short == "subnetwork":
        out.update(
            id=f"projects/{project}/regions/{region}/subnetworks/{res_name}",
            selfLink=f"{base}/regions/{region}/subnetworks/{res_name}",
        )
    elif short == "cluster":
        out.update(
            id=f"projects/{project}/locations/{region}/clusters/{res_name}",
            endpoint=f"10.{int(digest(res_name, length=2), 16) % 250}.0.2",
            masterAuth={"clusterCaCertificate": _pem_like(res_name)},
            selfLink=f"https://container.googleapis.com/v1/projects/{project}/locations/{region}/clusters/{res_name}",
        )
    elif short == "account":
        account_id = inputs.get("accountId") or res_name
        email = f"{account_id}@{project}.iam.gserviceaccount.com"
        out.update(
            id=f"projects/{project}/serviceAccounts/{email}",
            email=email,
            member=f"serviceAccount:{email}",
            name=f"projects/{project}/serviceAccounts/{email}",
        )
    elif short == "bucket":
        out.update(id=res_name, url=f"gs://{res_name}", selfLink=f"https://www.googleapis.com/storage/v1/b/{res_name}")
    elif short in ("keyring", "cryptokey"):
        parent = inputs.get("keyRing") or f"projects/{project}/locations/{inputs.get('location', 'global')}"
        collection = "keyRings" if short == "keyring" else "cryptoKeys"
        out.update(id=f"{parent}/{collection}/{res_name}")
    else:
        out.update(id=f"projects/{project}/{short}s/{res_name}", selfLink=f"{base}/{short}s/{res_name}")
    return out


def kubernetes_outputs(typ: str, name: str, inputs: dict[str, Any], seed: str | None = None) -> dict[str, Any]:
    meta = dict(inputs.get("metadata") or {})
    meta.setdefault("name", f"{name}-{digest(name, length=8)}")
    ns = meta.get("namespace") or inputs.get("namespace")
    out: dict[str, Any] = {"metadata": {**meta, "uid": digest(typ, seed or name, length=32)}}
    if typ == "kubernetes:helm.sh/v3:Release":
        release = inputs.get("name") or name
        out = {
            "name": release,
            "status": {
                "name": release,
                "namespace": ns or "default",
                "status": "deployed",
                "revision": 1,
                "chart": inputs.get("chart"),
                "version": inputs.get("version"),
            },
        }
    out["id"] = f"{ns}/{meta['name']}" if ns else str(meta["name"])
    return out


def resource_outputs(
    typ: str,
    name: str,
    inputs: dict[str, Any],
    *,
    seed: str | None = None,
    aws_region: str = DEFAULT_AWS_REGION,
    gcp_project: str = GCP_PROJECT,
) -> tuple[str, dict[str, Any]]:
    """(id, outputs) for any resource: inputs echoed, computed values added, marked as simulated."""
    if typ.startswith("aws:"):
        computed = aws_outputs(typ, name, inputs, region=aws_region, seed=seed)
    elif typ.startswith("gcp:"):
        computed = gcp_outputs(typ, name, inputs, project=gcp_project, seed=seed)
    elif typ.startswith("kubernetes:"):
        computed = kubernetes_outputs(typ, name, inputs, seed=seed)
    else:
        computed = {"id": fake_id(typ, seed or name)}
    rid = str(computed.pop("id"))
    outputs = {**inputs, **computed, SIMULATED_MARKER: True}
    return rid, outputs


def invoke(function: str, args: dict[str, Any]) -> dict[str, Any]:
    """Answers for the invokes the stacks use (zones, identity, region, GCP client config)."""
    if function == "aws:index/getAvailabilityZones:getAvailabilityZones":
        region = args.get("region") or DEFAULT_AWS_REGION
        letters = "abcdef"
        return {
            "names": [f"{region}{c}" for c in letters],
            "zoneIds": [f"use1-az{i + 1}" for i in range(6)],
            "id": region,
            "groupNames": [region],
        }
    if function == "aws:index/getCallerIdentity:getCallerIdentity":
        return {
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/sandbox",
            "userId": "AIDASANDBOX",
            "id": ACCOUNT_ID,
        }
    if function == "aws:index/getRegion:getRegion":
        region = args.get("region") or DEFAULT_AWS_REGION
        return {
            "region": region,
            "name": region,
            "id": region,
            "endpoint": f"ec2.{region}.amazonaws.com",
            "description": "Simulated region",
        }
    if function == "aws:index/getPartition:getPartition":
        return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
    if function == "gcp:organizations/getClientConfig:getClientConfig":
        return {
            "project": GCP_PROJECT,
            "region": DEFAULT_GCP_REGION,
            "zone": f"{DEFAULT_GCP_REGION}-b",
            "accessToken": "simulated-token",
            "id": GCP_PROJECT,
        }
    if function == "gcp:organizations/getProject:getProject":
        return {"projectId": GCP_PROJECT, "number": "123456789012", "name": GCP_PROJECT, "id": GCP_PROJECT}
    if function == "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
        email = "service-123456789012@gs-project-accounts.iam.gserviceaccount.com"
        return {"emailAddress": email, "member": f"serviceAccount:{email}", "project": GCP_PROJECT, "id": email}
    if function == "gcp:compute/getZones:getZones":
        region = args.get("region") or DEFAULT_GCP_REGION
        return {"names": [f"{region}-{c}" for c in "bcd"], "id": region}
    raise KeyError(f"the simulated cloud does not answer invoke {function}")
