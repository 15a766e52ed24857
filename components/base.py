"""What every component's args model shares: frozen, no unknown fields, common tags."""

from __future__ import annotations

from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field

from components.tags import common_tags


class ComponentArgs(BaseModel):
    """Validated on construction; an invalid value raises before any resource is registered."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    tags: dict[str, str] = Field(default_factory=dict, description="User tags added to every resource.")

    def resource_tags(self) -> dict[str, str]:
        """Common tags (project, stack, managed-by) plus the user's, for the current Pulumi project and stack."""
        return common_tags(pulumi.get_project(), pulumi.get_stack(), self.tags)


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a child resource: parented to its component (so it inherits the component's provider)."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)
