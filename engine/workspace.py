"""The one place that builds Pulumi Automation API stack handles."""

from __future__ import annotations

from pathlib import Path

from pulumi import automation as auto
from semver import VersionInfo

from engine.runner import InterruptiblePulumiCommand
from engine.settings import Settings
from engine.toolchain import PULUMI_VERSION, prepare_local_dirs, pulumi_env, require_pulumi

_CHECKED: dict[str, tuple[str, VersionInfo]] = {}


def pulumi_command(settings: Settings) -> InterruptiblePulumiCommand:
    """The pinned pulumi CLI; the SDK's version check stays on (a wrong CLI fails here, not mid-update). The check
    runs once per binary per process; every operation still gets its own, separately interruptible command."""
    binary = require_pulumi(settings)
    key = str(binary)
    if key in _CHECKED:
        return InterruptiblePulumiCommand(checked=_CHECKED[key])
    command = InterruptiblePulumiCommand(root=str(binary.parent.parent), version=VersionInfo.parse(PULUMI_VERSION))
    assert command.version is not None
    _CHECKED[key] = (command.command, command.version)
    return command


def stack_handle(
    settings: Settings,
    *,
    project: str,
    stack: str,
    program: auto.PulumiFn,
    work_dir: Path | None = None,
    command: auto.PulumiCommand | None = None,
    create: bool = True,
    simulated: frozenset[str] | None = None,
) -> auto.Stack:
    """Create or select `stack` of `project` running the inline `program` with the offline CLI environment.

    `work_dir` is where Pulumi reads `Pulumi.<stack>.yaml`; without one the SDK uses a temporary directory.
    With `create=False` a stack that does not exist yet raises `StackNotFoundError` instead of being created.
    `simulated`: the providers the sandbox stands in for on this stack (default: every one, in sandbox mode).
    """
    prepare_local_dirs(settings)
    # "default" means Pulumi Cloud's own secrets manager: the CLI picks it when none is given.
    secrets_provider = None if settings.secrets_provider == "default" else settings.secrets_provider
    opts = auto.LocalWorkspaceOptions(
        work_dir=str(work_dir) if work_dir else None,
        pulumi_home=str(settings.pulumi_home),
        env_vars=pulumi_env(settings, simulated),
        secrets_provider=secrets_provider,
        pulumi_command=command or pulumi_command(settings),
    )
    if create:
        return auto.create_or_select_stack(stack_name=stack, project_name=project, program=program, opts=opts)
    return auto.select_stack(stack_name=stack, project_name=project, program=program, opts=opts)
