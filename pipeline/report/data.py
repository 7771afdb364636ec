"""The report's data: read from trends.duckdb, read-only."""

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.serve.trends_db import connect_readonly
from pipeline.serve.trends_sql import HAS_CODE, REPO_FIGURES

TOP = 10
# The topic sections: the last TOPIC_DAYS days of data against as many before them, the
# chart over the last TOPIC_WEEKS weeks, and the terms ranked before subsumed ones are hidden.
TOPIC_DAYS = 28
TOPIC_WEEKS = 12
TOPIC_CHART_TERMS = 5
TOPIC_EXAMPLES = 2
_RANKED_TERMS = 200


@dataclass(frozen=True)
class Topics:
    start_day: dt.date | None
    end_day: dt.date | None
    baseline_papers: int = 0  # papers seen in the days before the window: 0, nothing to compare with
    rising: list[dict] = field(default_factory=list)  # rising_terms rows (not new), with `examples`
    new: list[dict] = field(default_factory=list)  # rising_terms rows with is_new
    fading: list[dict] = field(default_factory=list)  # falling_terms rows
    weekly_share: dict[str, list[dict]] = field(default_factory=dict)  # term -> term_history rows of the chart's weeks


@dataclass(frozen=True)
class ReportData:
    days: list[dict]  # daily_summary rows, plus new/returning appearances and code share
    top_papers: list[dict]  # paper_recurrence rows of papers seen on 2 or more days
    top_repos: list[dict]  # repo_popularity's figures of repositories (HAS_CODE), over the daily listings' papers
    hosts: list[dict]  # per repository host: repositories and papers linking them
    totals: dict
    topics: Topics


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
# repo_popularity's figures, over the papers of the daily listings only (the view counts
# every paper linking the repository, those of weekly or trending captures too).
_TOP_REPOS_SQL = f"""
SELECT {REPO_FIGURES}
FROM repo_links l
JOIN paper_recurrence r USING (paper_id)
WHERE {HAS_CODE}
GROUP BY l.url
ORDER BY papers DESC, appearances DESC, l.url
LIMIT $n
"""
# Papers counted once per host (a paper may link several of its repositories) and, as
# everywhere in the report, only papers of the daily listings (those of paper_recurrence).
_HOSTS_SQL = f"""
SELECT
    l.host,
    min(l.kind) AS kind,
    count(DISTINCT l.url) AS repositories,
    count(DISTINCT r.paper_id) AS papers
FROM repo_links l
JOIN paper_recurrence r USING (paper_id)
WHERE {HAS_CODE}
GROUP BY l.host
ORDER BY papers DESC, repositories DESC, l.host
"""
# The daily listings' digests and appearances: the sums of the per-day rows.
_TOTALS_SQL = """
SELECT
    (SELECT coalesce(sum(digests), 0) FROM daily_summary) AS digests,
    (SELECT coalesce(sum(appearances), 0) FROM daily_summary) AS appearances,
    (SELECT count(*) FROM paper_recurrence) AS papers,
    (SELECT count(*) FROM paper_recurrence WHERE days_seen >= 2) AS recurring_papers,
    (SELECT count(*) FROM paper_recurrence WHERE has_code) AS papers_with_code,
    (SELECT min(day) FROM daily_summary) AS first_day,
    (SELECT max(day) FROM daily_summary) AS last_day
"""


_TOPIC_WINDOW_SQL = """
WITH w AS (
    SELECT greatest(min(day), max(day) - CAST($days - 1 AS INTEGER)) AS start_day, max(day) AS end_day
    FROM recurrence_by_day
)
SELECT w.start_day, w.end_day, (
    SELECT count(DISTINCT paper_id) FROM recurrence_by_day
    WHERE day >= w.start_day - CAST($days AS INTEGER) AND day < w.start_day
) AS baseline_papers
FROM w
"""
# The terms' papers listed in the days the report compares (the period and the days before it).
_TERM_PAPERS_SQL = """
SELECT DISTINCT paper_id, term FROM term_paper_days
WHERE list_contains($terms, term) AND day BETWEEN $start AND $end
"""
# A term's papers listed in the period (the window, or for a fading term the days before
# it), the most recently listed first.
_EXAMPLES_SQL = """
SELECT p.title
FROM term_paper_days t
JOIN papers p USING (paper_id)
WHERE t.term = $term AND t.day BETWEEN $start AND $end
GROUP BY p.paper_id, p.title
ORDER BY max(t.day) DESC, p.paper_id
LIMIT $n
"""
_HISTORY_SQL = "SELECT * FROM term_history($term) WHERE week > CAST($end AS DATE) - CAST($days AS INTEGER) ORDER BY week"


def _shown(con, ranked: list[dict], start: dt.date, end: dt.date) -> list[dict]:
    """The ranked terms without those subsumed by a longer one of the list: each topic once.

    Subsumed over the papers listed from start to end: two terms of the same papers there
    show the same figures, whatever papers they had on other days.
    """
    import polars as pl  # here, not at import: see pipeline.store.consolidate

    from pipeline.topics.terms import subsumed_terms

    terms = [row["term"] for row in ranked]
    parameters = {"terms": terms, "start": start, "end": end}
    pairs = pl.DataFrame(con.sql(_TERM_PAPERS_SQL, params=parameters).to_arrow_table())
    hidden = set(subsumed_terms(pairs)["term"].to_list())
    return [row for row in ranked if row["term"] not in hidden]


def _with_examples(con, rows: list[dict], start: dt.date, end: dt.date) -> list[dict]:
    for row in rows:
        parameters = {"term": row["term"], "start": start, "end": end, "n": TOPIC_EXAMPLES}
        row["examples"] = [title for (title,) in con.execute(_EXAMPLES_SQL, parameters).fetchall()]
    return rows


def topic_window(con) -> tuple[dt.date | None, dt.date | None, int]:
    """The last TOPIC_DAYS days of data (the whole span, if shorter), and the papers of as many days before."""
    [(start_day, end_day, baseline_papers)] = con.execute(_TOPIC_WINDOW_SQL, {"days": TOPIC_DAYS}).fetchall()
    return start_day, end_day, baseline_papers


def load_topics(con, top: int = TOP) -> Topics:
    """Rising, new and fading terms of the topic window."""
    start_day, end_day, baseline_papers = topic_window(con)
    if start_day is None or end_day is None or baseline_papers == 0:
        return Topics(start_day, end_day, baseline_papers)
    window = {"start": start_day, "end": end_day, "n": _RANKED_TERMS}
    baseline_start = start_day - (end_day - start_day + dt.timedelta(days=1))  # as many days, just before
    # Hidden: terms subsumed over the papers of both periods, those the rows count.
    rising = _shown(con, _dicts(con.execute("SELECT * FROM rising_terms($start, $end, $n)", window)), baseline_start, end_day)
    fading = _shown(con, _dicts(con.execute("SELECT * FROM falling_terms($start, $end, $n)", window)), baseline_start, end_day)
    topics = Topics(
        start_day,
        end_day,
        baseline_papers,
        rising=_with_examples(con, [row for row in rising if not row["is_new"]][:top], start_day, end_day),
        new=_with_examples(con, [row for row in rising if row["is_new"]][:top], start_day, end_day),
        fading=_with_examples(con, fading[:top], baseline_start, start_day - dt.timedelta(days=1)),
    )
    for row in topics.rising[:TOPIC_CHART_TERMS]:
        history = con.execute(_HISTORY_SQL, {"term": row["term"], "end": end_day, "days": 7 * TOPIC_WEEKS})
        topics.weekly_share[row["term"]] = _dicts(history)
    return topics


def _dicts(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def load_report_data(duckdb_path: Path, top: int = TOP) -> ReportData:
    with connect_readonly(duckdb_path) as con:
        return ReportData(
            days=_dicts(con.execute(_DAYS_SQL)),
            top_papers=_dicts(con.execute(_TOP_PAPERS_SQL, {"n": top})),
            top_repos=_dicts(con.execute(_TOP_REPOS_SQL, {"n": top})),
            hosts=_dicts(con.execute(_HOSTS_SQL)),
            totals=_dicts(con.execute(_TOTALS_SQL))[0],
            topics=load_topics(con, top),
        )
