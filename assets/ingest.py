"""staged_digests: the parse of every digest file, kept in the staging database.

One unpartitioned asset, not a partition per file: a materialization per file per
run is thousands of events in Dagster's storage (minutes on SQLite at the sizes the
benchmark tries), and the staging database already records, per file, what was
read and when. The run's metadata shows each file parsed in that run, and every
file that could not be read; re-parse one by naming it in the run's config.
"""

from typing import Any

import dagster as dg

from assets.metadata import table_records
from assets.resources import WarehouseResource
from pipeline.build import check_settings, stage, unusable_digests

# Files listed one per row in a run's metadata, at most (a first build parses them all).
LISTED_FILES = 500


class StageConfig(dg.Config):
    reparse: list[str] = []
    """File names (in the digests directory) to parse again even if unchanged."""
    allow_empty: bool = False
    """Build from an empty digests directory, emptying the tables."""


@dg.asset(
    group_name="ingest",
    kinds={"python", "duckdb"},
    description=(
        "Parses the new and changed digest files of the digests directory into "
        "`warehouse/staging/staging.duckdb` (one transaction); unchanged files are not read again. "
        "The metadata lists each file parsed in the run and every file that could not be read."
    ),
)
def staged_digests(context: dg.AssetExecutionContext, config: StageConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    check_settings(settings)  # UI and sensor runs too: the same refusals as `papertrends build`
    result = stage(settings, reparse=config.reparse, allow_empty=config.allow_empty)
    plan = result.plan
    statuses: dict[str, int] = {}
    for row in result.parsed:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    context.log.info(
        f"{result.listed} digest file(s): {len(plan.parse)} parsed, {plan.unchanged + len(plan.resign)} unchanged, "
        f"{len(plan.remove)} removed; statuses of the parsed: {statuses}"
    )
    unusable = unusable_digests(settings.layout)
    metadata: dict[str, Any] = {
        "files": result.listed,
        "parsed": len(plan.parse),
        "unchanged": plan.unchanged + len(plan.resign),
        "removed": dg.MetadataValue.json(plan.remove),
        "statuses_parsed": dg.MetadataValue.json(statuses),
        "parsed_files": table_records(result.parsed[:LISTED_FILES]),
        "unusable_files": table_records(unusable[:LISTED_FILES]),
    }
    if len(result.parsed) > LISTED_FILES:
        metadata["parsed_files_note"] = f"the first {LISTED_FILES} of {len(result.parsed)}; every file is in the digests table"
    if len(unusable) > LISTED_FILES:
        metadata["unusable_files_note"] = f"the first {LISTED_FILES} of {len(unusable)}; every file is in the digests table"
    return dg.MaterializeResult(metadata=metadata)
