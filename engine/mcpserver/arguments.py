"""Tool argument types: the vocabulary's rules, described for the model that calls the tools."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from engine.vocabulary import ChangeOp, StackName, UrnText

Stack = Annotated[StackName, Field(description="A stack name from list_stacks, e.g. aws-dev.")]
Targets = Annotated[list[UrnText] | None, Field(max_length=50)]
Offset = Annotated[int, Field(ge=0)]
PageSize = Annotated[int, Field(ge=1, le=100)]
UserFilter = Annotated[str | None, Field(max_length=128)]
Cursor = Annotated[str | None, Field(max_length=4096)]
Reason = Annotated[str, Field(min_length=3, max_length=2000)]
OpFilter = Annotated[ChangeOp | None, Field(description="Only changes with this op, e.g. delete or replace.")]
ResourceType = Annotated[
    str,
    Field(
        min_length=3,
        max_length=256,
        pattern=r"^[A-Za-z0-9_.:/-]+$",
        description="Only resources of exactly this type, e.g. aws:s3/bucketV2:BucketV2 (see counts_by_type).",
    ),
]
UrnPrefix = Annotated[
    str,
    Field(
        min_length=11,
        max_length=1024,
        pattern=r"^urn:pulumi:",
        description="Only resources whose URN starts with this, e.g. urn:pulumi:aws-dev::datamcp::datamcp:aws:Network",
    ),
]
