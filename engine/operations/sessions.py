"""Stack sessions: Automation API handles (reused between operations), secrets, state, digests, running the CLI."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pulumi
from pulumi import automation as auto

from engine.catalog import StackCatalog, StackConfigError
from engine.errors import OperationCancelled, OperationFailed, StackBusy, StackConfigInvalid
from engine.masking import Masker
from engine.operations.cancellation import Cancellation
from engine.operations.cluster import Cluster
from engine.operations.context import HOST, OperationContext
from engine.operations.failures import FailureKind, classify, last_error
from engine.operations.workdir import link_charts, sync_workdir
from engine.policy.opa import bundle_digest
from engine.previews import Digests, file_sha256, tree_digest
from engine.sandbox.mode import ensure_mode, simulated_packages
from engine.settings import Settings
from engine.state_files import StateFiles
from engine.vocabulary import Status
from engine.workspace import pulumi_command, stack_handle

# The program closure: everything that can change what an apply does (sources, project config, pinned dependencies).
PROGRAM_CLOSURE = (
    "components",
    "stacks",
    "charts",
    "engine",
    "policies",
    "mcp_server.py",
    "Pulumi.yaml",
    "pyproject.toml",
    "requirements/lock.txt",
)
CODE_ROOT = Path(__file__).resolve().parents[2]  # the program that runs is this checkout's code
T = TypeVar("T")
# The cloud SDKs import their submodules lazily on first use; two inline programs doing that at once in one process
# see a half-built module ("module 'pulumi_aws.ec2' has no attribute 'Vpc'"). Program bodies only register resources
# (the engine does the work afterwards), so running one body at a time costs little.
PROGRAM_BODY = threading.Lock()


class StackSessions:
    """Handles are reused (one operation at a time each): selecting a stack costs a CLI call."""

    def __init__(self, settings: Settings, catalog: StackCatalog, cancellation: Cancellation) -> None:
        self.settings = settings
        self.catalog = catalog
        self.cluster = Cluster(settings, catalog)
        self.cancellation = cancellation
        backend = settings.backend_path
        self._stored = StateFiles(backend, catalog.project) if backend is not None else None
        self._idle: dict[str, list[auto.Stack]] = {}
        self._secrets: dict[str, list[str]] = {}
        self._config_errors: dict[str, StackConfigError] = {}
        self._creating: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        cancellation.journal.hooks(on_start=lambda op: None, on_end=self._release)

    def handle(self, op: OperationContext | None, stack: str, *, create: bool = True) -> auto.Stack:
        """A stack handle whose CLI calls `op` can interrupt (a cancel requested already interrupts at once)."""
        command = pulumi_command(self.settings)
        if op is not None:
            op.command = command
            if self.cancellation.requested(op.id):
                command.interrupt()
            with self._lock:
                idle = self._idle.get(stack) or []
                reused = idle.pop() if idle else None
            if reused is not None:
                self._workdir(stack)
                self.cluster.configure(stack, reused)
                reused.workspace.pulumi_command = command
                op.handle = reused
                return reused
        try:
            handle = self._new_handle(stack, command, create)
        except auto.StackNotFoundError:
            raise
        except auto.CommandError as exc:
            # e.g. a wrong passphrase for the stack's secrets; an interrupt here is turned into a cancel upstream
            mask = op.masker.text if op is not None else Masker().text
            raise OperationFailed(f"cannot select stack {stack}: {last_error(str(exc), mask)}", stack=stack) from None
        if op is not None:
            op.handle = handle
        return handle

    def _new_handle(self, stack: str, command: auto.PulumiCommand, create: bool) -> auto.Stack:
        """Create or select the stack; two first operations at once (here or in another process) both get it."""
        with self._creating.setdefault(stack, threading.Lock()):
            for attempt in (1, 2):
                try:
                    handle = stack_handle(
                        self.settings,
                        project=self.catalog.project,
                        stack=stack,
                        program=self._program(),
                        work_dir=self._workdir(stack),
                        command=command,
                        create=create,
                        simulated=self.simulated(stack),
                    )
                    self.cluster.configure(stack, handle)
                    return handle
                except auto.StackAlreadyExistsError:
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _workdir(self, stack: str) -> Path:
        """The CLI's folder, synced from the checkout before every operation (the checkout is never written); the
        program's charts are reachable from it by the same relative paths as in the checkout."""
        workdir = sync_workdir(self.settings.project_root, self.settings.state_dir / "workspace", stack)
        link_charts(workdir, CODE_ROOT / "charts")
        return workdir

    def simulated(self, stack: str) -> frozenset[str]:
        """The providers the sandbox stands in for on `stack` (none outside the sandbox)."""
        cloud = self.catalog.entry(stack).cloud
        return simulated_packages(self.settings.sandbox, cloud, self.settings.kubeconfig is not None)

    def _program(self) -> Callable[[], None]:
        """The stack program, remembering a config error it raised so the failure can say which key is wrong."""
        inner = self.catalog.program()

        def program() -> None:
            try:
                with PROGRAM_BODY:
                    inner()
            except StackConfigError as exc:
                with self._lock:
                    self._config_errors[pulumi.get_stack()] = exc
                raise

        return program

    def _release(self, op: OperationContext, status: Status) -> None:
        """A cancelled CLI may leave its workspace mid-command: only other handles are reused."""
        if status is not Status.CANCELLED and op.handle is not None and op.stack is not None:
            with self._lock:
                self._idle.setdefault(op.stack, []).append(op.handle)

    def learn_secrets(self, op: OperationContext, handle: auto.Stack) -> None:
        """Every secret config value becomes a masked string for this operation. Decrypting needs the CLI, so the
        values are kept per config-file digest: an unchanged file is not decrypted again."""
        config = self.settings.project_root / f"Pulumi.{handle.name}.yaml"
        key = file_sha256(config) if config.exists() else ""
        if key not in self._secrets:
            values = [v.value for v in handle.get_all_config().values() if v.secret]
            with self._lock:
                self._secrets[key] = values
        op.masker.add(*self._secrets[key], *self.cluster.secrets(handle.name))

    def digests(self, stack: str, deployment: dict[str, Any]) -> Digests:
        """What an approved apply must still match: program source, stack config, state and policy pack."""
        root = self.settings.project_root
        configs = [root / "Pulumi.yaml", root / f"Pulumi.{stack}.yaml"]  # project-level config counts too
        cluster = self.cluster.kubeconfig(stack)  # another cluster (or none: simulated) is another apply
        configs += [cluster] if cluster is not None else []
        state = json.dumps({k: v for k, v in deployment.items() if k != "manifest"}, sort_keys=True)
        return Digests(
            policy=bundle_digest(self.settings.policy_dir),
            program=tree_digest(CODE_ROOT, PROGRAM_CLOSURE),
            config=hashlib.sha256(b"".join(file_sha256(c).encode() for c in configs if c.exists())).hexdigest(),
            state=uuid.uuid5(uuid.NAMESPACE_URL, state).hex,
        )

    def state(self, stack: str, handle: auto.Stack) -> tuple[dict[str, Any], list[str]]:
        """The deployment (checked against the sandbox mode) and the URNs of pending operations. A file backend's
        checkpoint is read directly, secrets as ciphertext (a CLI export costs ~0.5 s of CPU beside the preview);
        other backends, or a checkpoint this cannot read, are exported by the CLI. Preview and apply read it the
        same way, so their state digests compare like with like (a difference refuses the apply). The CLI keeps the
        stack under the project its work dir's Pulumi.yaml names: under another name than the catalog's, it is asked."""
        files = self._files(handle)
        stored = files.deployment(stack) if files is not None else None
        deployment: dict[str, Any] = dict(stored if stored is not None else handle.export_stack().deployment or {})
        ensure_mode(stack, deployment, self.simulated(stack))
        pending = [p.get("resource", {}).get("urn", "?") for p in deployment.get("pending_operations") or []]
        return deployment, pending

    def _files(self, handle: auto.Stack) -> StateFiles | None:
        """The file backend's checkpoints, when the CLI keeps this stack under the catalog's project (its work dir's
        Pulumi.yaml names it); None otherwise: then the CLI is asked."""
        if self._stored is None or _project_of(handle) != self.catalog.project:
            return None
        return self._stored

    def update_number(self, stack: str, handle: auto.Stack, reported: int) -> int:
        """The update's number: what the backend reports, or (self-managed backends report 0) how many updates the
        stack's history holds, counted in a file backend's folder without a CLI call."""
        if reported:
            return reported
        files = self._files(handle)
        counted = files.updates(stack) if files is not None else None
        return counted if counted is not None else len(handle.history())

    def run(self, op: OperationContext, stack: str, handle: auto.Stack, fn: Callable[[], T]) -> T:
        """Run one CLI operation, translating failures: interrupted -> cancelled, backend lock -> StackBusy."""
        for first_attempt in (True, False):
            op.fence.check()  # the stack's lease is still this operation's (a lock on one host always is)
            try:
                return fn()
            except auto.CommandError as exc:
                interrupted = op.command is not None and op.command.interrupted
                failure = classify(
                    exc, interrupted=interrupted, host=HOST, first_attempt=first_attempt, mask=op.masker.text
                )
            if failure.kind is FailureKind.STALE_LOCK:
                # We hold the engine lock and the backend lock's owner on this host is dead: it is stale.
                op.stderr.append(failure.message)
                handle.cancel()
                continue
            with self._lock:
                config_error = self._config_errors.pop(stack, None)
            if config_error is not None and failure.kind is FailureKind.FAILED:
                raise StackConfigInvalid(str(config_error), file=config_error.file, key=config_error.key)
            raise self._error(op, stack, failure.kind, failure.message, failure.holder)
        raise AssertionError("unreachable")

    @staticmethod
    def _error(op: OperationContext, stack: str, kind: FailureKind, message: str, holder: dict[str, str]) -> Exception:
        if kind is FailureKind.BUSY:
            return StackBusy(
                f"stack {stack!r} is locked in the backend by {holder.get('who', 'another process')}"
                f" (pid {holder.get('pid', '?')}) since {holder.get('since', '?')}",
                stack=stack,
                holder=holder,
            )
        if kind is FailureKind.CANCELLED:
            return OperationCancelled(f"operation {op.id} was cancelled", operation_id=op.id)
        return OperationFailed(
            f"{op.tool} of {stack} failed: {op.masker.text(message)}", operation_id=op.id, stack=stack
        )


def _project_of(handle: auto.Stack) -> str | None:
    """The project the CLI runs the stack in (its work dir's Pulumi.yaml `name`), None when it cannot be read."""
    try:
        return str(handle.workspace.project_settings().name)
    except Exception:  # any unreadable project file: the CLI is asked instead
        return None
