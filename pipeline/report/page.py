"""The HTML report: one self-contained page, from a Jinja2 template with autoescape on.

The page holds its charts as SVG data URIs and its styles inline, and forbids scripts
and fetches by its content security policy, so it opens offline from file:// and a
title holding markup stays text.
"""

import base64
from dataclasses import dataclass
from pathlib import Path

import jinja2

from pipeline.config import Layout
from pipeline.report.charts import CHARTS, GRID_COLOR, TEXT_COLOR, host_colors, render_charts
from pipeline.report.data import TOP, ReportData, load_report_data
from pipeline.report.text import lift, percent, span, term_share
from pipeline.store.atomic import write_text

REPORT_FILE = "index.html"

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("pipeline.report"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    finalize=lambda value: "" if value is None else value,  # a NULL is an empty cell, not "None"
)
_TEMPLATES.filters["percent"] = percent
_TEMPLATES.filters["term_share"] = term_share
_TEMPLATES.filters["lift"] = lift


@dataclass(frozen=True)
class Report:
    path: Path
    data: ReportData
    overview_png: bytes  # the per-day chart, for places that show a picture (Dagster UI)


def render_html(data: ReportData, charts: dict[str, tuple[bytes, bytes | None]]) -> str:
    totals = data.totals
    cards = [
        (totals["digests"], "digests"),
        (totals["appearances"], "appearances"),
        (totals["papers"], "papers"),
        (totals["recurring_papers"], "seen on 2+ days"),
        (totals["papers_with_code"], "papers with code"),
    ]
    chart_views = {
        name: {"caption": caption, "svg_base64": base64.b64encode(charts[name][0]).decode("ascii")} for name, _, caption in CHARTS
    }
    return _TEMPLATES.get_template("report.html").render(
        data=data,
        span=span(totals["first_day"], totals["last_day"]),
        topic_span=span(data.topics.start_day, data.topics.end_day),
        cards=cards,
        charts=chart_views,
        host_colors=host_colors(data),
        colors={"text": TEXT_COLOR, "grid": GRID_COLOR},
    )


def write_report(layout: Layout, top: int = TOP) -> Report:
    """Write <warehouse>/report/index.html from trends.duckdb (atomically)."""
    data = load_report_data(layout.duckdb_path, top)
    charts = render_charts(data)
    path = layout.report_dir / REPORT_FILE
    write_text(path, render_html(data, charts))
    overview_png = charts[CHARTS[0][0]][1]
    if overview_png is None:
        raise RuntimeError("the first chart has no PNG")
    return Report(path=path, data=data, overview_png=overview_png)
