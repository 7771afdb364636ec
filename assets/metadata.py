"""Metadata that makes an asset explain itself in the Dagster UI."""

import html
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schemas import PUBLISHED_COLUMNS, STAGED_ENTRY_SCHEMA, Column
from pipeline.table_parts import TablePlan, count_rows

_PREVIEW_ROWS = 5
# Short cells keep most previews under the 1,000 characters the UI shows inline.
_PREVIEW_CHARS = 40


def _schema_of(columns: list[Column]) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=str(column.type),
                description=column.description,
                constraints=dg.TableColumnConstraints(nullable=column.nullable),
            )
            for column in columns
        ]
    )


def column_schema(table: str) -> dg.TableSchema:
    return _schema_of(PUBLISHED_COLUMNS[table])


def _described(name: str) -> str:
    if name in _STAGED_ONLY_DESCRIPTIONS:
        return _STAGED_ONLY_DESCRIPTIONS[name]
    for columns in PUBLISHED_COLUMNS.values():
        for column in columns:
            if column.name == name:
                return column.description
    raise KeyError(f"no description for staged column {name!r}")


_STAGED_ONLY_DESCRIPTIONS = {
    "title": "title as written in this digest",
    "abstract": "abstract as written in this digest",
    "links": "links found in the abstract: url (canonical), raw_url, host, kind, owner, repo",
}

# The entries of one parsed digest, as staged (one row per title and abstract pair).
STAGED_ENTRY_COLUMNS = [
    Column(field.name, field.type, _described(field.name), field.nullable) for field in STAGED_ENTRY_SCHEMA
]

DAILY_SUMMARY_COLUMNS = [
    Column("day", pa.date32(), "digest_date of the digests summed up", False),
    Column("digests", pa.int64(), "digests dated that day (first copies with status ok)", False),
    Column("appearances", pa.int64(), "paper appearances in that day's digests", False),
    Column("distinct_papers", pa.int64(), "distinct papers that day", False),
    Column("new_papers", pa.int64(), "papers first seen that day", False),
    Column("returning_papers", pa.int64(), "papers seen on an earlier day too", False),
    Column("papers_with_code", pa.int64(), "papers of that day with a code or model link (github, huggingface ...)", False),
]


def staged_entries_schema() -> dg.TableSchema:
    return _schema_of(STAGED_ENTRY_COLUMNS)


def daily_summary_schema() -> dg.TableSchema:
    return _schema_of(DAILY_SUMMARY_COLUMNS)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    if len(text) > _PREVIEW_CHARS:
        text = text[: _PREVIEW_CHARS - 1] + "…"
    # Escaped so a title holding markup or a pipe cannot break the table or run script.
    return html.escape(text.replace("\n", " ")).replace("|", "&#124;")


def markdown_preview(table: pa.Table, rows: int = _PREVIEW_ROWS) -> str:
    head = table.slice(0, rows).to_pylist()
    names = table.column_names
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(_cell(row[name]) for name in names) + " |" for row in head]
    return "\n".join(lines)


def table_metadata(table: str, files: list[Path], plan: TablePlan) -> dict:
    """A table as it will be published: row count, schema, parts, and a preview of its first rows."""
    first = pq.ParquetFile(files[0])
    # The first few rows only: a whole row group of papers is 100 MB of abstracts.
    batch = next(first.iter_batches(batch_size=_PREVIEW_ROWS), None)
    preview = pa.Table.from_batches([batch]) if batch is not None else first.schema_arrow.empty_table()
    return {
        "dagster/row_count": count_rows(files),
        "dagster/column_schema": column_schema(table),
        "path": dg.MetadataValue.path(str(files[0].parent) if len(files) > 1 else str(files[0])),
        "parts": len(plan.parts),
        "parts_written": dg.MetadataValue.json(plan.write),
        "parts_removed": dg.MetadataValue.json(plan.remove),
        "preview": dg.MetadataValue.md(markdown_preview(preview)),
    }
