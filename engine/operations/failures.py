"""One pure classifier for CLI failures: what a failed pulumi command means for the operation."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from pulumi import automation as auto

from engine.locking import backend_lock_holder, holder_alive


class FailureKind(StrEnum):
    CANCELLED = "cancelled"  # we interrupted it
    STALE_LOCK = "stale_lock"  # the backend lock belongs to a dead process of this host: remove it and retry
    BUSY = "busy"  # another live process holds the backend lock
    FAILED = "failed"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str = ""
    holder: dict[str, str] = field(default_factory=dict)


# The CLI's own summary of a failed run ("error: preview failed"): it says that, not why. Where it is printed among
# the resources' diagnostics depends on which resource reported first, so it is never preferred over a specific one.
_SUMMARY = re.compile(r"error: (preview|update|refresh|destroy|import) (failed|canceled|cancelled)\.?")


def last_error(text: str, mask: Callable[[str], str]) -> str:
    """The most useful line of a CLI failure for a one-line message: the last specific error, else the last line.
    `text` is masked whole before a line is picked and cut, so a secret spanning lines or cut at the limit is masked
    all the same (masking the picked line would leave the part of it that is no longer whole)."""
    lines = [line.strip() for line in mask(text).splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    specific = [line for line in errors if not _SUMMARY.fullmatch(line)]
    return (specific or errors or lines or ["unknown error"])[-1][:500]


def classify(
    error: Exception, *, interrupted: bool, host: str, first_attempt: bool, mask: Callable[[str], str]
) -> Failure:
    """What `error` from a CLI call means, given whether we interrupted it and on which attempt it happened (its
    message masked by `mask`)."""
    if isinstance(error, auto.ConcurrentUpdateError):
        holder = backend_lock_holder(str(error))
        pid = holder.get("pid", "")
        mine = holder.get("who", "").endswith("@" + host) and pid.isdigit()
        stale = mine and not holder_alive(int(pid), holder.get("since", ""))
        if stale and first_attempt:
            return Failure(FailureKind.STALE_LOCK, f"removing a stale backend lock of dead process {pid}", holder)
        return Failure(FailureKind.BUSY, holder=holder)
    if interrupted:
        return Failure(FailureKind.CANCELLED)
    return Failure(FailureKind.FAILED, last_error(str(error), mask))
