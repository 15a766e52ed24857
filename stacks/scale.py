"""The scale stack: N resources built from the real components, to measure the engine at 100 to 5,000 resources.

Hardened buckets (`Storage`: a component and 7 resources each) up to N, the rest as ops-log tables (`OpsLogTable`:
a component and a table); N comes from `datamcp:scale.resources`. Meant for the sandbox's simulated cloud
(benchmarks/bench_scale.py); against a real account it would create that many buckets.
"""

from __future__ import annotations

import pulumi

from components.aws import LifecycleRule, OpsLogTable, OpsLogTableArgs, Storage, StorageArgs
from stacks.config import ScaleStackConfig

STORAGE_RESOURCES = 8  # the Storage component and its bucket, public access block, ownership, encryption,
# versioning, TLS-only policy and lifecycle configuration
TABLE_RESOURCES = 2  # the OpsLogTable component and its table


def shape(resources: int) -> tuple[int, int]:
    """How many buckets and tables make `resources` (rounded down to an even number)."""
    buckets, rest = divmod(resources, STORAGE_RESOURCES)
    return buckets, rest // TABLE_RESOURCES


def scale_stack(config: ScaleStackConfig) -> None:
    buckets, tables = shape(config.scale.resources)
    rule = LifecycleRule(id="expire-noncurrent", noncurrent_expire_after_days=7)
    for i in range(buckets):
        Storage(
            f"data-{i:04d}",
            StorageArgs(lifecycle_rules=[rule], tags=config.tags),
        )
    for i in range(tables):
        OpsLogTable(f"log-{i:04d}", OpsLogTableArgs(table_name=f"scale_log_{i:04d}", tags=config.tags))
    pulumi.export("buckets", buckets)
    pulumi.export("tables", tables)


__all__ = ["scale_stack", "shape"]
