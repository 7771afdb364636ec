"""Term trends of trends.duckdb: which terms papers carry more or less often over time.

Read with the vocabulary of trends_sql (docs/trends.md spells it out):
- a paper's terms are its rows of `paper_terms`;
- a paper appears on a day when `daily_appearances` lists it that day; it is new on
  the first such day (as in recurrence_by_day);
- a week is a Monday-to-Sunday week, named by its Monday;
- a term's share of a period is the distinct papers with the term appearing in it
  over all distinct papers appearing in it: a paper listed on several days of the
  period counts once.
"""

from fractions import Fraction

import pyarrow as pa

from pipeline.schemas import Column

# A term needs this many distinct papers in the window (rising) or in the baseline
# (falling): fewer is chance, and a share of one or two papers swings wildly.
MIN_PAPERS = 3
# A share must grow (rising) or shrink (falling) by at least this factor: terms of a
# steady share drift up and down from one window to the next without any trend.
MIN_LIFT = Fraction(3, 2)

# Bounds are inclusive days, cast to DATE as in TREND_MACROS. The baseline is as many
# days as the window, just before it (DATE minus BIGINT has no overload: INTEGER); an
# open window ('infinity') has none, so it is refused by name rather than by an overflow.
_START = "CAST(start_day AS DATE)"
_END = "CAST(end_day AS DATE)"
_BASELINE_START = f"""
    CASE WHEN NOT isfinite({_START}) OR NOT isfinite({_END})
        THEN error('start_day and end_day must be finite days: an open window has no baseline')
        ELSE {_START} - CAST({_END} - {_START} + 1 AS INTEGER)
    END"""
_WEEK = "CAST(date_trunc('week', day) AS DATE)"  # date_trunc gives a TIMESTAMP; the Monday as a DATE
# A sighting is a paper's first in its period (the window or the baseline) when the
# paper's previous day is before the period; first in its week of the window when it
# is before the week cut to the window.
_FIRST_SIGHTING_FLAGS = f"""
    coalesce(previous_day < CASE WHEN day >= {_START} THEN {_START} ELSE {_BASELINE_START} END, true) AS first_in_period,
    coalesce(previous_day < greatest({_WEEK}, {_START}), true) AS first_in_week"""

# Stored as tables in this order (a later one reads the earlier ones), after
# recurrence_by_day: a macro reads a few days of term_paper_days, never all of paper_terms.
TOPIC_TABLES: dict[str, str] = {
    # One row per (day, term, paper with the term seen that day), with the paper's
    # previous day (NULL on its first): a paper's first row within any period is the row
    # whose previous day is before the period, so the macros count papers with count(*)
    # instead of a distinct count. Ordered by day, so a window's rows are a few contiguous
    # row groups (DuckDB skips the others by min/max).
    "term_paper_days": """
        WITH listed AS (
            SELECT day, paper_id, lag(day) OVER (PARTITION BY paper_id ORDER BY day) AS previous_day
            FROM recurrence_by_day
        )
        SELECT l.day, t.term, l.paper_id, l.previous_day
        FROM listed l
        JOIN paper_terms t USING (paper_id)
        ORDER BY l.day, t.term, l.paper_id
    """,
    # One row per week with any paper: the denominator of every weekly share, and the
    # weeks a term's history runs over.
    "week_papers": f"""
        SELECT
            {_WEEK} AS week,
            count(DISTINCT paper_id) AS papers,
            count(DISTINCT paper_id) FILTER (WHERE is_first_seen) AS new_papers
        FROM recurrence_by_day
        GROUP BY ALL
        ORDER BY week
    """,
    # One row per (term, week in which papers with the term appear). Counted from each
    # paper's weeks joined to its terms, not by distinct papers over term_paper_days: a
    # (paper, week) row is one paper, and (paper_id, term) is the checked key of
    # paper_terms, so count(*) is the distinct count without deduplicating every sighting.
    "term_trends": f"""
        WITH paper_weeks AS (
            SELECT {_WEEK} AS week, paper_id, bool_or(is_first_seen) AS is_new
            FROM recurrence_by_day
            GROUP BY ALL
        ),
        counts AS (
            SELECT t.term, p.week, count(*) AS papers, count(*) FILTER (WHERE p.is_new) AS new_papers
            FROM paper_weeks p
            JOIN paper_terms t USING (paper_id)
            GROUP BY ALL
        )
        SELECT c.term, c.week, c.papers, c.new_papers, c.papers / w.papers AS share
        FROM counts c
        JOIN week_papers w USING (week)
        ORDER BY c.week, c.term
    """,
}


def _term_changes(kept: str, order: str) -> str:
    """Each term's share of the window against the baseline's, the terms `kept`, by `order`.

    The slope is over the weeks of the window, each week cut to the window's days and
    counting 0 for a term without papers in it: term_trends has rows only for weeks with
    papers, and dropping the empty weeks would flatten a rise that starts from nothing.
    It is NULL when the window's papers fall in a single week.
    """
    return f"""
        WITH sightings AS (
            SELECT term, day >= {_START} AS in_window, {_WEEK} AS week, {_FIRST_SIGHTING_FLAGS}
            FROM term_paper_days
            WHERE day BETWEEN {_BASELINE_START} AND {_END}
        ),
        totals AS (
            SELECT
                count(DISTINCT paper_id) FILTER (WHERE day >= {_START}) AS window_total,
                count(DISTINCT paper_id) FILTER (WHERE day < {_START}) AS baseline_total
            FROM recurrence_by_day
            WHERE day BETWEEN {_BASELINE_START} AND {_END}
        ),
        counts AS (
            SELECT
                term,
                count(*) FILTER (WHERE in_window AND first_in_period) AS papers,
                count(*) FILTER (WHERE NOT in_window AND first_in_period) AS baseline_papers
            FROM sightings
            GROUP BY term
        ),
        changes AS (
            SELECT
                c.term,
                c.papers,
                coalesce(c.papers / nullif(t.window_total, 0), 0) AS share,
                c.baseline_papers,
                coalesce(c.baseline_papers / nullif(t.baseline_total, 0), 0) AS baseline_share,
                t.window_total,
                t.baseline_total
            FROM counts c
            CROSS JOIN totals t
        ),
        kept AS (
            SELECT * FROM changes WHERE {kept}
        ),
        window_weeks AS (
            SELECT
                {_WEEK} AS week,
                (({_WEEK}) - CAST(date_trunc('week', {_START}) AS DATE)) // 7 AS week_index,
                count(DISTINCT paper_id) AS papers
            FROM recurrence_by_day
            WHERE day BETWEEN {_START} AND {_END}
            GROUP BY ALL
        ),
        term_weeks AS (
            SELECT term, week, count(*) AS papers
            FROM sightings
            SEMI JOIN kept USING (term)
            WHERE in_window AND first_in_week
            GROUP BY ALL
        ),
        slopes AS (
            -- DuckDB's regr_slope of a single week is NaN: a window within one week has no slope (NULL).
            SELECT
                k.term,
                CASE WHEN count(*) > 1 THEN regr_slope(coalesce(tw.papers, 0) / w.papers, w.week_index) END AS slope
            FROM kept k
            CROSS JOIN window_weeks w
            LEFT JOIN term_weeks tw ON tw.term = k.term AND tw.week = w.week
            GROUP BY k.term
        ),
        scored AS (
            SELECT
                k.term,
                k.papers,
                k.share,
                k.baseline_papers,
                k.baseline_share,
                k.share / nullif(k.baseline_share, 0) AS lift,
                s.slope,
                k.baseline_papers = 0 AS is_new,
                -- share - baseline_share times window_total * baseline_total (the same for
                -- every term): the same order in whole numbers, so equal gains tie exactly
                -- (their floats may differ in the last bit). With no paper at all in the
                -- baseline (baseline_total 0), the gain is the share: papers orders it.
                k.papers * greatest(k.baseline_total, 1) - k.baseline_papers * k.window_total AS gain
            FROM kept k
            JOIN slopes s USING (term)
        )
        SELECT row_number() OVER (ORDER BY {order}) AS rank, * EXCLUDE (gain)
        FROM scored
        ORDER BY rank
        LIMIT n
        """


# Lift compared in integers (share / baseline_share = papers * baseline_total /
# (baseline_papers * window_total)), so a share exactly MIN_LIFT times the other counts.
_GREW = f"papers * baseline_total * {MIN_LIFT.denominator} >= baseline_papers * window_total * {MIN_LIFT.numerator}"
_SHRANK = f"baseline_papers * window_total * {MIN_LIFT.denominator} >= papers * baseline_total * {MIN_LIFT.numerator}"

_WORDS = "length(string_split(term, ' '))"

# Table macros, called like TREND_MACROS. A term is matched exactly, as paper_terms
# spells it; the parameter is term_name because a parameter named like a column
# (term) would be shadowed by it.
TOPIC_MACROS: dict[str, tuple[tuple[str, ...], str]] = {
    # Terms whose share grew, the largest gain in share points first: an absolute gain
    # ranks a term many papers moved to above a rare one that went from 1 paper to 3.
    # A new term (lift NULL) comes first among equal gains, then the longer phrase: of
    # "origami" and "quantum origami" on the same papers, the phrase names the topic.
    "rising_terms": (
        ("start_day", "end_day", "n"),
        _term_changes(
            kept=f"papers >= {MIN_PAPERS} AND share > baseline_share AND {_GREW}",
            order=f"gain DESC, lift DESC NULLS FIRST, {_WORDS} DESC, term",
        ),
    ),
    # Terms whose share shrank, the largest loss in share points first; the support is
    # in the baseline, where the term was. A window without any paper (past the last
    # day, say) has no shares to compare: no term falls there.
    "falling_terms": (
        ("start_day", "end_day", "n"),
        _term_changes(
            kept=f"baseline_papers >= {MIN_PAPERS} AND window_total > 0 AND share < baseline_share AND {_SHRANK}",
            order=f"gain, lift, {_WORDS} DESC, term",  # the most negative gain: the largest loss
        ),
    ),
    # A term's weekly series over every week with any paper, 0 in weeks without it.
    "term_history": (
        ("term_name",),
        """
        SELECT
            w.week,
            coalesce(t.papers, 0) AS papers,
            coalesce(t.new_papers, 0) AS new_papers,
            coalesce(t.share, 0) AS share
        FROM week_papers w
        LEFT JOIN (SELECT * FROM term_trends WHERE term = term_name) t USING (week)
        ORDER BY w.week
        """,
    ),
    # The papers with a term, the latest first. days_seen counts daily listings only,
    # so a paper seen in other listings alone has 0.
    "papers_with_term": (
        ("term_name",),
        """
        WITH tagged AS (
            SELECT paper_id, in_title FROM paper_terms WHERE term = term_name
        ),
        days AS (
            SELECT paper_id, count(*) AS days_seen
            FROM recurrence_by_day
            SEMI JOIN tagged USING (paper_id)
            GROUP BY paper_id
        )
        SELECT t.paper_id, p.title, t.in_title, p.first_seen_date, coalesce(d.days_seen, 0) AS days_seen
        FROM tagged t
        JOIN papers p USING (paper_id)
        LEFT JOIN days d USING (paper_id)
        ORDER BY p.first_seen_date DESC, t.paper_id
        """,
    ),
}


TERM_TRENDS_COLUMNS = [
    Column("term", pa.string(), "a term of paper_terms", False),
    Column("week", pa.date32(), "the week (its Monday)", False),
    Column("papers", pa.int64(), "distinct papers with the term appearing in a daily listing that week", False),
    Column("new_papers", pa.int64(), "of those, papers first seen that week", False),
    Column("share", pa.float64(), "papers / all distinct papers appearing that week", False),
]
