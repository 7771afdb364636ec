"""Publishing the checked tables and building trends.duckdb."""

import dagster as dg
import pyarrow as pa

from assets.checks import REQUIRED_CHECKS
from assets.metadata import daily_summary_schema, markdown_preview
from assets.resources import WarehouseResource
from pipeline.publish import publish_candidates
from pipeline.schemas import TABLES
from pipeline.sql import identifier
from pipeline.warehouse_db import VIEWS, build_duckdb, connect_readonly


@dg.asset(
    deps=list(TABLES),
    group_name="warehouse",
    kinds={"duckdb"},
    description=(
        "Publishes the checked tables to `warehouse/parquet/<table>/` and builds `warehouse/trends.duckdb`: "
        "a view per table and the trend views, built under a temporary name and renamed into place. "
        "Row count, columns and preview are those of its daily_summary view."
    ),
    metadata={"dagster/column_schema": daily_summary_schema()},
)
def trends_duckdb(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    layout = warehouse.layout
    published = publish_candidates(layout, REQUIRED_CHECKS)
    if not published:
        context.log.info("no new candidate tables: trends.duckdb rebuilt over the published ones")
    path = build_duckdb(layout)
    with connect_readonly(path) as con:
        summary = con.sql("SELECT * FROM daily_summary ORDER BY day").to_arrow_table()
        views = pa.Table.from_pylist(
            [{"view": view, "rows": con.execute(f"SELECT count(*) FROM {identifier(view)}").fetchone()[0]} for view in VIEWS]
        )
    context.log.info(f"built {path} with {len(VIEWS)} views")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "views": dg.MetadataValue.md(markdown_preview(views, rows=views.num_rows)),
            "daily_summary": dg.MetadataValue.md(markdown_preview(summary, rows=summary.num_rows)),
            "days": summary.num_rows,
            "dagster/row_count": summary.num_rows,
            "dagster/column_schema": daily_summary_schema(),
        }
    )
