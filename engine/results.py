"""Typed results the engine returns; their JSON schemas are what the CLI, MCP server and docs show."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class SynthResource(BaseModel):
    urn: str
    type: str
    name: str
    custom: bool = Field(description="False for component resources (groupings), True for cloud resources.")
    parent: str | None
    provider: str | None = Field(description="Provider reference (urn::id) for custom resources, if explicit.")
    dependencies: list[str]
    protect: bool
    inputs: dict[str, Any] = Field(description="Inputs as registered; secrets are '[secret]', unknowns '[unknown]'.")


class SynthResult(BaseModel):
    """The full resource graph of a stack, computed offline under mocks (no CLI, no credentials)."""

    schema_version: int = 1
    stack: str
    project: str
    resource_count: int
    custom_resource_count: int
    counts_by_type: dict[str, int]
    resources: list[SynthResource] = Field(description="Sorted by URN.")
    outputs: dict[str, Any] = Field(description="Stack outputs; secrets '[secret]', unknown until applied '[unknown]'.")
