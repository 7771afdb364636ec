"""trends_duckdb: publishes the checked tables and the trends.duckdb built from them (term_trends with it)."""

import dagster as dg
import pyarrow as pa

from assets.metadata import markdown_preview, schema_of
from assets.resources import WarehouseResource
from pipeline.build import publish
from pipeline.report.data import topic_window
from pipeline.schemas import TABLES
from pipeline.serve.topics_sql import TERM_TRENDS_COLUMNS
from pipeline.serve.trends_db import STORED, VIEWS, connect_readonly
from pipeline.serve.trends_sql import DAILY_SUMMARY_COLUMNS
from pipeline.sql import identifier, scalar

_RISING_PREVIEW_SQL = """
SELECT term, papers, round(share, 3) AS share, round(baseline_share, 3) AS baseline_share, round(lift, 2) AS lift, is_new
FROM rising_terms($start, $end, 10)
"""


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "trends_duckdb",
            deps=list(TABLES),
            group_name="warehouse",
            kinds={"duckdb"},
            description=(
                "Publishes the checked tables to `warehouse/parquet/<table>/` (the `parquet` link switched to "
                "them in one rename) and `warehouse/trends.duckdb`: the "
                "tables, trend tables, views and macros in one file that DuckDB 1.1 and later open, written under a "
                "temporary name and renamed into place after the tables. Row count, columns and preview are "
                "those of its daily_summary view."
            ),
            metadata={"dagster/column_schema": schema_of(DAILY_SUMMARY_COLUMNS)},
        ),
        dg.AssetSpec(
            "term_trends",
            deps=["paper_terms"],
            group_name="warehouse",
            kinds={"duckdb"},
            description=(
                "The term_trends table of trends.duckdb (one row per term and week), with the macros "
                "rising_terms, falling_terms, term_history and papers_with_term (docs/topics.md). Built with "
                "trends_duckdb; the preview is rising_terms over the report's topic window (its last 28 days of data)."
            ),
            metadata={"dagster/column_schema": schema_of(TERM_TRENDS_COLUMNS)},
        ),
    ],
    # Not subsettable: the step writes trends.duckdb, which holds both, so both are
    # recorded at once (the UI selects the two together).
)
def trends_duckdb(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    layout = warehouse.layout
    if publish(warehouse.settings):
        context.log.info(f"published the tables and {layout.duckdb_path}")
    else:
        context.log.info(
            "no candidates to publish: the tables and trends.duckdb stay as they are "
            "(digests staged since are published once consolidated_tables and the checks have run)"
        )
    with connect_readonly(layout.duckdb_path) as con:
        summary = con.sql("SELECT * FROM daily_summary ORDER BY day").to_arrow_table()
        counts = [
            {
                "name": name,
                "kind": "view" if name in VIEWS else "table",
                "rows": scalar(con, f"SELECT count(*) FROM {identifier(name)}"),
            }
            for name in (*STORED, *VIEWS)
        ]
        start, end, _ = topic_window(con)
        rising = con.sql(_RISING_PREVIEW_SQL, params={"start": start, "end": end}).to_arrow_table()
        term_rows = scalar(con, "SELECT count(*) FROM term_trends")
        terms = scalar(con, "SELECT count(DISTINCT term) FROM term_trends")
    contents = pa.Table.from_pylist(counts)
    yield dg.MaterializeResult(
        asset_key="trends_duckdb",
        metadata={
            "path": dg.MetadataValue.path(str(layout.duckdb_path)),
            "contents": dg.MetadataValue.md(markdown_preview(contents, rows=contents.num_rows)),
            "daily_summary": dg.MetadataValue.md(markdown_preview(summary, rows=summary.num_rows)),
            "days": summary.num_rows,
            "dagster/row_count": summary.num_rows,
        },
    )
    yield dg.MaterializeResult(
        asset_key="term_trends",
        metadata={
            "dagster/row_count": term_rows,
            "terms": terms,
            "rising_terms": dg.MetadataValue.md(markdown_preview(rising, rows=rising.num_rows)),
        },
    )
