"""Run a Pulumi program under mocks and record every registration: the basis of `synth` and of component tests.

The mock cloud answers with the simulated cloud's deterministic values (engine/sandbox/fakes.py). Pulumi's runtime
settings are process-global: call `run_program` in one process at a time (engine.synth isolates each run).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as pulumi_settings

from engine.masking import SECRET as SECRET_PLACEHOLDER
from engine.sandbox import fakes

UNKNOWN_PLACEHOLDER = "[unknown]"


def _walk(value: Any, *, mask: bool) -> Any:
    """Unwrap RPC secrets (or, with mask, replace them by "[secret]") and mark unknowns, recursively."""
    if rpc.is_rpc_secret(value):
        return SECRET_PLACEHOLDER if mask else _walk(rpc.unwrap_rpc_secret(value), mask=mask)
    if isinstance(value, pulumi.output.Unknown):
        return UNKNOWN_PLACEHOLDER
    if isinstance(value, dict):
        return {k: _walk(v, mask=mask) for k, v in value.items()}
    if isinstance(value, list):
        return [_walk(v, mask=mask) for v in value]
    if isinstance(value, pulumi.Resource):
        return "[resource]"
    return value


@dataclass
class Registration:
    """One registered resource as the engine would see it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    inputs: dict[str, Any]  # secrets shown as "[secret]"
    raw_inputs: dict[str, Any]  # secrets unwrapped: for tests only, never for output
    protect: bool
    id: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)


class _Mocks(pulumi.runtime.Mocks):
    def __init__(
        self,
        overrides: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
        computed: bool = True,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.computed = computed
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if not args.custom:
            return None, {}
        inputs = _walk(args.inputs, mask=False)
        if not self.computed:
            # As in a real preview: only inputs are known; ids and computed outputs stay unknown.
            return None, inputs
        return fakes.resource_outputs(args.typ, args.name, inputs)

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        plain = _walk(args.args, mask=False)
        self.calls.append((args.token, plain))
        if args.token in self.overrides:
            return self.overrides[args.token](plain), []
        return fakes.invoke(args.token, plain), []


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: _Mocks, project: str, stack: str) -> None:
        super().__init__(mocks)
        self.project = project
        self.stack = stack
        self.registrations: dict[str, Registration] = {}
        self.stack_outputs: dict[str, Any] = {}
        self.stack_urn = ""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the real engine builds them (the monitor runs in threads that do not see Pulumi's context)."""
        if parent and parent != self.stack_urn:
            type_ = parent.split("::")[2] + "$" + type_
        return f"urn:pulumi:{self.stack}::{self.project}::{type_}::{name}"

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = response.urn
            return response
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        record = Registration(
            urn=response.urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            dependencies=sorted(set(request.dependencies)),
            inputs=_walk(inputs, mask=True),
            raw_inputs=_walk(inputs, mask=False),
            protect=bool(request.protect),
            id=response.id or None,
        )
        if response.object is not None and request.custom:
            record.outputs = _walk(rpc.deserialize_properties(response.object, keep_unknowns=True), mask=True)
        self.registrations[response.urn] = record
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        outputs = _walk(rpc.deserialize_properties(request.outputs, keep_unknowns=True), mask=True)
        if request.urn == self.stack_urn:
            self.stack_outputs = outputs
        elif request.urn in self.registrations:
            self.registrations[request.urn].outputs = outputs
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


@dataclass
class ProgramRun:
    """What a program registered, in registration order, plus its stack outputs (secrets masked)."""

    resources: list[Registration]
    outputs: dict[str, Any]
    invokes: list[tuple[str, dict[str, Any]]]

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.resources if r.type == typ]

    def one(self, typ: str) -> Registration:
        found = self.of_type(typ)
        if len(found) != 1:
            raise AssertionError(f"expected one {typ}, found {len(found)}")
        return found[0]

    def children_of(self, urn: str) -> list[Registration]:
        return [r for r in self.resources if r.parent == urn]

    def count_by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            counts[r.type] = counts.get(r.type, 0) + 1
        return dict(sorted(counts.items()))


_LOOP: asyncio.AbstractEventLoop | None = None


class ProgramFailed(Exception):
    """The program raised; `run` holds what it had registered by then, `__cause__` the original error."""

    def __init__(self, error: BaseException, run: ProgramRun) -> None:
        super().__init__(str(error))
        self.error = error
        self.run = run


def run_program(
    program: Callable[[], Any],
    *,
    project: str = "datamcp",
    stack: str = "test",
    config: Mapping[str, str] | None = None,
    secret_keys: list[str] | None = None,
    preview: bool = False,
    computed: bool = True,
    invoke_overrides: Mapping[str, Callable[[dict[str, Any]], dict[str, Any]]] | None = None,
) -> ProgramRun:
    """Run `program` under mocks and return every registration; a failing program raises ProgramFailed.

    With `preview=True, computed=False` it behaves like a real preview: computed outputs are unknown.
    """
    # Pulumi's runtime keeps state bound to the loop it first ran on, and a caller's asyncio.run() leaves none set:
    # every run in this process uses one loop of its own.
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    asyncio.set_event_loop(_LOOP)
    mocks = _Mocks(invoke_overrides, computed=computed)
    monitor = _RecordingMonitor(mocks, project, stack)
    pulumi_settings.ROOT.set(None)  # a new root stack resource for every run
    pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys or []))
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def run() -> Any:
        return program()

    def result() -> ProgramRun:
        return ProgramRun(
            resources=list(monitor.registrations.values()), outputs=monitor.stack_outputs, invokes=list(mocks.calls)
        )

    try:
        run()
        exports = getattr(pulumi_settings.get_root_resource(), "outputs", None) or {}
        monitor.stack_outputs = _LOOP.run_until_complete(_resolve_exports(exports))
    except Exception as exc:
        raise ProgramFailed(exc, result()) from exc
    return result()


async def _resolve_exports(exports: Mapping[str, Any]) -> dict[str, Any]:
    """Stack exports as a reader should see them: secrets masked, values unknown until applied marked."""
    resolved: dict[str, Any] = {}
    for name, value in sorted(exports.items()):
        output = pulumi.Output.from_input(value)
        if await output.is_secret():
            resolved[name] = SECRET_PLACEHOLDER
        elif not await output.is_known():
            resolved[name] = UNKNOWN_PLACEHOLDER
        else:
            resolved[name] = _walk(await output.future(with_unknowns=True), mask=True)
    return resolved
