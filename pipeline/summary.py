"""Plain-text summaries of a built warehouse, for the command line."""

from pathlib import Path

from pipeline.warehouse_db import connect_readonly

DAILY_COLUMNS = ("day", "digests", "appearances", "distinct_papers", "new_papers", "returning_papers")


def format_table(header: tuple[str, ...], rows: list[tuple], left: frozenset[int] | set[int] = frozenset()) -> str:
    """Columns padded to width: text columns (indexes in `left`) to the left, numbers right."""
    cells = [list(header)] + [["" if value is None else str(value) for value in row] for row in rows]
    widths = [max(len(row[index]) for row in cells) for index in range(len(header))]

    def line(row):
        padded = [cell.ljust(width) if index in left else cell.rjust(width) for index, (cell, width) in enumerate(zip(row, widths))]
        return "  ".join(padded).rstrip()

    return "\n".join([line(cells[0]), line(["-" * width for width in widths])] + [line(row) for row in cells[1:]])


# Days printed after a build: years of digests would print thousands of lines.
SUMMARY_DAYS = 14


def daily_summary_text(duckdb_path: Path, days: int = SUMMARY_DAYS) -> str:
    """The latest `days` rows of daily_summary as a text table, oldest first."""
    with connect_readonly(duckdb_path) as con:
        total = con.execute("SELECT count(*) FROM daily_summary").fetchone()[0]
        rows = con.execute(
            f"SELECT {', '.join(DAILY_COLUMNS)} FROM (SELECT * FROM daily_summary ORDER BY day DESC LIMIT ?) ORDER BY day",
            [days],
        ).fetchall()
    text = format_table(DAILY_COLUMNS, rows)
    if total > len(rows):
        text += f"\n(the latest {len(rows)} of {total:,} days; all of them: SELECT * FROM daily_summary)"
    return text


_TOTALS_SQL = """
SELECT
    (SELECT count(*) FROM digests) AS "digests",
    (SELECT count(*) FROM digests WHERE status NOT IN ('ok', 'duplicate')) AS "unusable digests",
    (SELECT count(*) FROM digests WHERE duplicate_of IS NOT NULL) AS "duplicate digests",
    (SELECT count(*) FROM appearances) AS "appearances",
    (SELECT count(*) FROM papers) AS "papers",
    (SELECT count(*) FROM repo_links) AS "repo links",
    (SELECT count(*) FROM rejects) AS "rejected blocks"
"""


def totals(duckdb_path: Path) -> dict[str, int]:
    with connect_readonly(duckdb_path) as con:
        cursor = con.execute(_TOTALS_SQL)
        names = [column[0] for column in cursor.description]
        return dict(zip(names, cursor.fetchone()))
