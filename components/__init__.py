"""Pulumi ComponentResources for DataMCP: one module per concept, knowing only Pulumi providers."""
