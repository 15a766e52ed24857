"""The simulated-cloud resource provider: a gRPC `ResourceProvider` the real pulumi CLI loads in place of the aws,
gcp and kubernetes plugins in sandbox mode (`python -m engine.sandbox.provider PACKAGE`).

Honest and deterministic: no credentials, ids and computed outputs derived from the URN, diffs from old and new
inputs with a small table of force-new properties, and an on-disk inventory (engine/sandbox/inventory.py) so refresh
sees what up created. It simulates no API validation, quotas or eventual consistency (docs/sandbox.md).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent import futures
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from engine.sandbox import fakes
from engine.sandbox.fakes import PACKAGES
from engine.sandbox.inventory import Inventory

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for a value not known until apply
SANDBOX_DIR_ENV = "DATAMCP_SANDBOX_DIR"
FAULTS_ENV = "DATAMCP_SANDBOX_FAULTS"
PROFILE_ENV = "DATAMCP_SANDBOX_PROFILE"  # a directory: each provider process appends its RPC timings there

# Properties whose change replaces the resource (top-level keys or dotted paths into objects).
FORCE_NEW: dict[str, tuple[str, ...]] = {
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "vpcId", "availabilityZone"),
    "aws:ec2/natGateway:NatGateway": ("subnetId", "allocationId"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": ("subnetId",),
    "aws:ec2/flowLog:FlowLog": ("vpcId", "logDestination", "trafficType"),
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:eks/cluster:Cluster": ("name", "encryptionConfig"),
    "aws:eks/nodeGroup:NodeGroup": ("clusterName", "nodeGroupName", "instanceTypes", "capacityType", "diskSize"),
    "aws:dynamodb/table:Table": ("name", "hashKey", "rangeKey"),
    "aws:iam/role:Role": ("name",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("role", "policyArn"),
    "aws:cloudwatch/logGroup:LogGroup": ("name",),
    "aws:kms/alias:Alias": ("name",),
    "gcp:compute/network:Network": ("name", "autoCreateSubnetworks"),
    "gcp:compute/subnetwork:Subnetwork": ("name", "network", "region"),
    "gcp:container/cluster:Cluster": ("name", "location", "network", "subnetwork", "privateClusterConfig"),
    "gcp:container/nodePool:NodePool": ("name", "cluster", "location"),
    "gcp:storage/bucket:Bucket": ("name", "location"),
    "gcp:serviceaccount/account:Account": ("accountId",),
    "gcp:kms/keyRing:KeyRing": ("name", "location"),
    "gcp:kms/cryptoKey:CryptoKey": ("name", "keyRing"),
    "kubernetes:helm.sh/v3:Release": ("name", "namespace"),
    "kubernetes:core/v1:Secret": ("metadata.name", "metadata.namespace"),
    "kubernetes:argoproj.io/v1alpha1:Application": ("metadata.name", "metadata.namespace"),
}


def to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(struct) if struct is not None else {}


def to_struct(data: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(data)
    return s


def _get(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _contains_unknown(value: Any) -> bool:
    if value == UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(_contains_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_unknown(v) for v in value)
    return False


def diff_inputs(typ: str, olds: dict[str, Any], news: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(changed keys, keys that force a replacement) between old and new inputs; unknown new values count as changed."""
    keys = sorted(set(olds) | set(news))
    changed = [k for k in keys if olds.get(k) != news.get(k) or _contains_unknown(news.get(k))]
    replaces = []
    for path in FORCE_NEW.get(typ, ()):
        top = path.split(".")[0]
        if top in changed and (_get(olds, path) != _get(news, path) or _contains_unknown(_get(news, path))):
            replaces.append(top)
    return changed, sorted(set(replaces))


def _logical_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


class SimulatedProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, package: str, inventory: Inventory, version: str) -> None:
        self.package = package
        self.inventory = inventory
        self.version = version
        self.config: dict[str, Any] = {}
        self.faults: dict[str, str] = json.loads(os.environ.get(FAULTS_ENV) or "{}")

    # --- plugin and configuration -------------------------------------------------------------------------------
    def GetPluginInfo(self, request: Any, context: Any) -> Any:
        return plugin_pb2.PluginInfo(version=self.version)

    def GetSchema(self, request: Any, context: Any) -> Any:
        schema = {"name": self.package, "version": self.version, "description": "DataMCP simulated cloud"}
        return provider_pb2.GetSchemaResponse(schema=json.dumps(schema))

    def CheckConfig(self, request: Any, context: Any) -> Any:
        return provider_pb2.CheckResponse(inputs=request.news)

    def DiffConfig(self, request: Any, context: Any) -> Any:
        changed, _ = diff_inputs("", to_dict(request.olds), to_dict(request.news))
        changes = provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE
        return provider_pb2.DiffResponse(changes=changes, diffs=changed)

    def Configure(self, request: Any, context: Any) -> Any:
        self.config = to_dict(request.args)
        for key, value in request.variables.items():  # older form: "aws:config:region"
            self.config.setdefault(key.rsplit(":", 1)[-1], value)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=True, acceptResources=False, acceptOutputs=False
        )

    def Cancel(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    # --- resources ----------------------------------------------------------------------------------------------
    def _computed(self, typ: str, urn: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        # Seeded by URN and inputs: stable for the same request, and a replacement gets a new id, as in a cloud.
        seed = f"{urn}#{fakes.digest(json.dumps(inputs, sort_keys=True))}"
        return fakes.resource_outputs(
            typ,
            _logical_name(urn),
            inputs,
            seed=seed,
            aws_region=str(self.config.get("region") or fakes.DEFAULT_AWS_REGION),
            gcp_project=str(self.config.get("project") or fakes.GCP_PROJECT),
        )

    def _fault(self, op: str, urn: str) -> None:
        """Fault injection for tests: die mid-operation after the cloud-side change, as a crashed plugin would."""
        target = self.faults.get(f"crash_after_{op}")
        if target and target in urn:
            os._exit(17)

    def _reject(self, op: str, urn: str, inputs: dict[str, Any]) -> None:
        """Fault injection for tests: refuse the request and echo it in the error, as many cloud APIs do with a
        request they cannot parse, so secret inputs reach the CLI's error output in plain text."""
        target = self.faults.get(f"reject_{op}")
        if target and target in urn:
            raise ValueError(f"the cloud refused the request {json.dumps(inputs, sort_keys=True)}")

    def _stall(self, op: str, urn: str) -> None:
        """Fault injection for tests: a slow cloud call, so a test can interrupt or cancel the operation."""
        target = self.faults.get(f"stall_{op}")
        if target and target in urn:
            time.sleep(float(self.faults.get("stall_seconds", "30")))

    def Check(self, request: Any, context: Any) -> Any:
        return provider_pb2.CheckResponse(inputs=request.news)

    def Diff(self, request: Any, context: Any) -> Any:
        olds = to_dict(request.old_inputs) if request.HasField("old_inputs") else to_dict(request.olds)
        olds.pop(fakes.SIMULATED_MARKER, None)
        news = to_dict(request.news)
        ignore = set(request.ignoreChanges)
        changed, replaces = diff_inputs(request.type or request.urn.split("::")[2].split("$")[-1], olds, news)
        changed = [k for k in changed if k not in ignore]
        replaces = [k for k in replaces if k not in ignore]
        kinds = provider_pb2.PropertyDiff
        detailed = {}
        for key in changed:
            if key not in olds:
                kind = kinds.ADD_REPLACE if key in replaces else kinds.ADD
            elif key not in news:
                kind = kinds.DELETE_REPLACE if key in replaces else kinds.DELETE
            else:
                kind = kinds.UPDATE_REPLACE if key in replaces else kinds.UPDATE
            detailed[key] = kinds(kind=kind, inputDiff=True)
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=changed,
            replaces=replaces,
            detailedDiff=detailed,
            hasDetailedDiff=True,
            deleteBeforeReplace=False,
        )

    def Create(self, request: Any, context: Any) -> Any:
        typ = request.type or request.urn.split("::")[2].split("$")[-1]
        inputs = to_dict(request.properties)
        rid, outputs = self._computed(typ, request.urn, inputs)
        if request.preview:
            unknown = {k: UNKNOWN for k in outputs if k not in inputs and k != fakes.SIMULATED_MARKER}
            return provider_pb2.CreateResponse(id="", properties=to_struct({**outputs, **unknown}))
        for existing in self.inventory.find(request.urn):
            if existing["inputs"] == inputs:
                # The same request again (e.g. after a crash): like a cloud API with idempotency tokens, it returns
                # what the first request created instead of creating a second one.
                return provider_pb2.CreateResponse(id=existing["id"], properties=to_struct(existing["outputs"]))
        self._reject("create", request.urn, inputs)
        self.inventory.put(request.urn, rid, typ, inputs, outputs)
        self._stall("create", request.urn)
        self._fault("create", request.urn)
        return provider_pb2.CreateResponse(id=rid, properties=to_struct(outputs))

    def Read(self, request: Any, context: Any) -> Any:
        record = self.inventory.get(request.urn, request.id)
        if record is None:
            return provider_pb2.ReadResponse(id="")  # gone: refresh drops it from state
        return provider_pb2.ReadResponse(
            id=record["id"], properties=to_struct(record["outputs"]), inputs=to_struct(record["inputs"])
        )

    def Update(self, request: Any, context: Any) -> Any:
        typ = request.type or request.urn.split("::")[2].split("$")[-1]
        news = to_dict(request.news)
        olds = to_dict(request.olds)
        old_inputs = to_dict(request.old_inputs) if request.HasField("old_inputs") else {}
        # An update keeps the resource's identity: computed outputs (id, arn, endpoint) stay as they were.
        computed = {k: v for k, v in olds.items() if k not in old_inputs and k not in news}
        outputs = {**computed, **news, fakes.SIMULATED_MARKER: True}
        if request.preview:
            return provider_pb2.UpdateResponse(properties=to_struct(outputs))
        self.inventory.put(request.urn, request.id, typ, news, outputs)
        self._fault("update", request.urn)
        return provider_pb2.UpdateResponse(properties=to_struct(outputs))

    def Delete(self, request: Any, context: Any) -> Any:
        self.inventory.delete(request.urn, request.id)
        self._fault("delete", request.urn)
        return empty_pb2.Empty()

    def Invoke(self, request: Any, context: Any) -> Any:
        args = to_dict(request.args)
        if "region" not in args and self.package == "aws" and self.config.get("region"):
            args["region"] = self.config["region"]
        if self.package == "gcp" and self.config.get("region"):
            args.setdefault("region", self.config["region"])
        try:
            result = fakes.invoke(request.tok, args)
        except KeyError as exc:
            return provider_pb2.InvokeResponse(failures=[provider_pb2.CheckFailure(property="", reason=str(exc))])
        if self.package == "gcp" and self.config.get("project"):
            result = {**result, "project": self.config["project"]} if "project" in result else result
        return provider_pb2.InvokeResponse(**{"return": to_struct(result)})


class _TimingInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Appends `method seconds` per RPC to a file, for the benchmark's "simulator share" (only when profiling)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    def intercept_service(self, continuation: Any, details: Any) -> Any:
        handler = continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = details.method.rsplit("/", 1)[-1]

        def timed(request: Any, context: Any) -> Any:
            start = time.perf_counter()
            try:
                return inner(request, context)
            finally:
                with self.lock, self.path.open("a") as f:
                    f.write(f"{method} {time.perf_counter() - start:.6f}\n")

        return grpc.unary_unary_rpc_method_handler(
            timed, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


def _plugin_version(package: str) -> str:
    try:
        return metadata.version(f"pulumi-{package}")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def serve(package: str) -> None:
    if package not in PACKAGES:
        raise SystemExit(f"usage: python -m engine.sandbox.provider {{{'|'.join(PACKAGES)}}}")
    root = os.environ.get(SANDBOX_DIR_ENV)
    if not root:
        raise SystemExit(f"{SANDBOX_DIR_ENV} must name the sandbox directory")
    interceptors = []
    if os.environ.get(PROFILE_ENV):
        profile_dir = Path(os.environ[PROFILE_ENV])
        profile_dir.mkdir(parents=True, exist_ok=True)
        interceptors.append(_TimingInterceptor(profile_dir / f"{package}-{os.getpid()}.txt"))
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), interceptors=interceptors)
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(
        SimulatedProvider(package, Inventory(Path(root)), _plugin_version(package)), server
    )
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    # A plugin outlives a killed engine only as an orphan; exit when the parent is gone.
    parent = os.getppid()

    def watch_parent() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    # The handshake: the engine reads the port from the first line of stdout.
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    threading.Event().wait()


if __name__ == "__main__":
    serve(sys.argv[1] if len(sys.argv) > 1 else "")
