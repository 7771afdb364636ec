"""trends.duckdb: views over the published Parquet tables, plus the trend views.

Built under a temporary name and renamed into place, so a reader never meets a
half-built file or a lock held by the builder.
"""

from pathlib import Path

import duckdb

from pipeline.atomic import atomic_path
from pipeline.config import Layout
from pipeline.schemas import TABLES
from pipeline.sql import identifier, string_literal
from pipeline.trends_sql import TREND_VIEWS

VIEWS = (*TABLES, *TREND_VIEWS)


def table_view_sql(layout: Layout, table: str) -> str:
    # DDL takes no parameters; the path is an absolute, escaped literal so the view
    # works from any working directory.
    glob = string_literal(layout.table_glob(table))
    return f"CREATE VIEW {identifier(table)} AS SELECT * FROM read_parquet({glob})"


def trend_table(name: str) -> str:
    """The table inside trends.duckdb holding a trend view's rows, computed at build time."""
    return f"_{name}_rows"


def create_views(con: duckdb.DuckDBPyConnection, layout: Layout) -> None:
    for table in TABLES:
        con.execute(table_view_sql(layout, table))
    # Each trend view reads a table computed once here: over Parquet, a trend view
    # took seconds at 10,000 digests; over its stored rows it answers in milliseconds.
    # The file is rebuilt whenever the tables are published, so the rows stay current.
    for name, query in TREND_VIEWS.items():
        con.execute(f"CREATE TABLE {identifier(trend_table(name))} AS {query}")
        con.execute(f"CREATE VIEW {identifier(name)} AS SELECT * FROM {identifier(trend_table(name))}")


def build_duckdb(layout: Layout, path: Path | None = None) -> Path:
    """Write trends.duckdb (atomically) with every view; returns its path."""
    path = path or layout.duckdb_path
    with atomic_path(path) as tmp:
        with duckdb.connect(str(tmp)) as con:
            create_views(con, layout)
            con.execute("CHECKPOINT")
        # A DuckDB write-ahead log may be left beside the temporary file.
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    return path


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)
