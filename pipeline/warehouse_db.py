"""trends.duckdb: views over the published Parquet tables, the trend views and table macros.

Built under a temporary name and renamed into place, so a reader never meets a
half-built file or a lock held by the builder.
"""

from pathlib import Path

import duckdb

from pipeline.atomic import atomic_path
from pipeline.config import Layout
from pipeline.schemas import TABLES
from pipeline.sql import identifier, string_literal
from pipeline.trends_sql import TREND_MACROS, TREND_VIEWS

VIEWS = (*TABLES, *TREND_VIEWS)
MACROS = tuple(TREND_MACROS)


def table_view_sql(layout: Layout, table: str) -> str:
    # DDL takes no parameters; the path is an absolute, escaped literal so the view
    # works from any working directory.
    glob = string_literal(layout.table_glob(table))
    return f"CREATE VIEW {identifier(table)} AS SELECT * FROM read_parquet({glob})"


def create_views(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    for table in TABLES:
        con.execute(table_view_sql(layout, table))
    for name, query in TREND_VIEWS.items():
        con.execute(f"CREATE VIEW {identifier(name)} AS {query}")


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    # Stored in the file, so a read-only connection can call them like the views.
    for name, (parameters, query) in TREND_MACROS.items():
        signature = ", ".join(identifier(parameter) for parameter in parameters)
        con.execute(f"CREATE MACRO {identifier(name)}({signature}) AS TABLE {query}")


def build_duckdb(layout: Layout, path: Path | None = None) -> Path:
    """Write trends.duckdb (atomically) with every view and macro; returns its path."""
    path = path or layout.duckdb_path
    with atomic_path(path) as tmp:
        with duckdb.connect(str(tmp)) as con:
            create_views(con, layout)
            create_macros(con)
            con.execute("CHECKPOINT")
        # A DuckDB write-ahead log may be left beside the temporary file.
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return path


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)
