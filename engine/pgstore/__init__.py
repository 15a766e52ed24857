"""The shared store: what several hosts (server replicas, CI runners, operators' machines) must agree on, kept in
one PostgreSQL database (DATAMCP_STORE_URL): previews with their saved plans, approvals and their single use, stack
leases with fencing tokens, cancel requests, the running-operation registry and (engine/audit/postgres.py) the audit
trail. Without a store URL the same things live in files under the state dir (one host)."""
