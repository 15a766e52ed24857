"""Policy as code: OPA evaluates every preview against the Rego pack in `policies/` (docs/policy.md)."""
