"""The report's data: read from trends.duckdb, read-only."""

from dataclasses import dataclass
from pathlib import Path

from pipeline.read.links import CODE_KINDS
from pipeline.serve.trends_db import connect_readonly

TOP = 10


@dataclass(frozen=True)
class ReportData:
    days: list[dict]  # daily_summary rows, plus new/returning appearances and code share
    top_papers: list[dict]  # paper_recurrence rows of papers seen on 2 or more days
    top_repos: list[dict]  # repo_popularity rows of repositories (CODE_KINDS)
    hosts: list[dict]  # per repository host: repositories and papers linking them
    totals: dict


_DAYS_SQL = """
SELECT
    s.*,
    coalesce(r.new_appearances, 0) AS new_appearances,
    coalesce(r.returning_appearances, 0) AS returning_appearances,
    CASE WHEN s.distinct_papers > 0 THEN s.papers_with_code / s.distinct_papers END AS code_share
FROM daily_summary s
LEFT JOIN (
    SELECT day,
           sum(appearances) FILTER (WHERE is_first_seen) AS new_appearances,
           sum(appearances) FILTER (WHERE NOT is_first_seen) AS returning_appearances
    FROM recurrence_by_day
    GROUP BY day
) r USING (day)
ORDER BY s.day
"""
# The views' own orders, spelled out: an outer query need not keep a view's order.
_TOP_PAPERS_SQL = """
SELECT * FROM paper_recurrence WHERE days_seen >= 2
ORDER BY days_seen DESC, appearances DESC, first_seen, paper_id
LIMIT $n
"""
_TOP_REPOS_SQL = """
SELECT * FROM repo_popularity WHERE list_contains($kinds, kind)
ORDER BY papers DESC, appearances DESC, url
LIMIT $n
"""
_HOSTS_SQL = """
SELECT host, min(kind) AS kind, count(*) AS repositories, sum(papers) AS papers
FROM repo_popularity
WHERE list_contains($kinds, kind)
GROUP BY host
ORDER BY papers DESC, repositories DESC, host
"""
_TOTALS_SQL = """
SELECT
    (SELECT count(*) FROM digests WHERE status = 'ok' AND duplicate_of IS NULL) AS digests,
    (SELECT count(*) FROM appearances) AS appearances,
    (SELECT count(*) FROM paper_recurrence) AS papers,
    (SELECT count(*) FROM paper_recurrence WHERE days_seen >= 2) AS recurring_papers,
    (SELECT count(*) FROM paper_recurrence WHERE has_code) AS papers_with_code,
    (SELECT min(day) FROM daily_summary) AS first_day,
    (SELECT max(day) FROM daily_summary) AS last_day
"""


def _dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_report_data(duckdb_path: Path, top: int = TOP) -> ReportData:
    kinds = list(CODE_KINDS)
    with connect_readonly(duckdb_path) as con:
        return ReportData(
            days=_dicts(con.execute(_DAYS_SQL)),
            top_papers=_dicts(con.execute(_TOP_PAPERS_SQL, {"n": top})),
            top_repos=_dicts(con.execute(_TOP_REPOS_SQL, {"kinds": kinds, "n": top})),
            hosts=_dicts(con.execute(_HOSTS_SQL, {"kinds": kinds})),
            totals=_dicts(con.execute(_TOTALS_SQL))[0],
        )
