"""DuckDB connections for the build, and safe pieces of SQL for the few places DuckDB
takes no parameters (DDL)."""

import re
from typing import Any

import duckdb


def connect(database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A read-write connection for building: in memory, or a database file."""
    con = duckdb.connect(database)
    # DuckDB draws a progress bar on stderr for queries over two seconds: noise in a
    # library's output and in Dagster's captured logs. (A session setting: the
    # connect-time config refuses it.)
    con.execute("SET enable_progress_bar = false")
    return con


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> Any:
    """The one value a query returns (a count, say)."""
    row = con.execute(sql, params).fetchone()
    if row is None:
        raise ValueError(f"the query returned no row: {sql[:80]}")
    return row[0]


_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


def identifier(name: str) -> str:
    """A view or table name: lower-case letters, digits and underscores only."""
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a safe SQL identifier: {name!r}")
    return name


def string_literal(value: str) -> str:
    """A SQL string literal for a value DuckDB cannot take as a parameter (a path in a view)."""
    if "\0" in value:
        raise ValueError("a NUL character cannot appear in a SQL string")
    return "'" + value.replace("'", "''") + "'"


def string_list_literal(values: list[str]) -> str:
    """A SQL list of string literals, e.g. the files of a view: ['a', 'b']."""
    return "[" + ", ".join(string_literal(value) for value in values) + "]"
