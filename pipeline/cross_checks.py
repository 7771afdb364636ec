"""Checks across tables and parts, in DuckDB: keys that must exist elsewhere, counts that must agree.

GX suites see one table at a time; these rules join tables. Every file path reaches
SQL as a parameter. Each check's query returns the offending rows (a few are kept).
"""

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.expectations import SAMPLE_SIZE, plain
from pipeline.sql import connect

# name -> (rule in words, query returning the offending rows, in a stable order)
CROSS_CHECKS: dict[str, tuple[str, str]] = {
    # GX checks uniqueness within the parts a build writes; this, across every part.
    "papers_paper_id_unique": (
        "paper_id is unique across all parts of papers",
        """
        SELECT paper_id, count(*) AS rows
        FROM read_parquet($papers)
        GROUP BY paper_id
        HAVING count(*) > 1
        ORDER BY paper_id
        """,
    ),
    "appearances_paper_in_papers": (
        "every appearances.paper_id exists in papers",
        """
        SELECT a.paper_id, a.digest_id, a.position
        FROM read_parquet($appearances) a
        ANTI JOIN read_parquet($papers) p USING (paper_id)
        ORDER BY a.paper_id, a.digest_id, a.position
        """,
    ),
    "repo_links_paper_in_papers": (
        "every repo_links.paper_id exists in papers",
        """
        SELECT l.paper_id, l.url
        FROM read_parquet($repo_links) l
        ANTI JOIN read_parquet($papers) p USING (paper_id)
        ORDER BY l.paper_id, l.url
        """,
    ),
    "appearances_digest_in_digests": (
        "every appearances.digest_id exists in digests",
        """
        SELECT a.digest_id, count(*) AS appearances
        FROM read_parquet($appearances) a
        ANTI JOIN read_parquet($digests) d USING (digest_id)
        GROUP BY a.digest_id
        ORDER BY a.digest_id
        """,
    ),
    "rejects_digest_in_digests": (
        "every rejects.digest_id exists in digests",
        """
        SELECT r.digest_id, r.source_name, count(*) AS rejects
        FROM read_parquet($rejects) r
        ANTI JOIN read_parquet($digests) d USING (digest_id)
        GROUP BY r.digest_id, r.source_name
        ORDER BY r.digest_id, r.source_name
        """,
    ),
    "appearance_count_is_entry_count": (
        "the appearance count of each digest (status ok, duplicate_of null) equals its entry_count",
        """
        WITH counted AS (
            SELECT digest_id, count(*) AS appearances
            FROM read_parquet($appearances)
            GROUP BY digest_id
        )
        SELECT d.source_name, d.digest_id, d.entry_count, coalesce(c.appearances, 0) AS appearances
        FROM read_parquet($digests) d
        LEFT JOIN counted c USING (digest_id)
        WHERE d.status = 'ok' AND d.duplicate_of IS NULL AND d.entry_count <> coalesce(c.appearances, 0)
        ORDER BY d.source_name
        """,
    ),
}
CROSS_CHECK_TABLES = ("digests", "papers", "appearances", "repo_links", "rejects")


@dataclass(frozen=True)
class CrossCheckOutcome:
    name: str
    rule: str
    success: bool
    offending_count: int
    offending_rows: list[dict] = field(default_factory=list)  # a few, JSON-ready

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def run_cross_checks(files: dict[str, Path | list[Path]]) -> list[CrossCheckOutcome]:
    """Run every cross-table check on the given table files (table -> its Parquet file or files)."""
    missing = [table for table in CROSS_CHECK_TABLES if table not in files]
    if missing:
        raise ValueError(f"no file given for table(s) {', '.join(missing)}")
    params = {
        table: [str(files[table])] if isinstance(files[table], Path) else [str(path) for path in files[table]]
        for table in CROSS_CHECK_TABLES
    }
    outcomes = []
    with connect() as con:
        for name, (rule, query) in CROSS_CHECKS.items():
            used = {table: path for table, path in params.items() if f"${table}" in query}
            (total,) = con.execute(f"SELECT count(*) FROM ({query})", used).fetchone()
            cursor = con.execute(query, used)
            columns = [description[0] for description in cursor.description]
            sample = [{key: plain(value) for key, value in zip(columns, row)} for row in cursor.fetchmany(SAMPLE_SIZE)]
            outcomes.append(CrossCheckOutcome(name, rule, total == 0, int(total), sample))
    return outcomes
