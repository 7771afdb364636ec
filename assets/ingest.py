"""The per-digest parse: one dynamic partition per digest file."""

import warnings

import dagster as dg

from assets.partitions import DIGEST_PARTITIONS
from assets.resources import WarehouseResource
from pipeline.incremental import stage_digests

# backfill_policy is marked beta; the single-run policy is exactly what is wanted.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
_UNUSUAL_LOGGED = 20


@dg.asset(
    partitions_def=DIGEST_PARTITIONS,
    # Many new digests run as one run, not one run each.
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"python", "parquet"},
    description=(
        "Parse of one digest file (partition = file name): entries, rejects and the digest row, "
        "staged as Parquet under warehouse/staging/ so other digests are never re-parsed."
    ),
)
def parsed_digest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    entries = rejects = 0
    dates = set()
    unusual = []
    # Parsed in parallel worker processes (pipeline.incremental), one per core.
    for staged in stage_digests(settings.layout, settings.digests_dir, context.partition_keys, settings.year):
        entries += staged.entry_count
        rejects += staged.reject_count
        if staged.digest_date:
            dates.add(staged.digest_date.isoformat())
        if staged.status != "ok" or staged.reject_count:
            unusual.append(f"{staged.source_name}: {staged.status}, {staged.digest_date}, {staged.reject_count} rejects")
    # Every log line and every metadata byte is stored once per run (and the metadata
    # once per partition): a range run of 10,000 digests logs a summary, not a line each.
    context.log.info(
        f"parsed {len(context.partition_keys)} digest(s): {entries} entries, {rejects} rejects, "
        f"{len(unusual)} digest(s) with rejects or no entries"
    )
    for line in unusual[:_UNUSUAL_LOGGED]:
        context.log.warning(line)
    ordered = sorted(dates)
    shown = ", ".join(ordered) if len(ordered) <= 3 else f"{ordered[0]} .. {ordered[-1]} ({len(ordered)} days)"
    return dg.MaterializeResult(
        metadata={
            "digests": len(context.partition_keys),
            "digest_date": shown or "none",
            "entry_count": entries,
            "reject_count": rejects,
        }
    )
