"""Data Docs: a small static HTML site of the latest validation results.

<warehouse>/validation/index.html lists every check with its status; each check
has a result page (<name>.html) and its result as JSON (results/<name>.json).
Each check run rewrites its own page and JSON and then the index, so the site is
updated on every run. Every value from the data goes through html.escape: titles
and abstracts may hold markup (GX's own Data Docs builder inserts unexpected values
unescaped, and loads its styles and scripts from CDNs, so it is not used).
"""

import html
import json
import re
from pathlib import Path

from pipeline.table_parts import describe_files
from pipeline.atomic import atomic_path
from pipeline.cross_checks import CrossCheckOutcome
from pipeline.expectations import TableValidation

CROSS_TABLES = "cross_tables"
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_SHOWN_CHARS = 300

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #1b1b1b; max-width: 80rem; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .35rem .5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
.passed { color: #136c2e; font-weight: 600; }
.failed { color: #b3261e; font-weight: 600; }
tr.failed-row { background: #fdecea; }
code, .value { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-word; }
ul { margin: 0; padding-left: 1.1rem; }
"""


def _e(value: object) -> str:
    """Escaped text of a value, shortened: everything in a page goes through here."""
    text = "null" if value is None else str(value)
    if len(text) > _SHOWN_CHARS:
        text = text[: _SHOWN_CHARS - 1] + "…"
    return html.escape(text, quote=True)


def _status(success: bool) -> str:
    return '<span class="passed">passed</span>' if success else '<span class="failed">FAILED</span>'


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        # No script runs in these pages: the policy forbids it even if escaping failed.
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"
    )


def table_result(validation: TableValidation) -> dict:
    """A GX table validation in the site's result shape."""
    return {
        "name": validation.table,
        "title": f"Expectation suite for {validation.table}",
        "source": validation.source,
        "row_count": validation.row_count,
        "success": validation.success,
        "validated_at": validation.validated_at,
        "items": [
            {
                "success": outcome.success,
                "rule": outcome.rule,
                "check": outcome.expectation,
                "columns": outcome.columns,
                "evaluated": outcome.element_count,
                "unexpected_count": outcome.unexpected_count,
                "unexpected_values": outcome.unexpected_values,
                "rows": outcome.unexpected_rows,
                "error": outcome.error,
            }
            for outcome in validation.outcomes
        ],
    }


def cross_table_result(outcomes: list[CrossCheckOutcome], sources: dict[str, Path | list[Path]], validated_at: str) -> dict:
    return {
        "name": CROSS_TABLES,
        "title": "Checks across tables (DuckDB)",
        "source": ", ".join(f"{table}: {describe_files(paths)}" for table, paths in sources.items()),
        "row_count": None,
        "success": all(outcome.success for outcome in outcomes),
        "validated_at": validated_at,
        "items": [
            {
                "success": outcome.success,
                "rule": outcome.rule,
                "check": outcome.name,
                "columns": [],
                "evaluated": None,
                "unexpected_count": outcome.offending_count,
                "unexpected_values": [],
                "rows": outcome.offending_rows,
                "error": None,
            }
            for outcome in outcomes
        ],
    }


def _values_html(values: list) -> str:
    if not values:
        return ""
    # JSON-quoted, so an empty string or a value with spaces at its ends shows as such.
    return "<ul>" + "".join(f'<li class="value">{_e(json.dumps(value, ensure_ascii=False, default=str))}</li>' for value in values) + "</ul>"


def _rows_html(rows: list[dict]) -> str:
    if not rows:
        return ""
    columns = list(rows[0])
    head = "".join(f"<th>{_e(column)}</th>" for column in columns)
    body = "".join("<tr>" + "".join(f'<td class="value">{_e(row.get(column))}</td>' for column in columns) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def render_result_page(result: dict) -> str:
    failed = [item for item in result["items"] if not item["success"]]
    rows = []
    for item in result["items"]:
        css = "" if item["success"] else ' class="failed-row"'
        error = f'<div class="failed">error: {_e(item["error"])}</div>' if item.get("error") else ""
        rows.append(
            f"<tr{css}><td>{_status(item['success'])}</td><td>{_e(item['rule'])}</td>"
            f"<td><code>{_e(item['check'])}</code></td><td>{_e(', '.join(item['columns']))}</td>"
            f"<td>{_e(item['evaluated'] if item['evaluated'] is not None else '')}</td>"
            f"<td>{_e(item['unexpected_count'] if item['unexpected_count'] is not None else '')}</td>"
            f"<td>{_values_html(item['unexpected_values'])}{_rows_html(item['rows'])}{error}</td></tr>"
        )
    row_count = "" if result["row_count"] is None else f"<li>rows: {_e(result['row_count'])}</li>"
    body = (
        '<p><a href="index.html">&larr; all checks</a></p>'
        f"<h1>{_e(result['title'])}</h1>"
        f"<p>{_status(result['success'])}: {len(result['items']) - len(failed)} of {len(result['items'])} rules hold.</p>"
        f"<ul><li>validated: {_e(result['validated_at'])}</li><li>file(s): <code>{_e(result['source'])}</code></li>{row_count}</ul>"
        "<table><tr><th>status</th><th>rule</th><th>check</th><th>column(s)</th><th>rows evaluated</th>"
        "<th>unexpected</th><th>a few unexpected values and rows</th></tr>"
        + "".join(rows)
        + "</table>"
    )
    return _page(f"papertrends validation: {result['name']}", body)


def render_index(results: list[dict]) -> str:
    rows = "".join(
        f"<tr><td><a href=\"{_e(result['name'])}.html\">{_e(result['name'])}</a></td>"
        f"<td>{_status(result['success'])}</td>"
        f"<td>{sum(1 for item in result['items'] if not item['success'])} of {len(result['items'])}</td>"
        f"<td>{_e('' if result['row_count'] is None else result['row_count'])}</td>"
        f"<td>{_e(result['validated_at'])}</td><td><code>{_e(result['source'])}</code></td></tr>"
        for result in results
    )
    body = (
        "<h1>papertrends: data validation</h1>"
        "<p>The latest result of each blocking check. A failed check keeps its tables from being "
        "published and trends.duckdb from being rebuilt.</p>"
        "<table><tr><th>check</th><th>status</th><th>rules failed</th><th>rows</th><th>validated</th><th>file(s)</th></tr>"
        + rows
        + "</table>"
    )
    return _page("papertrends validation", body)


def _write_text(path: Path, text: str) -> None:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def page_path(validation_dir: Path, name: str) -> Path:
    if not _NAME.fullmatch(name):
        raise ValueError(f"not a check name: {name!r}")
    return validation_dir / f"{name}.html"


def index_path(validation_dir: Path) -> Path:
    return validation_dir / "index.html"


def write_result(validation_dir: Path, result: dict) -> Path:
    """Write one check's JSON and page, then rebuild the index; returns the page's path."""
    page = page_path(validation_dir, result["name"])
    results_dir = validation_dir / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    _write_text(results_dir / f"{result['name']}.json", json.dumps(result, indent=1, ensure_ascii=False))
    _write_text(page, render_result_page(result))
    write_index(validation_dir)
    return page


def write_index(validation_dir: Path) -> Path:
    results = []
    for path in sorted((validation_dir / "results").glob("*.json")):
        try:
            results.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            continue  # a result being replaced right now: the next write lists it
    results.sort(key=lambda result: (result["name"] == CROSS_TABLES, result["name"]))
    target = index_path(validation_dir)
    _write_text(target, render_index(results))
    return target
