"""trends.duckdb: views over the published Parquet tables, the trend views and table macros.

Built under a temporary name and renamed into place, so a reader never meets a
half-built file or a lock held by the builder.

The table views read a snapshot of the published tables: hard links, made at each
build, under warehouse/snapshots/<id>/. DuckDB opens a Parquet file once for its
footer and again for its data, so a file replaced between the two fails the query
("Prefetch registered for bytes outside file", "TProtocolException") and, across
tables, a query could mix two builds. A snapshot's files are never replaced: every
query through trends.duckdb sees one build, whole, even while the next one publishes.
"""

import shutil
import time
import uuid
from pathlib import Path

import duckdb

from pipeline import trend_rows
from pipeline.atomic import atomic_path, fsync_path, link_or_copy
from pipeline.config import Layout
from pipeline.schemas import TABLES
from pipeline.sql import connect, identifier, string_list_literal, string_literal
from pipeline.trends_sql import TREND_HELPERS, TREND_MACROS, TREND_ROWS_COPY_OPTIONS, TREND_VIEWS, trend_table

VIEWS = (*TABLES, *TREND_VIEWS)
MACROS = tuple(TREND_MACROS)
# The snapshot's directory of trend view rows (the tables' directories are their names).
TRENDS_DIR = "trends"
# A snapshot is kept while it is among the newest KEEP_SNAPSHOTS or younger than
# SNAPSHOT_GRACE_SECONDS, so a connection opened on an older trends.duckdb keeps working.
KEEP_SNAPSHOTS = 3
SNAPSHOT_GRACE_SECONDS = 3600


def table_view_sql(table: str, files: list[Path]) -> str:
    # DDL takes no parameters; the paths are absolute, escaped literals so the view
    # works from any working directory. The files are listed, not globbed: a snapshot
    # never changes, and a warehouse path may hold glob characters ([, *, ?).
    if not files:
        raise FileNotFoundError(f"no Parquet file to make the view {table} of")
    return f"CREATE VIEW {identifier(table)} AS SELECT * FROM read_parquet({string_list_literal([str(path) for path in files])})"


def create_views(
    con: duckdb.DuckDBPyConnection, table_files: dict[str, list[Path]], trends_dir: Path, previous: Path | None = None
) -> None:
    """The table views, and the trend views over their rows written into `trends_dir`.

    `previous`: a snapshot whose recurrence_by_day parts may be reused (pipeline.trend_rows).
    """
    for table in TABLES:
        con.execute(table_view_sql(table, table_files[table]))
    # Each trend view reads rows computed once here and stored as Parquet in the
    # snapshot they were computed from: over the tables, a trend view took seconds at
    # 10,000 digests; over its stored rows it answers in milliseconds. Parquet, not a
    # DuckDB table, because DuckDB writes it in half the time. The files are rebuilt
    # whenever the tables are published, so the rows stay current.
    for name, query in TREND_HELPERS.items():
        con.execute(f"CREATE TEMP TABLE {identifier(name)} AS {query}")
    for name, query in TREND_VIEWS.items():
        if name == trend_rows.VIEW:
            files = trend_rows.write_recurrence_parts(con, table_files, trends_dir, previous)
            con.execute(table_view_sql(name, files))
            continue
        path = trends_dir / f"{name}.parquet"
        con.execute(f"CREATE TEMP TABLE {identifier(trend_table(name))} AS {query}")
        con.execute(f"COPY {identifier(trend_table(name))} TO {string_literal(str(path))} ({TREND_ROWS_COPY_OPTIONS})")
        fsync_path(path)
        con.execute(table_view_sql(name, [path]))
    fsync_path(trends_dir)


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    # Stored in the file, so a read-only connection can call them like the views.
    for name, (parameters, query) in TREND_MACROS.items():
        signature = ", ".join(identifier(parameter) for parameter in parameters)
        con.execute(f"CREATE MACRO {identifier(name)}({signature}) AS TABLE {query}")


def snapshot_tables(layout: Layout) -> tuple[Path, dict[str, list[Path]]]:
    """Hard-link (or copy, where links fail) each published table's files into a new snapshot.

    Returns the snapshot directory (with an empty TRENDS_DIR for the trend views' rows)
    and each table's files in it.
    """
    directory = layout.snapshots_dir / f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"
    table_files: dict[str, list[Path]] = {}
    for table in TABLES:
        table_dir = directory / table
        table_dir.mkdir(parents=True)
        table_files[table] = []
        for path in layout.table_files(table):
            linked = table_dir / path.name
            link_or_copy(path, linked)
            table_files[table].append(linked)
        fsync_path(table_dir)
    # Where create_views writes the trend views' rows; every level down to the files
    # is made durable before trends.duckdb, which names them, is renamed into place.
    (directory / TRENDS_DIR).mkdir()
    fsync_path(directory)
    fsync_path(layout.snapshots_dir)
    return directory, table_files


def prune_snapshots(layout: Layout, keep: Path) -> None:
    """Delete the snapshots no recent trends.duckdb can refer to."""
    snapshots = sorted(path for path in layout.snapshots_dir.iterdir() if path.is_dir())
    now_ns = time.time_ns()
    for path in snapshots[:-KEEP_SNAPSHOTS]:
        created_ns = int(path.name.split("-", 1)[0]) if path.name.split("-", 1)[0].isdigit() else 0
        if path != keep and now_ns - created_ns > SNAPSHOT_GRACE_SECONDS * 10**9:
            shutil.rmtree(path, ignore_errors=True)


def build_duckdb(layout: Layout, path: Path | None = None) -> Path:
    """Write trends.duckdb (atomically) with every view and macro; returns its path."""
    path = path or layout.duckdb_path
    snapshot, table_files = snapshot_tables(layout)
    previous = trend_rows.previous_snapshot(layout.snapshots_dir, snapshot, TRENDS_DIR)
    with atomic_path(path) as tmp:
        with connect(str(tmp)) as con:
            create_views(con, table_files, snapshot / TRENDS_DIR, previous)
            create_macros(con)
            con.execute("CHECKPOINT")
        # A DuckDB write-ahead log may be left beside the temporary file.
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
    prune_snapshots(layout, keep=snapshot)
    return path


def connect_readonly(path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(path), read_only=True)
