"""DataMCP's MCP server: the engine for AI agents, a thin FastMCP adapter (see docs/mcp.md)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from fastmcp import FastMCP
from mcp.types import ToolAnnotations

from engine import Settings, __version__, load_settings
from engine.doctor import run_checks

INSTRUCTIONS = (
    "DataMCP previews and applies infrastructure changes through Pulumi. You can look and ask; a human approves "
    "every change. Start with check_toolchain when something fails."
)


def create_server(settings: Settings | None = None) -> FastMCP:
    """Build the server with its tools bound to one settings object (read once, at the edge)."""
    settings = settings or load_settings()
    mcp = FastMCP("datamcp", instructions=INSTRUCTIONS, version=__version__)

    @mcp.tool(annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False))
    def check_toolchain() -> dict[str, Any]:
        """Report whether the pieces DataMCP needs (pulumi CLI, helm, Python packages, state backend, audit store)
        are present. Use it when another tool fails with a toolchain error. Returns `ok` and one entry per piece."""
        report = run_checks(settings)
        return {"ok": report.ok, "checks": [c.model_dump() for c in report.checks]}

    return mcp


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mcp_server", description=__doc__)
    parser.parse_args(argv)
    create_server().run(transport="stdio", show_banner=False)


if __name__ == "__main__":
    main()
