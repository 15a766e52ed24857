"""Long operations as MCP tasks (the `io.modelcontextprotocol/tasks` extension, SEP-2663): `preview`, `apply`,
`check_drift` and `destroy` return a task handle at once when the client opts in; tasks/get, tasks/update and
tasks/cancel follow it. docs/mcp.md shows a session step by step."""
