"""The trend tables, views and table macros of trends.duckdb, as SQL over the seven tables.

Vocabulary (docs/trends.md spells it out for analysts):
- a day is a digest_date; only digests that count (status ok, not a duplicate copy)
  contribute, because only they have rows in `appearances`;
- a paper is new on the first day it is seen in the daily listings, and returning on
  any later day it is seen;
- a streak is a run of consecutive calendar days on which the paper was seen;
- has_code: the paper links at least one repository (HAS_CODE).
"""

import pyarrow as pa

from pipeline.read.links import CODE_KINDS
from pipeline.schemas import Column
from pipeline.sql import string_literal

# A repo_links row that is code: a link of a code host that names a repository (or a
# Hugging Face model, dataset or space); a GitHub profile or a Hugging Face paper page
# names none. DDL takes no parameters: the kinds are constants, quoted like any literal.
HAS_CODE = f"kind IN ({', '.join(string_literal(kind) for kind in CODE_KINDS)}) AND repo IS NOT NULL"
# A repository's figures, grouped by l.url over repo_links l joined to paper_recurrence r:
# repo_popularity's columns (and the report's, over the daily listings' papers only).
REPO_FIGURES = """
            l.url,
            min(l.host) AS host,
            min(l.kind) AS kind,
            min(l.owner) AS owner,
            min(l.repo) AS repo,
            count(*) AS papers,
            coalesce(CAST(sum(r.appearances) AS BIGINT), 0) AS appearances,
            min(r.first_seen) AS first_seen,
            max(r.last_seen) AS last_seen"""

# Stored as tables, computed once per build in this order (a later one reads the earlier
# ones): over the whole history they take seconds, and a query must take milliseconds.
TREND_TABLES: dict[str, str] = {
    # The appearances the trends count: those of daily listings. Weekly, monthly,
    # trending and search captures are in `appearances` with their digest's `listing`.
    "daily_appearances": """
        SELECT a.*
        FROM appearances a
        SEMI JOIN digests d ON d.digest_id = a.digest_id AND d.listing = 'daily'
        ORDER BY a.digest_date, a.digest_id, a.position
    """,
    # One row per (day, paper seen that day), with the paper's running totals.
    "recurrence_by_day": """
        WITH per_day AS (
            SELECT digest_date AS day, paper_id, count(*) AS appearances
            FROM daily_appearances
            GROUP BY ALL
        )
        SELECT
            d.day,
            d.paper_id,
            p.title,
            d.appearances,
            d.day = min(d.day) OVER (PARTITION BY d.paper_id) AS is_first_seen,
            count(*) OVER paper_to_date AS days_seen_to_date,
            CAST(sum(d.appearances) OVER paper_to_date AS BIGINT) AS appearances_to_date
        FROM per_day d
        JOIN papers p USING (paper_id)
        WINDOW paper_to_date AS (PARTITION BY d.paper_id ORDER BY d.day ROWS UNBOUNDED PRECEDING)
        ORDER BY d.day, d.paper_id
    """,
    # One row per paper seen at least once. In recurrence_by_day, days_seen_to_date
    # numbers a paper's days: a day minus its number is one constant per run of
    # consecutive days ("gaps and islands").
    "paper_recurrence": f"""
        WITH streaks AS (
            SELECT paper_id, count(*) AS streak, sum(appearances) AS appearances
            FROM recurrence_by_day
            GROUP BY paper_id, day - CAST(days_seen_to_date AS INTEGER)
        ),
        stats AS (
            SELECT
                paper_id,
                CAST(sum(streak) AS BIGINT) AS days_seen,
                CAST(sum(appearances) AS BIGINT) AS appearances,
                max(streak) AS longest_streak_days
            FROM streaks
            GROUP BY paper_id
        ),
        days AS (
            SELECT paper_id, min(day) AS first_seen, max(day) AS last_seen
            FROM recurrence_by_day
            GROUP BY paper_id
        ),
        -- What the cards showed, in captures of any listing: the highest, and the latest.
        upvotes AS (
            SELECT paper_id, max(upvotes) AS max_upvotes,
                   arg_max(upvotes, (digest_date, digest_id, position)) AS latest_upvotes
            FROM appearances
            WHERE upvotes IS NOT NULL
            GROUP BY paper_id
        )
        SELECT
            p.paper_id,
            p.title,
            d.first_seen,
            d.last_seen,
            s.days_seen,
            s.appearances,
            date_diff('day', d.first_seen, d.last_seen) + 1 AS span_days,
            s.longest_streak_days,
            p.paper_id IN (SELECT paper_id FROM repo_links WHERE {HAS_CODE}) AS has_code,
            u.max_upvotes,
            u.latest_upvotes
        FROM papers p
        JOIN stats s USING (paper_id)
        JOIN days d USING (paper_id)
        LEFT JOIN upvotes u USING (paper_id)
        ORDER BY s.days_seen DESC, s.appearances DESC, d.first_seen, p.paper_id
    """,
}

# Views over the stored tables: small aggregations, answered in milliseconds.
TREND_VIEWS: dict[str, str] = {
    # One row per day with at least one digest that counts (even one with no entries).
    # A paper seen on a day is new there or returning: no day precedes its first.
    "daily_summary": f"""
        WITH days AS (
            SELECT digest_date AS day, count(*) AS digests
            FROM digests
            WHERE status = 'ok' AND duplicate_of IS NULL AND listing = 'daily'
            GROUP BY ALL
        ),
        per_day AS (
            SELECT
                r.day,
                CAST(sum(r.appearances) AS BIGINT) AS appearances,
                count(*) AS distinct_papers,
                count(*) FILTER (WHERE r.is_first_seen) AS new_papers,
                count(*) FILTER (WHERE NOT r.is_first_seen) AS returning_papers,
                count(*) FILTER (WHERE r.paper_id IN (SELECT paper_id FROM repo_links WHERE {HAS_CODE})) AS papers_with_code
            FROM recurrence_by_day r
            GROUP BY r.day
        )
        SELECT
            days.day,
            days.digests,
            coalesce(per_day.appearances, 0) AS appearances,
            coalesce(per_day.distinct_papers, 0) AS distinct_papers,
            coalesce(per_day.new_papers, 0) AS new_papers,
            coalesce(per_day.returning_papers, 0) AS returning_papers,
            coalesce(per_day.papers_with_code, 0) AS papers_with_code
        FROM days
        LEFT JOIN per_day USING (day)
        ORDER BY days.day
    """,
    # One row per canonical link (every kind; filter on kind for repositories only).
    # A link's appearances are those of the papers citing it. (paper_id, url) is the
    # key of repo_links, so count(*) counts distinct papers.
    "repo_popularity": f"""
        SELECT
            {REPO_FIGURES},
            (SELECT arg_max(s.stars, s.day) FROM repo_stars s WHERE s.url = l.url) AS latest_stars
        FROM repo_links l
        LEFT JOIN paper_recurrence r USING (paper_id)
        GROUP BY l.url
        ORDER BY papers DESC, appearances DESC, l.url
    """,
}

DAILY_SUMMARY_COLUMNS = [
    Column("day", pa.date32(), "digest_date of the digests summed up", False),
    Column("digests", pa.int64(), "digests dated that day (first copies with status ok)", False),
    Column("appearances", pa.int64(), "paper appearances in that day's digests", False),
    Column("distinct_papers", pa.int64(), "distinct papers that day", False),
    Column("new_papers", pa.int64(), "papers first seen that day", False),
    Column("returning_papers", pa.int64(), "papers seen on an earlier day too", False),
    Column("papers_with_code", pa.int64(), "papers of that day that link a repository, model, dataset or space", False),
]

# Table macros: the same questions over a window of days. Bounds are inclusive and
# cast to DATE, so DATE '2026-03-11', '2026-03-11' and a Python date all work.
# The parameter names match no column of the views they read.
TREND_MACROS: dict[str, tuple[tuple[str, ...], str]] = {
    # Papers seen on the most distinct days in the window.
    "top_recurring": (
        ("start_day", "end_day", "n"),
        """
        WITH seen AS (
            SELECT paper_id, count(DISTINCT digest_date) AS days_seen, count(*) AS appearances,
                   min(digest_date) AS first_seen, max(digest_date) AS last_seen
            FROM daily_appearances
            WHERE digest_date BETWEEN CAST(start_day AS DATE) AND CAST(end_day AS DATE)
            GROUP BY paper_id
        )
        SELECT
            row_number() OVER (ORDER BY seen.days_seen DESC, seen.appearances DESC, seen.first_seen, seen.paper_id) AS rank,
            seen.paper_id,
            r.title,
            seen.days_seen,
            seen.appearances,
            seen.first_seen,
            seen.last_seen,
            r.has_code
        FROM seen
        JOIN paper_recurrence r USING (paper_id)
        ORDER BY rank
        LIMIT n
        """,
    ),
    # The rows of daily_summary in the window.
    "daily_summary_between": (
        ("start_day", "end_day"),
        """
        SELECT *
        FROM daily_summary
        WHERE day BETWEEN CAST(start_day AS DATE) AND CAST(end_day AS DATE)
        ORDER BY day
        """,
    ),
    # Papers seen on more days in window b than in window a, the largest rise first.
    "rising": (
        ("start_a", "end_a", "start_b", "end_b", "n"),
        """
        WITH window_a AS (
            SELECT paper_id, count(DISTINCT digest_date) AS days_a, count(*) AS appearances_a
            FROM daily_appearances
            WHERE digest_date BETWEEN CAST(start_a AS DATE) AND CAST(end_a AS DATE)
            GROUP BY paper_id
        ),
        window_b AS (
            SELECT paper_id, count(DISTINCT digest_date) AS days_b, count(*) AS appearances_b
            FROM daily_appearances
            WHERE digest_date BETWEEN CAST(start_b AS DATE) AND CAST(end_b AS DATE)
            GROUP BY paper_id
        ),
        changes AS (
            SELECT
                b.paper_id,
                coalesce(a.days_a, 0) AS days_a,
                b.days_b,
                b.days_b - coalesce(a.days_a, 0) AS rise,
                coalesce(a.appearances_a, 0) AS appearances_a,
                b.appearances_b
            FROM window_b b
            LEFT JOIN window_a a USING (paper_id)
        )
        SELECT
            row_number() OVER (ORDER BY c.rise DESC, c.days_b DESC, c.appearances_b DESC, c.paper_id) AS rank,
            c.paper_id,
            r.title,
            c.days_a,
            c.days_b,
            c.rise,
            c.appearances_a,
            c.appearances_b,
            r.first_seen  -- in the daily listings, as every trend counts
        FROM changes c
        JOIN paper_recurrence r USING (paper_id)
        WHERE c.rise > 0
        ORDER BY rank
        LIMIT n
        """,
    ),
    # Papers by the most upvotes a card showed them with in the window (captures of any listing).
    "top_upvoted": (
        ("start_day", "end_day", "n"),
        """
        WITH shown AS (
            SELECT paper_id, max(upvotes) AS upvotes, count(DISTINCT digest_date) AS days_shown,
                   min(digest_date) AS first_shown, max(digest_date) AS last_shown
            FROM appearances
            WHERE upvotes IS NOT NULL AND digest_date BETWEEN CAST(start_day AS DATE) AND CAST(end_day AS DATE)
            GROUP BY paper_id
        )
        SELECT
            row_number() OVER (ORDER BY shown.upvotes DESC, shown.first_shown, shown.paper_id) AS rank,
            shown.paper_id,
            p.title,
            shown.upvotes,
            shown.days_shown,
            shown.first_shown,
            shown.last_shown
        FROM shown
        JOIN papers p USING (paper_id)
        ORDER BY rank
        LIMIT n
        """,
    ),
    # Repositories by the stars they gained in the window: the last count shown in it
    # minus the first (a repository shown on one day of the window gained 0).
    "stars_gained": (
        ("start_day", "end_day", "n"),
        """
        WITH shown AS (
            SELECT url, arg_min(stars, day) AS first_stars, arg_max(stars, day) AS last_stars,
                   min(day) AS first_day, max(day) AS last_day
            FROM repo_stars
            WHERE day BETWEEN CAST(start_day AS DATE) AND CAST(end_day AS DATE)
            GROUP BY url
        )
        SELECT
            row_number() OVER (ORDER BY shown.last_stars - shown.first_stars DESC, shown.last_stars DESC, shown.url) AS rank,
            shown.url,
            shown.first_day,
            shown.first_stars,
            shown.last_day,
            shown.last_stars,
            shown.last_stars - shown.first_stars AS gained
        FROM shown
        ORDER BY rank
        LIMIT n
        """,
    ),
}
