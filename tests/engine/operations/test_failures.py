"""The one-line message of a failed CLI run names the resource's own error, not the CLI's summary of it."""

from __future__ import annotations

import pytest
from pulumi import automation as auto

from engine.operations.failures import FailureKind, classify, last_error

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
    assert 'Invalid value: "not a label!"' in last_error(text)


@pytest.mark.parametrize("summary", ["error: update failed", "error: destroy failed", "error: update canceled"])
def test_a_summary_alone_is_still_reported(summary: str) -> None:
    assert last_error(f"Updating (dev):\n  {summary}\nResources:\n") == summary


def test_without_an_error_line_the_last_line_is_reported_and_nothing_is_reported_as_unknown() -> None:
    assert last_error("panic: runtime error\n\n  goroutine 1 [running]\n") == "goroutine 1 [running]"
    assert last_error("  \n") == "unknown error"


def test_a_long_error_is_cut_to_one_readable_line() -> None:
    assert len(last_error("error: " + "x" * 2000)) == 500


def test_a_failed_command_is_classified_with_its_specific_error() -> None:
    error = auto.CommandError(auto.CommandResult(stdout=STACK + NAMESPACE, stderr="", code=1))
    failure = classify(error, interrupted=False, host="h", first_attempt=True)
    assert failure.kind is FailureKind.FAILED and "Invalid value" in failure.message
