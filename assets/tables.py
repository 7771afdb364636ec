"""The five published tables, consolidated in one step from the staged digests.

Write-audit-publish: this step writes candidate files; the checks audit them; the
trends_duckdb asset publishes them. A failed check leaves the published tables as
they were.
"""

import dagster as dg

from assets.metadata import column_schema, table_metadata
from assets.partitions import DIGEST_PARTITIONS
from assets.resources import WarehouseResource
from pipeline.consolidate import consolidate
from pipeline.schemas import TABLES
from pipeline.table_parts import candidate_table_files, read_plan
from pipeline.atomic import remove_stale_temporaries
from pipeline.incremental import parsed_under_other_settings, remove_staged_digests, stage_digests, staged_state

TABLE_DESCRIPTIONS = {
    "digests": "One row per digest file seen (key: source_name), with its date, counts, status and duplicate_of.",
    "papers": "One row per distinct paper (key: paper_id from the normalized title), with first and last day seen.",
    "appearances": "One row per paper in a digest: the digest, its date, the paper's rank and the title's line.",
    "repo_links": "One row per distinct (paper, canonical link) found in abstracts, with kind, owner and repo.",
    "rejects": "One row per block of a digest that is no entry, with its line, reason and raw text.",
}

TABLE_SPECS = [
    dg.AssetSpec(
        table,
        deps=[dg.AssetDep("parsed_digest")],
        group_name="tables",
        kinds={"parquet", "duckdb"},
        description=TABLE_DESCRIPTIONS[table],
        metadata={"dagster/column_schema": column_schema(table)},
    )
    for table in TABLES
]


@dg.multi_asset(specs=TABLE_SPECS, name="consolidated_tables")
def consolidated_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    layout, settings = warehouse.layout, warehouse.settings
    remove_stale_temporaries(layout.written_dirs, (str(layout.duckdb_path),))
    partitions = set(context.instance.get_dynamic_partitions(DIGEST_PARTITIONS.name))
    state = staged_state(layout)
    # A removed digest file's partition is gone: its staged parse goes too, and with it its rows.
    removed = sorted(set(state) - partitions)
    remove_staged_digests(layout, removed, state)
    for source_name in removed:
        context.log.info(f"{source_name}: partition removed, staged parse deleted")
    # A partition added after this run began is parsed by the run its sensor queued next.
    awaiting = sorted(partitions - set(state))
    if awaiting:
        context.log.warning(f"{len(awaiting)} digest(s) not parsed yet, left out: {', '.join(awaiting)}")
    source_names = sorted(partitions & set(state))
    # Parses made under other settings (PAPERTRENDS_YEAR, parser version) are refreshed
    # first: one table never mixes years or parser versions. (Changed file contents are
    # the sensor's to notice, once a file has settled.)
    stale = parsed_under_other_settings(state, source_names, settings.year)
    if stale:
        context.log.warning(f"re-parsed {len(stale)} digest(s) whose staged parse was out of date")
    stage_digests(layout, settings.digests_dir, stale, settings.year, index=state)
    counts = consolidate(layout, source_names, state=state)
    context.log.info(f"consolidated {len(source_names)} digests: {counts}")
    plan = read_plan(layout)
    for table in TABLES:
        metadata = table_metadata(table, candidate_table_files(layout, table, plan), plan[table])
        if table == "digests":
            metadata["digests_awaiting_parse"] = dg.MetadataValue.json(awaiting)
        yield dg.MaterializeResult(asset_key=table, metadata=metadata)
