"""`synth`: a stack's full resource graph computed offline under Pulumi mocks, like `cdk synth`.

Pulumi's runtime settings are process-global, so each synth runs in a worker process of its own pool (spawned, not
forked): a long-running server can call `synth` many times and concurrently without one run seeing another's state.
"""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from engine.catalog import RegistryCatalog, StackConfigError, check_stack
from engine.errors import ProgramError, StackConfigInvalid, StackNotFound
from engine.results import SynthResource, SynthResult
from engine.stack_config import read_stack_config
from engine.vocabulary import PROJECT, check_stack_syntax

_POOL: ProcessPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _in_worker(stack: str, project_root: Path) -> Future[dict[str, Any]]:
    """Hand one synth to the pool (started on first use); under the lock, so a shutdown cannot come in between."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn"))
        return _POOL.submit(synth_in_this_process, stack, project_root)


def shutdown_workers() -> None:
    """Stop the worker processes (after the synths they run finish) so that none outlives a server that stops;
    a later `synth` starts a new pool."""
    global _POOL
    with _POOL_LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.shutdown(wait=True)


def synth_in_this_process(stack: str, project_root: Path) -> dict[str, Any]:
    """Run the stack program under mocks here and return the result as a dict, or {"error": ...}.

    Not safe to call concurrently within one process: `synth` runs it in a worker.
    """
    from engine.mocks import ProgramFailed, run_program

    catalog = RegistryCatalog()
    try:
        check_stack(catalog, stack)
    except StackNotFound as exc:
        return {"error": "stack_not_found", "message": exc.message}
    program = catalog.program()
    config, secret_keys = read_stack_config(project_root, stack)
    try:
        run = run_program(
            program, project=PROJECT, stack=stack, config=config, secret_keys=secret_keys, preview=True, computed=False
        )
    except ProgramFailed as failed:
        if isinstance(failed.error, StackConfigError):
            return {
                "error": "stack_config_invalid",
                "message": str(failed.error),
                "file": failed.error.file,
                "key": failed.error.key,
            }
        return {"error": "program_error", "message": f"{type(failed.error).__name__}: {failed.error}"}
    resources = sorted(
        (
            SynthResource(
                urn=r.urn,
                type=r.type,
                name=r.name,
                custom=r.custom,
                parent=r.parent or None,
                provider=r.provider or None,
                dependencies=r.dependencies,
                protect=r.protect,
                inputs=r.inputs,
            )
            for r in run.resources
        ),
        key=lambda r: r.urn,
    )
    result = SynthResult(
        stack=stack,
        project=PROJECT,
        resource_count=len(resources),
        custom_resource_count=sum(1 for r in resources if r.custom),
        counts_by_type=run.count_by_type(),
        resources=resources,
        outputs=run.outputs,
    )
    return result.model_dump(mode="json")


def synth(stack: str, project_root: Path, *, isolated: bool = True) -> SynthResult:
    """The stack's resource graph. `isolated` (the default) computes it in a worker process; a one-shot process
    such as the CLI may compute it in place."""
    check_stack_syntax(stack)  # existence is checked in the worker, against the same registry the program uses
    data = _in_worker(stack, project_root).result() if isolated else (synth_in_this_process(stack, project_root))
    error = data.get("error")
    if error == "stack_not_found":
        raise StackNotFound(data["message"], stack=stack)
    if error == "stack_config_invalid":
        raise StackConfigInvalid(data["message"], file=data["file"], key=data["key"])
    if error:
        raise ProgramError(data["message"], stack=stack)
    return SynthResult.model_validate(data)
