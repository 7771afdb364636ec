"""The tables, consolidated in one step from the staging database, as candidates.

Write-audit-publish: this step writes candidate files; the checks audit them; the
trends_duckdb asset publishes them. A failed check leaves the published tables as
they were.
"""

import dagster as dg

from assets.metadata import column_schema, table_metadata
from assets.resources import WarehouseResource
from pipeline.build import consolidate_tables
from pipeline.schemas import TABLES

TABLE_DESCRIPTIONS = {
    "digests": "One row per digest file seen (key: source_name), with its date, counts, status and duplicate_of.",
    "papers": "One row per distinct paper (key: paper_id from the normalized title), with first and last day seen.",
    "appearances": "One row per paper in a digest: the digest, its date, the paper's rank and the title's line.",
    "repo_links": "One row per distinct (paper, canonical link) found in abstracts, with kind, owner and repo.",
    "rejects": "One row per block of a digest that is no entry, with its line, reason and raw text.",
    "repo_stars": "One row per (repository, day): the stars a card's GitHub badge, or the daily-papers JSON, showed that day.",
    "paper_terms": "One row per (paper, term): the words and 2- and 3-word phrases of its title and abstract (docs/topics.md).",
}
# Tables derived from another table of the same step, not from the staged digests directly.
TABLE_DEPS = {"paper_terms": ["papers"]}

TABLE_SPECS = [
    dg.AssetSpec(
        table,
        deps=TABLE_DEPS.get(table, ["staged_digests"]),
        group_name="tables",
        kinds={"parquet"},
        description=TABLE_DESCRIPTIONS[table],
        metadata={"dagster/column_schema": column_schema(table)},
    )
    for table in TABLES
]


@dg.multi_asset(specs=TABLE_SPECS, name="consolidated_tables")
def consolidated_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    layout = warehouse.layout
    candidates = consolidate_tables(warehouse.settings)
    if candidates is None:
        context.log.info("the published tables are those of the staged digests already: nothing to consolidate")
        for table in TABLES:
            files = layout.table_files(table)
            metadata = table_metadata(table, files, layout.table_dir(table))
            yield dg.MaterializeResult(asset_key=table, metadata={**metadata, "unchanged": True})
        return
    context.log.info(f"consolidated candidate tables: {candidates.rows}")
    for table in TABLES:
        metadata = table_metadata(table, candidates.files[table], layout.table_dir(table))
        yield dg.MaterializeResult(asset_key=table, metadata={**metadata, "unchanged": False})
