"""The per-digest parse: one dynamic partition per digest file."""

import warnings

import dagster as dg
from dagster._core.execution.context.metadata_logging import AssetMetadataHandle, OutputMetadataAccumulator
import pyarrow as pa
import pyarrow.compute as pc

from assets.metadata import markdown_preview, staged_entries_schema
from assets.partitions import DIGEST_PARTITIONS
from assets.resources import WarehouseResource
from pipeline import validation_pool
from pipeline.config import Settings
from pipeline.incremental import PARALLEL_MIN_DIGESTS, changed_digests, current_batches, stage_digests, staged_state
from pipeline.staging import read_batch_rows

# backfill_policy is marked beta; the single-run policy is exactly what is wanted.
warnings.filterwarnings("ignore", message=".*backfill_policy.*", category=dg.BetaWarning)
_PREVIEW_MAX_PARTITIONS = 200
_PREVIEW_COLUMNS = ["position", "line", "paper_id", "title", "arxiv_id"]


def partition_metadata(row: dict, parsed: bool, preview: pa.Table | None = None) -> dict:
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
    if preview is not None:
        metadata["preview"] = dg.MetadataValue.md(markdown_preview(preview))
    return metadata


def _previews(settings: Settings, batches: dict[str, str]) -> dict[str, pa.Table]:
    """The entries of each digest, for its partition's preview (markdown_preview shows the first)."""
    entries = read_batch_rows(settings.layout, "entries", batches, ["source_name", *_PREVIEW_COLUMNS])
    return {name: entries.filter(pc.equal(entries["source_name"], name)).select(_PREVIEW_COLUMNS) for name in batches}


def add_partition_metadata(context: dg.AssetExecutionContext, metadata_by_partition: dict[str, dict]) -> None:
    """context.add_asset_metadata(metadata, partition_key=key) for many partitions at once.

    The public call reads every dynamic partition from the instance to check the key,
    then copies all metadata added so far: quadratic, hours at 10,000 partitions. The
    keys here are the run's own, so they go into the step's metadata accumulator in one
    step (a Dagster internal, like assets/executor.py's; the version is pinned, and
    tests/test_dagster.py checks each partition's metadata).
    """
    step = context.get_step_execution_context()
    accumulated = dict(step._metadata_accumulator.per_output_metadata)  # noqa: SLF001
    for partition_key, metadata in metadata_by_partition.items():
        handle = AssetMetadataHandle(asset_key=context.asset_key, partition_key=partition_key)
        accumulated[handle] = {**accumulated.get(handle, {}), **metadata}
    step._metadata_accumulator = OutputMetadataAccumulator(per_output_metadata=accumulated)  # noqa: SLF001


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
    if len(changed) >= PARALLEL_MIN_DIGESTS:
        # The checks downstream need Great Expectations. Storing this step's events keeps
        # one core busy for a while (3 s at 10,000 partitions): a worker imports GX on the
        # other one now, and the checks validate there.
        validation_pool.start_ahead()
    changed_names = set(changed)
    batches = current_batches(state, keys)
    # One read of the digest rows of every partition, from their batches.
    rows = {row["source_name"]: row for row in read_batch_rows(settings.layout, "digests", batches).to_pylist()}
    # Previews cost a read of the entries; a backfill of thousands goes without.
    previews = _previews(settings, batches) if len(keys) <= _PREVIEW_MAX_PARTITIONS else {}
    statuses: dict[str, int] = {}
    metadata_by_partition = {}
    for source_name in keys:
        row = rows[source_name]
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
        metadata_by_partition[source_name] = partition_metadata(row, source_name in changed_names, previews.get(source_name))
    # Each partition gets its own event metadata, also in a single run over many partitions.
    add_partition_metadata(context, metadata_by_partition)
    context.log.info(
        f"{len(keys)} digest(s): {len(changed)} parsed, {len(keys) - len(changed)} unchanged since their "
        f"last parse; statuses {statuses}"
    )
    return dg.MaterializeResult()
