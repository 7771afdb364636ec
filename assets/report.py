"""The trend report: <warehouse>/report/index.html, with its chart shown in the Dagster UI."""

import base64

import dagster as dg
import pyarrow as pa

from assets.metadata import markdown_preview
from assets.resources import WarehouseResource
from pipeline.build import write_report
from pipeline.report import OVERVIEW_TITLE


def _image_markdown(png: bytes, alt: str) -> str:
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"


@dg.asset(
    deps=["trends_duckdb", "term_trends"],
    group_name="reports",
    kinds={"html", "duckdb"},
    description=(
        "The trend report at warehouse/report/index.html: appearances per day (new and returning), "
        "the share of papers with code, the top recurring papers and the most linked repositories. "
        "A single offline HTML file read from trends.duckdb; `papertrends report` prints the same in text."
    ),
)
def trend_report(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    trends_db = warehouse.layout.duckdb_path
    if not trends_db.exists():  # selected alone before any publish
        raise dg.Failure(description=f"no {trends_db} to report on: materialize trends_duckdb first", allow_retries=False)
    report = write_report(warehouse.settings)
    data = report.data
    context.log.info(f"wrote {report.path}")
    top = [{key: row[key] for key in ("title", "days_seen", "appearances", "longest_streak_days", "has_code")} for row in data.top_papers]
    top_preview = markdown_preview(pa.Table.from_pylist(top), rows=len(top)) if top else "no paper seen on 2 or more days"
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "chart": dg.MetadataValue.md(_image_markdown(report.overview_png, OVERVIEW_TITLE)),
            "top_recurring": dg.MetadataValue.md(top_preview),
            "days": len(data.days),
            "papers": data.totals["papers"],
        }
    )
