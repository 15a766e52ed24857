"""The one-line message of a failed CLI run names the resource's own error, not the CLI's summary of it."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from engine.masking import Masker
from engine.operations.context import OperationContext
from engine.operations.failures import FailureKind, classify, last_error
from engine.operations.journal import typed_instead
from engine.vocabulary import Status

UNMASKED = Masker().text  # no secrets known: only credential shapes
NAMESPACE = (
    "  kubernetes:core/v1:Namespace (app-namespace):\n"
    '    error: Preview failed: resource "urn:pulumi:k8s-local::datamcp::kubernetes:core/v1:Namespace::app-namespace"'
    ' was not successfully created: metadata.labels: Invalid value: "not a label!"\n'
)
STACK = (
    "  pulumi:pulumi:Stack (datamcp-k8s-local):\n"
    "    warning: using pulumi-resource-kubernetes from $PATH\n"
    "    error: preview failed\n"
)


@pytest.mark.parametrize("blocks", [(STACK, NAMESPACE), (NAMESPACE, STACK)], ids=["stack-first", "stack-last"])
def test_the_resources_error_wins_over_the_summary_whichever_block_comes_last(blocks: tuple[str, str]) -> None:
    text = "Previewing update (k8s-local):\nDiagnostics:\n" + "".join(blocks) + "Resources:\n    2 errored\n"
    assert 'Invalid value: "not a label!"' in last_error(text, UNMASKED)


@pytest.mark.parametrize("summary", ["error: update failed", "error: destroy failed", "error: update canceled"])
def test_a_summary_alone_is_still_reported(summary: str) -> None:
    assert last_error(f"Updating (dev):\n  {summary}\nResources:\n", UNMASKED) == summary


def test_without_an_error_line_the_last_line_is_reported_and_nothing_is_reported_as_unknown() -> None:
    assert last_error("panic: runtime error\n\n  goroutine 1 [running]\n", UNMASKED) == "goroutine 1 [running]"
    assert last_error("  \n", UNMASKED) == "unknown error"


def test_a_long_error_is_cut_to_one_readable_line() -> None:
    assert len(last_error("error: " + "x" * 2000, UNMASKED)) == 500


def test_a_failed_command_is_classified_with_its_specific_error() -> None:
    error = auto.CommandError(auto.CommandResult(stdout=STACK + NAMESPACE, stderr="", code=1))
    failure = classify(error, interrupted=False, host="h", first_attempt=True, mask=UNMASKED)
    assert failure.kind is FailureKind.FAILED and "Invalid value" in failure.message


SECRET_VALUE = "s3cr3t-Value-0f-The-Stack-4242"
KEY_VALUE = "-----key-line-one-4242\n-----key-line-two-4242"  # a secret config value of several lines


@pytest.mark.parametrize(
    "line",
    [
        "error: " + "x" * (500 - len("error: ") - 10) + SECRET_VALUE,  # the cut at 500 characters falls inside it
        "error: the key was " + KEY_VALUE,  # the line picked holds only part of it
    ],
    ids=["cut", "lines"],
)
def test_no_part_of_a_secret_survives_in_a_failed_runs_message(line: str) -> None:
    """The message is picked and cut from the whole output masked first: masking only the picked line, or the cut
    one, leaves the part of a secret that is no longer whole in it."""
    op = OperationContext(tool="up", stack="aws-dev", user="alice", params={})
    op.masker.add(SECRET_VALUE, KEY_VALUE)
    error = auto.CommandError(auto.CommandResult(stdout=STACK + line + "\n", stderr="", code=1))
    typed = typed_instead(op, error)
    assert typed is not None
    run = classify(error, interrupted=False, host="h", first_attempt=True, mask=op.masker.text)
    for message in (typed.message, op.record(Status.FAILED, typed.message).error or "", run.message):
        assert "s3cr3t" not in message and "key-line" not in message
