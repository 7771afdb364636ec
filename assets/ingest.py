"""The per-digest parse: one dynamic partition per digest file."""

import warnings

import dagster as dg

from assets.metadata import markdown_preview, staged_entries_schema
from assets.partitions import DIGEST_PARTITIONS
from assets.resources import WarehouseResource
from pipeline.build import needs_parse
from pipeline.config import Settings
from pipeline.staging import digest_file_sha256, read_staged_digest, read_staged_entries, stage_digest

# backfill_policy is marked beta; the single-run policy is exactly what is wanted.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)

_PREVIEW_COLUMNS = ["position", "line", "paper_id", "title", "arxiv_id"]


def _stage_if_changed(settings: Settings, source_name: str) -> tuple[dict, bool]:
    """The staged digest row of a file, parsing it first unless its staging is current."""
    staged = read_staged_digest(settings.layout, source_name)
    if needs_parse(staged, digest_file_sha256(settings.digests_dir, source_name), settings.year):
        stage_digest(settings.layout, settings.digests_dir, source_name, settings.year)
        return read_staged_digest(settings.layout, source_name), True
    return staged, False


def partition_metadata(settings: Settings, row: dict, parsed: bool) -> dict:
    """What the UI shows for one digest partition."""
    entries = read_staged_entries(settings.layout, row["source_name"], limit=5).select(_PREVIEW_COLUMNS)
    metadata = {
        "digest_date": row["digest_date"].isoformat() if row["digest_date"] else "none",
        "date_source": row["date_source"] or "none",
        "entry_count": row["entry_count"],
        "reject_count": row["reject_count"],
        "status": row["status"],
    }
    if row["error"]:
        metadata["error"] = row["error"]
    return {
        **metadata,
        "digest_id": row["digest_id"],
        "byte_size": row["byte_size"],
        "parse": "parsed" if parsed else "unchanged since the last parse (kept)",
        "dagster/row_count": row["entry_count"],
        "preview": dg.MetadataValue.md(markdown_preview(entries)),
    }


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
    for source_name in context.partition_keys:
        row, parsed = _stage_if_changed(settings, source_name)
        # Each partition gets its own event metadata, also in a single run over many partitions.
        context.add_asset_metadata(partition_metadata(settings, row, parsed), partition_key=source_name)
        context.log.info(
            f"{source_name}: {'parsed' if parsed else 'unchanged'}, {row['status']}, {row['digest_date']}, "
            f"{row['entry_count']} entries, {row['reject_count']} rejects"
        )
    return dg.MaterializeResult()
