"""DataMCP's MCP adapter: a FastMCP server over the engine (tools, auth, HTTP app); `mcp_server.py` starts it."""
