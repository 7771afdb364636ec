"""The term-trend tables and macros of topics_sql, on their own: an in-memory DuckDB loaded
with the rows the SQL reads (papers, recurrence_by_day, paper_terms), never a build.

Three datasets: the generated corpus with planted trends (tests/topic_corpus.py), a tiny
hand-made one whose every figure is worked out in the comments, and one made to sit on
the MIN_PAPERS and MIN_LIFT bounds.
"""

import datetime as dt
from fractions import Fraction

import duckdb
import pyarrow as pa
import pytest

from pipeline.schemas import PUBLISHED_SCHEMAS
from pipeline.serve.topics_sql import MIN_LIFT, MIN_PAPERS, TOPIC_MACROS, TOPIC_TABLES
from pipeline.sql import connect, identifier
from tests.topic_corpus import (
    EARLY_RISING_WEEKS,
    FADE_WEEKS,
    FADING,
    FIRST_DAY,
    FLAT,
    LAST_DAY,
    RISE_WEEKS,
    RISING,
    build_topic_corpus,
    recurrence_rows,
)

# recurrence_by_day as trends_sql builds it; paper_terms as pipeline/topics/terms.py gives it.
SCHEMAS = {
    "papers": PUBLISHED_SCHEMAS["papers"],
    "recurrence_by_day": pa.schema(
        [
            ("day", pa.date32()),
            ("paper_id", pa.string()),
            ("title", pa.string()),
            ("appearances", pa.int64()),
            ("is_first_seen", pa.bool_()),
            ("days_seen_to_date", pa.int64()),
            ("appearances_to_date", pa.int64()),
        ]
    ),
    "paper_terms": pa.schema([("paper_id", pa.string()), ("term", pa.string()), ("in_title", pa.bool_())]),
}


def load(papers: list[tuple], recurrence_by_day: list[tuple], paper_terms: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A database of the three tables' rows, then TOPIC_TABLES in order and TOPIC_MACROS."""
    con = connect()
    for table, rows in (("papers", papers), ("recurrence_by_day", recurrence_by_day), ("paper_terms", paper_terms)):
        names = SCHEMAS[table].names
        source = pa.Table.from_pylist([dict(zip(names, row, strict=True)) for row in rows], schema=SCHEMAS[table])
        con.register("source_rows", source)
        con.execute(f"CREATE TABLE {identifier(table)} AS SELECT * FROM source_rows")
        con.unregister("source_rows")
    for name, query in TOPIC_TABLES.items():
        con.execute(f"CREATE TABLE {identifier(name)} AS {query}")
    # As trends_db creates TREND_MACROS (its helper reads TREND_MACROS only).
    for name, (parameters, query) in TOPIC_MACROS.items():
        signature = ", ".join(identifier(parameter) for parameter in parameters)
        con.execute(f"CREATE MACRO {identifier(name)}({signature}) AS TABLE {query}")
    return con


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def terms(rows: list[dict]) -> list[str]:
    return [row["term"] for row in rows]


# --- the planted trends ---------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus():
    return build_topic_corpus()


@pytest.fixture(scope="session")
def planted(corpus):
    con = load(corpus.papers, corpus.recurrence_by_day, corpus.paper_terms)
    yield con
    con.close()


def _last_weeks(weeks: int) -> tuple[dt.date, dt.date]:
    return LAST_DAY - dt.timedelta(days=7 * weeks - 1), LAST_DAY


# The rise (the last RISE_WEEKS weeks against the fade), and the rise and fade together
# against the weeks before them, where glacial parsing was at its peak.
@pytest.mark.parametrize("weeks", [RISE_WEEKS, RISE_WEEKS + FADE_WEEKS])
def test_the_planted_rise_leads_rising_terms(planted, weeks):
    rising = query(planted, "SELECT * FROM rising_terms(?, ?, ?)", [*_last_weeks(weeks), 10])
    assert terms(rising)[0] == RISING
    assert FLAT not in terms(rising) and FADING not in terms(rising)
    top = rising[0]
    # A lone early paper lies in each baseline: a strong rise, not a new term.
    assert not top["is_new"] and top["baseline_papers"] >= 1
    assert top["lift"] >= 10 and top["slope"] > 0
    assert top["share"] - top["baseline_share"] == max(row["share"] - row["baseline_share"] for row in rising)


@pytest.mark.parametrize("weeks", [RISE_WEEKS, RISE_WEEKS + FADE_WEEKS])
def test_the_planted_fade_leads_falling_terms(planted, weeks):
    falling = query(planted, "SELECT * FROM falling_terms(?, ?, ?)", [*_last_weeks(weeks), 10])
    assert terms(falling)[0] == FADING
    assert FLAT not in terms(falling) and RISING not in terms(falling)
    top = falling[0]
    assert top["lift"] < 1 / 3 and top["slope"] < 0 and not top["is_new"]


def test_a_window_at_the_start_of_the_data_has_only_new_terms(planted):
    start, end = FIRST_DAY, FIRST_DAY + dt.timedelta(days=13)
    rising = query(planted, "SELECT * FROM rising_terms(?, ?, ?)", [start, end, 100])
    # Nothing precedes the window: every supported term is new, glacial parsing (at its
    # 30% peak) the most common.
    assert terms(rising)[0] == FADING
    assert all(row["is_new"] and row["baseline_papers"] == 0 and row["baseline_share"] == 0 for row in rising)
    assert all(row["lift"] is None and row["papers"] >= MIN_PAPERS for row in rising)
    assert query(planted, "SELECT * FROM falling_terms(?, ?, ?)", [start, end, 100]) == []


def test_term_trends_shares_are_fractions_of_the_week(planted):
    bad = query(
        planted,
        """
        SELECT t.*
        FROM term_trends t JOIN week_papers w USING (week)
        WHERE NOT (t.share > 0 AND t.share <= 1 AND t.new_papers <= t.papers AND t.papers <= w.papers
                   AND t.share = t.papers / w.papers AND dayofweek(t.week) = 1)
        """,
    )
    assert bad == []
    weeks = query(planted, "SELECT count(*) AS weeks, count(DISTINCT term) AS terms FROM term_trends")[0]
    assert weeks["weeks"] > 0 and weeks["terms"] == 33  # 30 fillers and 3 planted phrases


def test_term_history_of_the_planted_rise(planted):
    history = query(planted, "SELECT * FROM term_history(?)", [RISING])
    mondays = [FIRST_DAY + dt.timedelta(weeks=week) for week in range(25)]
    assert [row["week"] for row in history] == mondays
    # Weeks counted back from the last (1): the early lone papers, then the rise (a paper
    # listed into the next week is new only in its first).
    new = {25 - index for index, row in enumerate(history) if row["new_papers"]}
    assert new == {*EARLY_RISING_WEEKS, *range(1, RISE_WEEKS + 1)}
    assert all(row["share"] == 0 and row["new_papers"] == 0 for row in history if not row["papers"])


def test_papers_with_the_planted_rise(planted, corpus):
    found = query(planted, "SELECT * FROM papers_with_term(?)", [RISING])
    expected = {paper for paper, term, _ in corpus.paper_terms if term == RISING}
    assert {row["paper_id"] for row in found} == expected
    dates = [row["first_seen_date"] for row in found]
    assert dates == sorted(dates, reverse=True)
    assert all(1 <= row["days_seen"] <= 3 for row in found)


# --- a tiny hand-made dataset -----------------------------------------------------------
#
# Two weeks: W1 (Monday Mar 2, 2026) and W2 (Monday Mar 9). Each paper's days in the
# daily listings and its terms ({term: in_title}). p8 was only ever in a weekly listing
# (first seen Mar 11): it is in papers and paper_terms but has no daily row.


def _march(day: int) -> dt.date:
    return dt.date(2026, 3, day)


TINY = {
    "p1": ([_march(2), _march(3)], {"gamma": True, "delta": False}),
    "p2": ([_march(2)], {"gamma": False, "alpha": True}),
    "p3": ([_march(3), _march(6)], {"gamma": False, "delta": True}),
    "p4": ([_march(6), _march(9)], {"alpha": False}),  # Friday, then Monday of W2
    "p5": ([_march(9), _march(10)], {"alpha": True, "beta": True, "delta": False}),
    "p6": ([_march(10)], {"alpha": False, "beta": False}),
    "p7": ([_march(9)], {"beta": True, "delta": False}),
    "p8": ([], {"alpha": True}),
}
W1, W2 = _march(2), _march(9)
# The window Fri Mar 6 .. Sun Mar 15 (10 days); its baseline is Tue Feb 24 .. Thu Mar 5.
WINDOW = [_march(6), _march(15)]


@pytest.fixture(scope="session")
def tiny():
    papers, recurrence, paper_terms = [], [], []
    for paper, (days, tagged) in TINY.items():
        first, last = (days[0], days[-1]) if days else (_march(11), _march(11))
        papers.append((paper, f"Paper {paper}", "An abstract.", None, first, last, None, None))
        recurrence += recurrence_rows(paper, f"Paper {paper}", days)
        paper_terms += [(paper, term, in_title) for term, in_title in tagged.items()]
    con = load(papers, recurrence, paper_terms)
    yield con
    con.close()


def test_tiny_week_papers(tiny):
    # W1: p1, p2, p3, p4, all first seen in W1. W2: p4, p5, p6, p7; p4 returns from W1.
    assert query(tiny, "SELECT * FROM week_papers") == [
        {"week": W1, "papers": 4, "new_papers": 4},
        {"week": W2, "papers": 4, "new_papers": 3},
    ]


def test_tiny_term_trends(tiny):
    # Rows only for weeks with the term; share = papers / the week's papers (4 in each).
    assert query(tiny, "SELECT * FROM term_trends") == [
        {"term": "alpha", "week": W1, "papers": 2, "new_papers": 2, "share": 0.5},  # p2, p4
        {"term": "delta", "week": W1, "papers": 2, "new_papers": 2, "share": 0.5},  # p1, p3
        {"term": "gamma", "week": W1, "papers": 3, "new_papers": 3, "share": 0.75},  # p1, p2, p3 (p1 on 2 days: once)
        {"term": "alpha", "week": W2, "papers": 3, "new_papers": 2, "share": 0.75},  # p4 (returning), p5, p6
        {"term": "beta", "week": W2, "papers": 3, "new_papers": 3, "share": 0.75},  # p5, p6, p7
        {"term": "delta", "week": W2, "papers": 2, "new_papers": 2, "share": 0.5},  # p5, p7
    ]


# In the window: p3 (Mar 6), p4 (Mar 6 and 9: once), p5, p6, p7 -> 5 papers. In the
# baseline: p1, p2, p3 -> 3 papers (p3, listed Mar 3 and Mar 6, is in both).
# The slope is over the window's weeks, each cut to the window's days:
#   week 0 = W1 from Mar 6: p3, p4 (2 papers); week 1 = W2: p4, p5, p6, p7 (4 papers).
#
# term   window           share  baseline     b.share  lift         weekly shares  slope
# alpha  p4 p5 p6         3/5    p2           1/3      9/5          1/2, 3/4       1/4
# beta   p5 p6 p7         3/5    -            0        NULL (new)   0/2, 3/4       3/4
# gamma  p3               1/5    p1 p2 p3     1        1/5          1/2, 0/4       -1/2
# delta  p3 p5 p7         3/5    p1 p3        2/3      9/10         (neither: lift near 1, 2 baseline papers)
#
# Rising, by the gain in share: beta (+3/5), then alpha (+4/15). Falling: gamma (-4/5).
ALPHA = {"term": "alpha", "papers": 3, "share": 3 / 5, "baseline_papers": 1, "baseline_share": 1 / 3,
         "lift": 9 / 5, "slope": 1 / 4, "is_new": False}  # fmt: skip
BETA = {"term": "beta", "papers": 3, "share": 3 / 5, "baseline_papers": 0, "baseline_share": 0,
        "lift": None, "slope": 3 / 4, "is_new": True}  # fmt: skip
GAMMA = {"term": "gamma", "papers": 1, "share": 1 / 5, "baseline_papers": 3, "baseline_share": 1,
         "lift": 1 / 5, "slope": -1 / 2, "is_new": False}  # fmt: skip


def _approx(rows: list[dict]) -> list[dict]:
    return [{key: pytest.approx(value) if isinstance(value, float) else value for key, value in row.items()} for row in rows]


def test_tiny_rising_terms(tiny):
    rising = query(tiny, "SELECT * FROM rising_terms(?, ?, ?)", [*WINDOW, 10])
    assert rising == _approx([{"rank": 1, **BETA}, {"rank": 2, **ALPHA}])
    assert query(tiny, "SELECT term FROM rising_terms(?, ?, ?)", [*WINDOW, 1]) == [{"term": "beta"}]


def test_tiny_falling_terms(tiny):
    assert query(tiny, "SELECT * FROM falling_terms(?, ?, ?)", [*WINDOW, 10]) == _approx([{"rank": 1, **GAMMA}])


def test_tiny_bounds_are_dates_or_strings(tiny):
    as_text = query(tiny, "SELECT * FROM rising_terms(?, ?, ?)", [str(WINDOW[0]), str(WINDOW[1]), 10])
    assert as_text == query(tiny, "SELECT * FROM rising_terms(?, ?, ?)", [*WINDOW, 10])


@pytest.mark.parametrize("macro", ["rising_terms", "falling_terms"])
@pytest.mark.parametrize("bounds", [("-infinity", "2026-03-08"), ("2026-03-02", "infinity")])
def test_tiny_open_windows_are_refused_by_name(tiny, macro, bounds):
    with pytest.raises(duckdb.InvalidInputException, match="^Invalid Input Error: start_day and end_day must be finite days"):
        query(tiny, f"SELECT * FROM {macro}(?, ?, ?)", [*bounds, 10])


def test_tiny_null_bounds_give_no_rows(tiny):
    assert query(tiny, "SELECT * FROM rising_terms(?, ?, ?)", [None, WINDOW[1], 10]) == []
    assert query(tiny, "SELECT * FROM falling_terms(?, ?, ?)", [WINDOW[0], None, 10]) == []


def test_tiny_window_at_the_start_of_the_data(tiny):
    # Window W1 (Mar 2 .. 8), baseline Feb 23 .. Mar 1: no paper. The window's papers are
    # p1, p2, p3, p4; gamma (p1, p2, p3) is new at 3/4; alpha (p2, p4) lacks support.
    # One week: no slope.
    rising = query(tiny, "SELECT * FROM rising_terms(?, ?, ?)", [_march(2), _march(8), 10])
    assert rising == [
        {"rank": 1, "term": "gamma", "papers": 3, "share": 0.75, "baseline_papers": 0, "baseline_share": 0,
         "lift": None, "slope": None, "is_new": True},
    ]  # fmt: skip
    assert query(tiny, "SELECT * FROM falling_terms(?, ?, ?)", [_march(2), _march(8), 10]) == []


def test_tiny_window_past_the_data_has_no_falls(tiny):
    # Window Mar 11 .. 20: no paper. Its baseline (Mar 1 .. 10) holds all seven, gamma in
    # three of them, but a share of nothing is no fall.
    assert query(tiny, "SELECT * FROM falling_terms(?, ?, ?)", [_march(11), _march(20), 10]) == []
    assert query(tiny, "SELECT * FROM rising_terms(?, ?, ?)", [_march(11), _march(20), 10]) == []


def test_tiny_term_history(tiny):
    # Every week with any paper, 0 in the term's empty weeks.
    assert query(tiny, "SELECT * FROM term_history(?)", ["beta"]) == [
        {"week": W1, "papers": 0, "new_papers": 0, "share": 0},
        {"week": W2, "papers": 3, "new_papers": 3, "share": 0.75},
    ]
    assert query(tiny, "SELECT * FROM term_history(?)", ["gamma"]) == [
        {"week": W1, "papers": 3, "new_papers": 3, "share": 0.75},
        {"week": W2, "papers": 0, "new_papers": 0, "share": 0},
    ]
    # An unknown term, or one spelled otherwise: zeros (terms match exactly).
    assert [row["papers"] for row in query(tiny, "SELECT * FROM term_history(?)", ["Gamma"])] == [0, 0]


def test_tiny_papers_with_term(tiny):
    # The latest first seen first; days_seen counts daily listings (p8 has none).
    assert query(tiny, "SELECT * FROM papers_with_term(?)", ["alpha"]) == [
        {"paper_id": "p8", "title": "Paper p8", "in_title": True, "first_seen_date": _march(11), "days_seen": 0},
        {"paper_id": "p6", "title": "Paper p6", "in_title": False, "first_seen_date": _march(10), "days_seen": 1},
        {"paper_id": "p5", "title": "Paper p5", "in_title": True, "first_seen_date": _march(9), "days_seen": 2},
        {"paper_id": "p4", "title": "Paper p4", "in_title": False, "first_seen_date": _march(6), "days_seen": 2},
        {"paper_id": "p2", "title": "Paper p2", "in_title": True, "first_seen_date": _march(2), "days_seen": 1},
    ]
    assert query(tiny, "SELECT * FROM papers_with_term(?)", ["no such term"]) == []


# --- the MIN_PAPERS and MIN_LIFT bounds -------------------------------------------------
#
# Baseline: Mon Mar 9, TOTAL papers; window: Tue Mar 10, TOTAL other papers. A term in
# c papers of a day is in that day's first c. With MIN_LIFT = a/b and k = MIN_PAPERS, a
# term in b*k baseline papers and a*k window papers has a lift of exactly MIN_LIFT (and
# the other way round for a fall); one paper fewer misses it, one more passes.
A, B, K = MIN_LIFT.numerator, MIN_LIFT.denominator, MIN_PAPERS
TOTAL = 20
# term: (baseline papers, window papers)
BOUND_TERMS = {
    "lift before": (B * K, A * K - 1),
    "lift at": (B * K, A * K),
    "lift past": (B * K, A * K + 1),
    "support before": (0, MIN_PAPERS - 1),
    "support at": (0, MIN_PAPERS),
    "support past": (0, MIN_PAPERS + 1),
    "fall before": (A * K - 1, B * K),
    "fall at": (A * K, B * K),
    "fall past": (A * K + 1, B * K),
    "gone before": (MIN_PAPERS - 1, 0),
    "gone at": (MIN_PAPERS, 0),
    "gone past": (MIN_PAPERS + 1, 0),
}


@pytest.fixture(scope="session")
def bounds():
    assert A * K + 1 <= TOTAL and B * K >= MIN_PAPERS and A * K - 1 >= MIN_PAPERS
    papers, recurrence, paper_terms = [], [], []
    for side, day in ((0, _march(9)), (1, _march(10))):
        for index in range(TOTAL):
            paper = f"{'bw'[side]}{index:02d}"
            papers.append((paper, f"Paper {paper}", "An abstract.", None, day, day, None, None))
            recurrence += recurrence_rows(paper, f"Paper {paper}", [day])
            paper_terms += [(paper, term, False) for term, counts in BOUND_TERMS.items() if index < counts[side]]
    con = load(papers, recurrence, paper_terms)
    yield con
    con.close()


def _ordered(names: list[str], key) -> list[str]:
    """The names by key(baseline papers, window papers), then by name: the macros' order."""
    return sorted(names, key=lambda name: (key(*BOUND_TERMS[name]), name))


def test_min_lift_and_min_papers_bounds_of_rising_terms(bounds):
    rising = query(bounds, "SELECT * FROM rising_terms(?, ?, ?)", [_march(10), _march(10), 100])
    # Both days have TOTAL papers: the gain in share is (window - baseline) / TOTAL; among
    # equal gains, the larger lift first, a new term (no baseline paper) before any. With
    # MIN_LIFT 3/2 and MIN_PAPERS 3, "support past" and "lift past" gain the same 4/20,
    # "support at" and "lift at" the same 3/20: the tie rule decides.
    kept = ["lift at", "lift past", "support at", "support past"]
    assert terms(rising) == _ordered(kept, lambda b, w: (b - w, b != 0, -Fraction(w, b or 1)))
    at = next(row for row in rising if row["term"] == "lift at")
    assert at["lift"] == pytest.approx(float(MIN_LIFT))


def test_min_lift_and_min_papers_bounds_of_falling_terms(bounds):
    falling = query(bounds, "SELECT * FROM falling_terms(?, ?, ?)", [_march(10), _march(10), 100])
    # The largest loss first; among equal losses, the smaller lift.
    kept = ["fall at", "fall past", "gone at", "gone past"]
    assert terms(falling) == _ordered(kept, lambda b, w: (w - b, Fraction(w, b)))
    at = next(row for row in falling if row["term"] == "fall at")
    assert at["lift"] == pytest.approx(1 / float(MIN_LIFT))


# --- the report's terms: each topic once ------------------------------------------------
#
# The report's window is the last 28 days of data, Mar 3 .. Mar 30, its baseline Feb 3 ..
# Mar 2. w1..w3 (Mar 30) carry "quantum origami" and both its words; b1..b3 (Mar 2) carry
# "filler" alone. o1, listed on Jan 5, before both periods, carries "origami" alone: over
# all days "origami" has a paper "quantum origami" lacks, but not in the days compared.
EACH_TOPIC_ONCE = {
    "o1": (dt.date(2026, 1, 5), ["origami"]),
    **{f"b{index}": (_march(2), ["filler"]) for index in (1, 2, 3)},
    **{f"w{index}": (_march(30), ["quantum origami", "quantum", "origami"]) for index in (1, 2, 3)},
}


def test_the_report_hides_a_term_with_the_papers_of_a_longer_one_in_the_days_it_compares():
    from pipeline.report.data import load_topics

    papers, recurrence, paper_terms = [], [], []
    for paper, (day, paper_term_list) in EACH_TOPIC_ONCE.items():
        papers.append((paper, f"Paper {paper}", "An abstract.", None, day, day, None, None))
        recurrence += recurrence_rows(paper, f"Paper {paper}", [day])
        paper_terms += [(paper, term, False) for term in paper_term_list]
    con = load(papers, recurrence, paper_terms)
    try:
        topics = load_topics(con)
    finally:
        con.close()
    assert (topics.start_day, topics.end_day, topics.baseline_papers) == (_march(3), _march(30), 3)
    assert terms(topics.new) == ["quantum origami"]
    assert terms(topics.rising) == []
    assert terms(topics.fading) == ["filler"]
