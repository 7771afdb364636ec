"""trends.duckdb: one self-contained file of the tables, the trend and topic tables, views and macros.

Built from the tables' Parquet files into a temporary name (the caller renames it
into place), in a storage version that DuckDB 1.1 and later open (the DuckDB 1.x CLI,
DBeaver, notebooks). Nothing in it names a path, so the warehouse directory can
be moved or copied, and a reader that holds the file open keeps a consistent view
through a rebuild (the rename leaves its file as it was).
"""

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.schemas import PUBLISHED_SCHEMAS, TABLES
from pipeline.serve.topics_sql import TOPIC_MACROS, TOPIC_TABLES
from pipeline.serve.trends_sql import TREND_MACROS, TREND_TABLES, TREND_VIEWS
from pipeline.sql import connect, identifier, string_literal

# DuckDB 1.1 and later read it right, as the design asks of 1.x clients (by default DuckDB
# 2.0 writes v2.0.0, which no 1.x release opens). docs/contract.md says why not another.
STORAGE_VERSION = "v1.1.0"
DATABASE = "trends"
VIEWS = (*TREND_VIEWS,)
# Computed in this order: a topic table reads the trend tables.
DERIVED_TABLES = {**TREND_TABLES, **TOPIC_TABLES}
STORED = (*TABLES, *DERIVED_TABLES)
ALL_MACROS = {**TREND_MACROS, **TOPIC_MACROS}
MACROS = tuple(ALL_MACROS)
BUILD_INFO = "build_info"


def _rows_in_order(files: list[Path], schema: pa.Schema) -> pa.RecordBatchReader:
    """The files' rows, file after file: one stream, so DuckDB inserts them in this order.

    Read with pyarrow, never DuckDB's read_parquet: a path is data, and read_parquet
    would expand glob characters in it.
    """

    def batches() -> Iterator[pa.RecordBatch]:
        for path in files:
            yield from pq.ParquetFile(path).iter_batches(batch_size=65_536)

    return pa.RecordBatchReader.from_batches(schema, batches())


def _create_macros(con: duckdb.DuckDBPyConnection) -> None:
    for name, (parameters, query) in ALL_MACROS.items():
        signature = ", ".join(identifier(parameter) for parameter in parameters)
        con.execute(f"CREATE MACRO {identifier(name)}({signature}) AS TABLE {query}")


def build_trends_db(path: Path, table_files: dict[str, list[Path]], build_key: str) -> None:
    """Write the database at `path` (a new file) from each table's Parquet files, in name order."""
    with connect() as con:
        con.execute(f"ATTACH {string_literal(str(path))} AS {DATABASE} (STORAGE_VERSION {string_literal(STORAGE_VERSION)})")
        # Created inside the attached database by unqualified names, so views and macros
        # read the file's own tables under whatever name a reader opens it as.
        con.execute(f"USE {DATABASE}")
        for table in TABLES:
            schema = PUBLISHED_SCHEMAS[table]
            con.register("source_rows", _rows_in_order(table_files[table], schema))
            con.execute(f"CREATE TABLE {identifier(table)} AS SELECT * FROM source_rows")
            con.unregister("source_rows")
        for name, query in DERIVED_TABLES.items():
            con.execute(f"CREATE TABLE {identifier(name)} AS {query}")
        for name, query in TREND_VIEWS.items():
            con.execute(f"CREATE VIEW {identifier(name)} AS {query}")
        _create_macros(con)
        con.execute(f"CREATE TABLE {BUILD_INFO} (build_key VARCHAR, built_at TIMESTAMPTZ, duckdb_version VARCHAR)")
        con.execute(
            f"INSERT INTO {BUILD_INFO} VALUES (?, ?, ?)",
            [build_key, dt.datetime.now(dt.UTC), duckdb.__version__],
        )
        con.execute("USE memory")
        con.execute(f"DETACH {DATABASE}")
    Path(f"{path}.wal").unlink(missing_ok=True)


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)


def built_from(path: Path) -> tuple[str, dt.datetime] | None:
    """(build key, build time) of a trends.duckdb, or None when it is missing or unreadable."""
    try:
        with connect_readonly(path) as con:
            row = con.execute(f"SELECT build_key, built_at FROM {BUILD_INFO}").fetchone()
    except duckdb.Error:
        return None
    return (row[0], row[1]) if row else None
