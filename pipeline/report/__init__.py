"""Reporting: the trend report (HTML with charts) and the text summaries, read from trends.duckdb."""

from pipeline.report.charts import CHARTS, OVERVIEW_TITLE
from pipeline.report.data import ReportData, load_report_data
from pipeline.report.page import REPORT_FILE, Report, write_report
from pipeline.report.text import daily_summary_text, shorten, terminal_summary, totals

__all__ = [
    "CHARTS",
    "OVERVIEW_TITLE",
    "REPORT_FILE",
    "Report",
    "ReportData",
    "daily_summary_text",
    "load_report_data",
    "shorten",
    "terminal_summary",
    "totals",
    "write_report",
]
