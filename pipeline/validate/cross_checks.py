"""Checks across tables, in DuckDB: keys that must exist elsewhere, counts that must agree.

GX suites see one table at a time; these rules join tables. The tables' key columns
are read with pyarrow and registered in DuckDB (a path is never SQL). Each check's
query returns the offending rows; a few are kept.
"""

from pathlib import Path

from pipeline.read.parsed import LOOKS_LIKE_MARKUP_PATTERN, MARKUP_TITLE_PATTERN
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
    "paper_terms_paper_in_papers": (
        "every paper_terms.paper_id exists in papers",
        """
        SELECT t.paper_id, count(*) AS terms
        FROM paper_terms t
        ANTI JOIN papers p USING (paper_id)
        GROUP BY t.paper_id
        ORDER BY t.paper_id
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
    "reject_count_is_reject_rows": (
        "the rejects rows of each digest number its reject_count; a copy (duplicate_of set) has none",
        """
        WITH counted AS (
            SELECT source_name, count(*) AS rejects
            FROM rejects
            GROUP BY source_name
        )
        SELECT d.source_name, d.reject_count, coalesce(c.rejects, 0) AS rejects
        FROM digests d
        LEFT JOIN counted c USING (source_name)
        WHERE coalesce(c.rejects, 0) <> CASE WHEN d.duplicate_of IS NULL THEN d.reject_count ELSE 0 END
        ORDER BY d.source_name
        """,
    ),
    # The readers reject such titles: many in one digest mean a capture was read in the wrong format.
    "markup_titles_per_digest": (
        "no digest has more than 1% of its entries titled with markup or a link",
        """
        WITH marked AS (
            SELECT a.digest_id, count(*) FILTER (WHERE regexp_matches(p.title, $markup)) AS marked, count(*) AS entries
            FROM appearances a
            JOIN papers p USING (paper_id)
            GROUP BY a.digest_id
        )
        SELECT d.source_name, m.marked, m.entries
        FROM marked m
        JOIN digests d USING (digest_id)
        WHERE d.duplicate_of IS NULL AND m.marked > 0.01 * m.entries
        ORDER BY d.source_name
        """,
    ),
}
CROSS_TABLE_CHECK = "cross_table_integrity"
# The columns the checks read, per table.
# Warnings: what a person should look at, never a reason to hold the tables back.
WARNING_CHECKS: dict[str, tuple[str, str]] = {
    "markup_titles": (
        "no title looks like markup or a link (](, http://, https://, a leading [ or #)",
        """
        SELECT paper_id, title
        FROM papers
        WHERE regexp_matches(title, $looks_like_markup)
        ORDER BY paper_id
        """,
    ),
    "arxiv_id_conflicts": (
        "every arXiv id a card names is its paper's arXiv id (papers.arxiv_id, the first one seen)",
        """
        SELECT a.paper_id, p.arxiv_id AS first_seen_id, a.arxiv_id AS other_id, a.digest_id, a.position
        FROM appearances a
        JOIN papers p USING (paper_id)
        WHERE a.arxiv_id IS NOT NULL AND a.arxiv_id IS DISTINCT FROM p.arxiv_id
        ORDER BY a.paper_id, a.digest_id, a.position
        """,
    ),
}
KEY_COLUMNS = {
    "digests": ["digest_id", "source_name", "entry_count", "reject_count", "status", "duplicate_of"],
    "papers": ["paper_id", "title", "arxiv_id"],
    "appearances": ["digest_id", "paper_id", "position", "arxiv_id"],
    "repo_links": ["paper_id", "url"],
    "rejects": ["digest_id", "source_name"],
    "paper_terms": ["paper_id"],
}
# The parameters the queries may name.
_PATTERNS = {"markup": MARKUP_TITLE_PATTERN, "looks_like_markup": LOOKS_LIKE_MARKUP_PATTERN}


def _run(files: dict[str, list[Path]], checks: dict[str, tuple[str, str]]) -> list[RuleResult]:
    rules = []
    with connect() as con:
        for table, columns in KEY_COLUMNS.items():
            con.register(table, read_table(files[table], table, columns))
        for name, (rule, query) in checks.items():
            params = {key: value for key, value in _PATTERNS.items() if f"${key}" in query}
            total = scalar(con, f"SELECT count(*) FROM ({query})", params)
            cursor = con.execute(query, params)
            names = [description[0] for description in cursor.description]
            sample = [{key: plain(value) for key, value in zip(names, row, strict=True)} for row in cursor.fetchmany(SAMPLE_SIZE)]
            rules.append(RuleResult(rule=rule, check=name, success=total == 0, unexpected_count=int(total), rows=sample))
    return rules


def _source(files: dict[str, list[Path]]) -> str:
    return ", ".join(f"{table}: {describe_files(paths)}" for table, paths in files.items() if table in KEY_COLUMNS)


def run_cross_checks(files: dict[str, list[Path]]) -> CheckResult:
    """Every blocking cross-table check on the tables given as their Parquet files."""
    return CheckResult(CROSS_TABLE_CHECK, "Checks across tables (DuckDB)", _source(files), None, _run(files, CROSS_CHECKS))


def run_warning_check(name: str, files: dict[str, list[Path]]) -> CheckResult:
    """One warning check (WARNING_CHECKS): a person should look at what it finds."""
    rules = _run(files, {name: WARNING_CHECKS[name]})
    return CheckResult(name, f"Warning: {WARNING_CHECKS[name][0]}", _source(files), None, rules)
