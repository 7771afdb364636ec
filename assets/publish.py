"""trends_duckdb: publishes the checked tables and the trends.duckdb built from them."""

import dagster as dg
import pyarrow as pa

from assets.metadata import markdown_preview, schema_of
from assets.resources import WarehouseResource
from pipeline.build import publish
from pipeline.schemas import TABLES
from pipeline.serve.trends_db import STORED, VIEWS, connect_readonly
from pipeline.serve.trends_sql import DAILY_SUMMARY_COLUMNS
from pipeline.sql import identifier, scalar


@dg.asset(
    deps=list(TABLES),
    group_name="warehouse",
    kinds={"duckdb"},
    description=(
        "Publishes the checked tables to `warehouse/parquet/<table>/` and `warehouse/trends.duckdb`: the "
        "tables, trend tables, views and macros in one file that DuckDB 1.x opens, written under a "
        "temporary name and renamed into place after the tables. Row count, columns and preview are "
        "those of its daily_summary view."
    ),
    metadata={"dagster/column_schema": schema_of(DAILY_SUMMARY_COLUMNS)},
)
def trends_duckdb(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    layout = warehouse.layout
    if publish(warehouse.settings):
        context.log.info(f"published the tables and {layout.duckdb_path}")
    else:
        context.log.info("nothing new to publish: the tables and trends.duckdb are current")
    with connect_readonly(layout.duckdb_path) as con:
        summary = con.sql("SELECT * FROM daily_summary ORDER BY day").to_arrow_table()
        counts = [
            {"name": name, "kind": "view" if name in VIEWS else "table", "rows": scalar(con, f"SELECT count(*) FROM {identifier(name)}")}
            for name in (*STORED, *VIEWS)
        ]
    contents = pa.Table.from_pylist(counts)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(layout.duckdb_path)),
            "contents": dg.MetadataValue.md(markdown_preview(contents, rows=contents.num_rows)),
            "daily_summary": dg.MetadataValue.md(markdown_preview(summary, rows=summary.num_rows)),
            "days": summary.num_rows,
            "dagster/row_count": summary.num_rows,
            "dagster/column_schema": schema_of(DAILY_SUMMARY_COLUMNS),
        }
    )
