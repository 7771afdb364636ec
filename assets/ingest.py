"""The per-digest parse: one dynamic partition per digest file."""

import warnings

import dagster as dg

from assets.metadata import markdown_preview, staged_entries_schema
from assets.partitions import DIGEST_PARTITIONS
from assets.resources import WarehouseResource
from pipeline.config import Settings
from pipeline.incremental import changed_digests, stage_digests, staged_state
from pipeline.staging import read_staged_digest, read_staged_entries

# backfill_policy is marked beta; the single-run policy is exactly what is wanted.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
_PREVIEW_MAX_PARTITIONS = 200
_PREVIEW_COLUMNS = ["position", "line", "paper_id", "title", "arxiv_id"]


def partition_metadata(settings: Settings, row: dict, parsed: bool, with_preview: bool = True) -> dict:
    """What the UI shows for one digest partition."""
    metadata = {
        "digest_date": row["digest_date"].isoformat() if row["digest_date"] else "none",
        "date_source": row["date_source"] or "none",
        "entry_count": row["entry_count"],
        "reject_count": row["reject_count"],
        "status": row["status"],
    }
    if row["error"]:
        metadata["error"] = row["error"]
    metadata.update(
        {
            "digest_id": row["digest_id"],
            "byte_size": row["byte_size"],
            "parse": "parsed" if parsed else "unchanged since the last parse (kept)",
            "dagster/row_count": row["entry_count"],
        }
    )
    if with_preview:
        entries = read_staged_entries(settings.layout, row["source_name"], limit=5).select(_PREVIEW_COLUMNS)
        metadata["preview"] = dg.MetadataValue.md(markdown_preview(entries))
    return metadata


@dg.asset(
    partitions_def=DIGEST_PARTITIONS,
    # Many new digests run as one run, not one run each.
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"python", "parquet"},
    description=(
        "Parse of one digest file (partition = file name): its entries (the rows shown here), its rejects "
        "and its digest row, staged as Parquet under `warehouse/staging/` so other digests are never re-parsed. "
        "A partition whose file, parser version and year setting are unchanged keeps its staged parse."
    ),
    metadata={"dagster/column_schema": staged_entries_schema()},
)
def parsed_digest(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    settings = warehouse.settings
    keys = list(context.partition_keys)
    state = staged_state(settings.layout)
    changed = changed_digests(settings, keys, state)
    stage_digests(settings.layout, settings.digests_dir, changed, settings.year, index=state)
    changed_names = set(changed)
    # A preview per partition costs a read each; a backfill of thousands goes without.
    with_preview = len(keys) <= _PREVIEW_MAX_PARTITIONS
    statuses: dict[str, int] = {}
    for source_name in keys:
        row = read_staged_digest(settings.layout, source_name)
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        # Each partition gets its own event metadata, also in a single run over many partitions.
        metadata = partition_metadata(settings, row, source_name in changed_names, with_preview)
        context.add_asset_metadata(metadata, partition_key=source_name)
    context.log.info(
        f"{len(keys)} digest(s): {len(changed)} parsed, {len(keys) - len(changed)} unchanged since their "
        f"last parse; statuses {statuses}"
    )
    return dg.MaterializeResult()
