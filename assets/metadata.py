"""Metadata that makes an asset explain itself in the Dagster UI."""

import html
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schemas import PUBLISHED_COLUMNS, Column

_PREVIEW_ROWS = 5
# Short cells keep most previews under the 1,000 characters the UI shows inline.
_PREVIEW_CHARS = 40


def schema_of(columns: list[Column]) -> dg.TableSchema:
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
    return schema_of(PUBLISHED_COLUMNS[table])


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


def table_records(rows: list[dict]) -> dg.TableMetadataValue:
    """Rows of plain values as a table the UI can sort (dates and others as text)."""
    plain = [{key: value if isinstance(value, (str, int, float, bool)) or value is None else str(value) for key, value in row.items()} for row in rows]
    columns = list(rows[0]) if rows else []
    return dg.MetadataValue.table(
        records=[dg.TableRecord(data=row) for row in plain],
        schema=dg.TableSchema(columns=[dg.TableColumn(name=name, type="string") for name in columns]),
    )


def table_metadata(table: str, files: list[Path], published_dir: Path) -> dict:
    """A table as it will be published: row count, schema, files, and a preview of its first rows.

    `path` is where readers find the table once published (candidates are removed then).
    """
    first = pq.ParquetFile(files[0])
    # The first few rows only: a whole row group of papers is megabytes of abstracts.
    batch = next(first.iter_batches(batch_size=_PREVIEW_ROWS), None)
    preview = pa.Table.from_batches([batch]) if batch is not None else first.schema_arrow.empty_table()
    return {
        "dagster/row_count": sum(pq.ParquetFile(path).metadata.num_rows for path in files),
        "dagster/column_schema": column_schema(table),
        "path": dg.MetadataValue.path(str(published_dir)),
        "files": len(files),
        "preview": dg.MetadataValue.md(markdown_preview(preview)),
    }
