"""Checks across tables, in DuckDB: keys that must exist elsewhere, counts that must agree.

GX suites see one table at a time; these rules join tables. The tables' key columns
are read with pyarrow and registered in DuckDB (a path is never SQL). Each check's
query returns the offending rows; a few are kept.
"""

from pathlib import Path

from pipeline.sql import connect, scalar
from pipeline.validate.results import SAMPLE_SIZE, CheckResult, RuleResult, describe_files, plain
from pipeline.validate.suites import read_table

# name -> (rule in words, query returning the offending rows, in a stable order)
CROSS_CHECKS: dict[str, tuple[str, str]] = {
    # GX checks uniqueness within the parts a build writes; this, across every part.
    "papers_paper_id_unique": (
        "paper_id is unique across all parts of papers",
        """
        SELECT paper_id, count(*) AS rows
        FROM papers
        GROUP BY paper_id
        HAVING count(*) > 1
        ORDER BY paper_id
        """,
    ),
    "appearances_paper_in_papers": (
        "every appearances.paper_id exists in papers",
        """
        SELECT a.paper_id, a.digest_id, a.position
        FROM appearances a
        ANTI JOIN papers p USING (paper_id)
        ORDER BY a.paper_id, a.digest_id, a.position
        """,
    ),
    "repo_links_paper_in_papers": (
        "every repo_links.paper_id exists in papers",
        """
        SELECT l.paper_id, l.url
        FROM repo_links l
        ANTI JOIN papers p USING (paper_id)
        ORDER BY l.paper_id, l.url
        """,
    ),
    "appearances_digest_in_digests": (
        "every appearances.digest_id exists in digests",
        """
        SELECT a.digest_id, count(*) AS appearances
        FROM appearances a
        ANTI JOIN digests d USING (digest_id)
        GROUP BY a.digest_id
        ORDER BY a.digest_id
        """,
    ),
    "rejects_digest_in_digests": (
        "every rejects.digest_id exists in digests",
        """
        SELECT r.digest_id, r.source_name, count(*) AS rejects
        FROM rejects r
        ANTI JOIN digests d USING (digest_id)
        GROUP BY r.digest_id, r.source_name
        ORDER BY r.digest_id, r.source_name
        """,
    ),
    "appearance_count_is_entry_count": (
        "the appearance count of each digest (status ok, duplicate_of null) equals its entry_count",
        """
        WITH counted AS (
            SELECT digest_id, count(*) AS appearances
            FROM appearances
            GROUP BY digest_id
        )
        SELECT d.source_name, d.digest_id, d.entry_count, coalesce(c.appearances, 0) AS appearances
        FROM digests d
        LEFT JOIN counted c USING (digest_id)
        WHERE d.status = 'ok' AND d.duplicate_of IS NULL AND d.entry_count <> coalesce(c.appearances, 0)
        ORDER BY d.source_name
        """,
    ),
}
CROSS_TABLE_CHECK = "cross_table_integrity"
# The columns the checks read, per table.
KEY_COLUMNS = {
    "digests": ["digest_id", "source_name", "entry_count", "status", "duplicate_of"],
    "papers": ["paper_id"],
    "appearances": ["digest_id", "paper_id", "position"],
    "repo_links": ["paper_id", "url"],
    "rejects": ["digest_id", "source_name"],
}


def run_cross_checks(files: dict[str, list[Path]]) -> CheckResult:
    """Every cross-table check on the tables given as their Parquet files."""
    rules = []
    with connect() as con:
        for table, columns in KEY_COLUMNS.items():
            con.register(table, read_table(files[table], table, columns))
        for name, (rule, query) in CROSS_CHECKS.items():
            total = scalar(con, f"SELECT count(*) FROM ({query})")
            cursor = con.execute(query)
            names = [description[0] for description in cursor.description]
            sample = [{key: plain(value) for key, value in zip(names, row, strict=True)} for row in cursor.fetchmany(SAMPLE_SIZE)]
            rules.append(RuleResult(rule=rule, check=name, success=total == 0, unexpected_count=int(total), rows=sample))
    return CheckResult(
        name=CROSS_TABLE_CHECK,
        title="Checks across tables (DuckDB)",
        source=", ".join(f"{table}: {describe_files(paths)}" for table, paths in files.items()),
        row_count=None,
        rules=rules,
    )
