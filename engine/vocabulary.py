"""The domain's words, defined once: project name, name and id rules, operation vocabulary and URNs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from engine.errors import InvalidInput

PROJECT = "datamcp"  # the Pulumi project of every stack (Pulumi.yaml `name`)
STACK_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,62}$"
ID_PATTERN = r"^[A-Za-z0-9-]{8,64}$"
_STACK_RE = re.compile(STACK_NAME_PATTERN)
_ID_RE = re.compile(ID_PATTERN)
ECHO_LIMIT = 100  # characters of a caller's bad input repeated back in an error


class Kind(StrEnum):
    """What a preview proposes and an approval releases."""

    UPDATE = "update"
    DESTROY = "destroy"

    @classmethod
    def parse(cls, value: str) -> Kind:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(f"kind must be update or destroy, not {echo(value)}") from None

    @staticmethod
    def ids(approval_id: str | Sequence[str] | None) -> list[str]:
        """One approval id or several, as a list (the N-person rule may need more than one)."""
        if approval_id is None:
            return []
        given = [approval_id] if isinstance(approval_id, str) else list(approval_id)
        return [part for item in given for part in item.split(",") if part]  # also "ID1,ID2" from scripts

    @property
    def verb(self) -> str:
        """The CLI command (and audit tool) that applies this kind."""
        return "up" if self is Kind.UPDATE else "destroy"

    @property
    def preview_tool(self) -> Tool:
        return Tool.PREVIEW if self is Kind.UPDATE else Tool.PREVIEW_DESTROY

    @property
    def apply_tool(self) -> Tool:
        return Tool.UP if self is Kind.UPDATE else Tool.DESTROY


class Tool(StrEnum):
    """The operation as recorded in the audit trail."""

    PREVIEW = "preview"
    PREVIEW_DESTROY = "preview-destroy"
    UP = "up"
    DESTROY = "destroy"
    REFRESH = "refresh"
    CHECK_DRIFT = "check-drift"
    APPROVE = "approve"
    REQUEST_APPLY = "request-apply"
    REJECT = "reject"
    CANCEL = "cancel"


class Status(StrEnum):
    STARTED = "started"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    REFUSED = "refused"


FINAL_STATUSES = tuple(s for s in Status if s is not Status.STARTED)


class ChangeOp(StrEnum):
    """Pulumi's step operations, as far as results show them."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    SAME = "same"
    READ = "read"
    REFRESH = "refresh"
    CREATE_REPLACEMENT = "create-replacement"
    DELETE_REPLACED = "delete-replaced"
    DISCARD = "discard"
    REMOVE_PENDING_REPLACE = "remove-pending-replace"


REPLACE_STEPS = (ChangeOp.CREATE_REPLACEMENT, ChangeOp.DELETE_REPLACED)
RISKY_OPS = (ChangeOp.DELETE, ChangeOp.REPLACE)
UNCHANGED_OPS = frozenset(
    {ChangeOp.SAME, ChangeOp.READ, ChangeOp.REFRESH, ChangeOp.DISCARD, ChangeOp.REMOVE_PENDING_REPLACE}
)


class ProgressKind(StrEnum):
    RESOURCE_STARTED = "resource_started"
    RESOURCE_FINISHED = "resource_finished"
    RESOURCE_FAILED = "resource_failed"


@dataclass(frozen=True)
class Urn:
    """`urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME`, split once instead of everywhere."""

    stack: str
    project: str
    type_chain: str
    name: str

    @classmethod
    def parse(cls, urn: str) -> Urn:
        parts = urn.removeprefix("urn:pulumi:").split("::", 3)
        if not urn.startswith("urn:pulumi:") or len(parts) != 4:
            raise InvalidInput(f"{echo(urn)} is not a resource URN")
        return cls(*parts)

    @property
    def type(self) -> str:
        """The resource's own type (the last of the parent chain)."""
        return self.type_chain.rsplit("$", 1)[-1]


def urn_name(urn: str) -> str:
    """The logical name at the end of a URN (the whole string if it is not one)."""
    return urn.rsplit("::", 1)[-1]


def echo(value: object) -> str:
    """A caller's value, quoted and cut short enough to repeat in an error message."""
    text = repr(value)
    return text if len(text) <= ECHO_LIMIT else text[: ECHO_LIMIT - 3] + "..."


def check_stack_syntax(name: object) -> str:
    """A syntactically valid stack name (path tricks, flags and look-alike unicode are refused)."""
    if not isinstance(name, str) or not name:
        raise InvalidInput("a stack name is required")
    if unicodedata.normalize("NFKC", name) != name or not name.isascii() or not _STACK_RE.match(name):
        raise InvalidInput(f"{echo(name)} is not a valid stack name (lowercase letters, digits and '-')", stack=name)
    return name


def check_id(value: object, what: str = "id") -> str:
    """A preview, approval or operation id: letters, digits and '-', 8 to 64 characters."""
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise InvalidInput(f"{echo(value)} is not a valid {what}")
    return value


def is_id(value: str) -> bool:
    return bool(_ID_RE.match(value))


StackName = Annotated[
    str,
    Field(min_length=1, max_length=63, pattern=STACK_NAME_PATTERN, description="A stack name, e.g. aws-dev."),
]
Id = Annotated[str, Field(min_length=8, max_length=64, pattern=ID_PATTERN)]
UrnText = Annotated[str, Field(min_length=10, max_length=1024)]
