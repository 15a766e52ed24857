"""`datamcp policy test` (the pack's Rego unit tests) and `datamcp policy eval STACK` (the pack on synth: offline,
no credentials, as forked pull requests use it)."""

from __future__ import annotations

import argparse
import json

from engine.cli.render import policy_lines
from engine.errors import ExitCode, InvalidInput
from engine.policy.opa import test_pack
from engine.policy.pack import PolicyPack
from engine.settings import Settings


def cmd_policy(args: argparse.Namespace, settings: Settings) -> int:
    pack = PolicyPack(settings)
    if args.action == "test":
        done = test_pack(pack.folder, pack.opa())
        print(done.stdout.rstrip() or done.stderr.rstrip())
        return ExitCode.OK if done.returncode == 0 else ExitCode.FAILED
    if not args.stack:
        raise InvalidInput("policy eval needs a stack, e.g. `datamcp policy eval aws-dev`")
    return _eval(args, settings, pack)


def _eval(args: argparse.Namespace, settings: Settings, pack: PolicyPack) -> int:
    from engine.catalog import RegistryCatalog, check_stack  # the stacks load only when a command needs them
    from engine.policy.document import stack_section, synth_document
    from engine.synth import synth

    catalog = RegistryCatalog()
    stack = check_stack(catalog, args.stack)
    result = synth(stack, settings.project_root, isolated=False)  # one-shot process: no worker needed
    document = synth_document(stack_section(catalog.entry(stack), catalog.project), settings.default_user, result)
    report = pack.decide(document, stack)
    if args.json:
        print(json.dumps(report.model_dump(), indent=2, sort_keys=True))
    else:
        print(f"Policy on {stack} (synth, offline):")
        print("\n".join(policy_lines(report)))
    return ExitCode.REFUSED if report.denied else ExitCode.OK
