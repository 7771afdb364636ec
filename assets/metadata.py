"""Metadata that makes an asset explain itself in the Dagster UI."""

import html

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schemas import PUBLISHED_COLUMNS

_PREVIEW_ROWS = 5
_PREVIEW_CHARS = 80


def column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=column.name,
                type=str(column.type),
                description=column.description,
                constraints=dg.TableColumnConstraints(nullable=column.nullable),
            )
            for column in PUBLISHED_COLUMNS[table]
        ]
    )


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


def table_metadata(table: str, path) -> dict:
    parquet = pq.ParquetFile(path)
    preview = parquet.read_row_groups([0]).slice(0, _PREVIEW_ROWS) if parquet.num_row_groups else parquet.schema_arrow.empty_table()
    return {
        "dagster/row_count": parquet.metadata.num_rows,
        "dagster/column_schema": column_schema(table),
        "path": dg.MetadataValue.path(str(path)),
        "preview": dg.MetadataValue.md(markdown_preview(preview)),
    }
