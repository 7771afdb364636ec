"""The trend views and table macros of trends.duckdb.

Every figure is checked against a plain-Python computation from the published
tables (digests, appearances, papers, repo_links), never through the views, on the
samples and on a small corpus written for streaks, spans, shared days and copies.
"""

import datetime as dt

import duckdb
import pytest

from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.serve.topics_sql import TOPIC_MACROS, TOPIC_TABLES
from pipeline.serve.trends_db import MACROS, connect_readonly
from pipeline.serve.trends_sql import TREND_MACROS, TREND_TABLES, TREND_VIEWS
from tests.format_corpus import Capture, CardEntry, render_markdown
from tests.helpers import REPO, abstract, render
from tests.trend_corpus import PAPERS, SCRIPT_TITLE
from tests.trend_reference import (
    EXPECTED_VIEWS,
    Tables,
    expected_daily_summary,
    expected_rising,
    expected_top_recurring,
)

MAR = {day: dt.date(2026, 3, day) for day in range(1, 32)}
FEB = {day: dt.date(2026, 2, day) for day in range(1, 29)}


@pytest.fixture(params=["samples", "small"])
def corpus(request, sample_settings, small_settings):
    return sample_settings if request.param == "samples" else small_settings


def query(settings, sql: str, params: dict | None = None) -> list[dict]:
    with connect_readonly(settings.layout.duckdb_path) as con:
        cursor = con.execute(sql, params or {})
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=False)) for row in cursor.fetchall()]


# --- the views ------------------------------------------------------------------------


@pytest.mark.parametrize("view", [*TREND_TABLES, *TREND_VIEWS])
def test_view_matches_the_plain_python_figures(corpus, view):
    expected = EXPECTED_VIEWS[view](Tables.load(corpus))
    assert expected, "the reference must have rows to compare"
    assert query(corpus, f"SELECT * FROM {view}") == expected


def test_sample_days_have_the_figures_of_the_issue(sample_settings):
    figures = [
        (row["day"], row["appearances"], row["distinct_papers"], row["new_papers"], row["returning_papers"])
        for row in expected_daily_summary(Tables.load(sample_settings))
    ]
    assert figures == [
        (MAR[11], 113, 112, 112, 0),
        (MAR[12], 81, 81, 71, 10),
        (MAR[13], 69, 69, 42, 27),
        (MAR[14], 95, 95, 73, 22),
    ]
    # The view's own numbers, so the reference is not the only witness.
    view = query(sample_settings, "SELECT day, appearances, distinct_papers, new_papers, returning_papers FROM daily_summary")
    assert [tuple(row.values()) for row in view] == figures


def test_sample_recurrence_totals(sample_settings):
    recurrence = query(sample_settings, "SELECT * FROM paper_recurrence")
    assert len(recurrence) == 298
    assert sum(row["appearances"] for row in recurrence) == 358
    assert sum(row["days_seen"] >= 2 for row in recurrence) == 52  # DESIGN.md
    by_day = query(sample_settings, "SELECT * FROM recurrence_by_day")
    assert sum(row["appearances"] for row in by_day) == 358
    assert sum(row["is_first_seen"] for row in by_day) == 298


def _paper(letter):
    return PAPERS[letter][0]


def test_small_corpus_streaks_and_spans(small_settings):
    recurrence = {row["title"]: row for row in query(small_settings, "SELECT * FROM paper_recurrence")}
    alpha = recurrence[_paper("A")]
    # Seen Mar 1, 2 (in both digests of the day), 3 and 5; Mar 4 had a digest without it.
    assert (alpha["first_seen"], alpha["last_seen"]) == (MAR[1], MAR[5])
    assert (alpha["days_seen"], alpha["appearances"], alpha["span_days"], alpha["longest_streak_days"]) == (4, 5, 5, 3)
    # Feb 27, 28, Mar 1 of 2026 are consecutive calendar days.
    crossing = recurrence[_paper("C")]
    assert (crossing["days_seen"], crossing["span_days"], crossing["longest_streak_days"]) == (3, 3, 3)
    beta = recurrence[_paper("B")]  # Mar 1 and Mar 3: two streaks of one day
    assert (beta["days_seen"], beta["span_days"], beta["longest_streak_days"]) == (2, 3, 1)
    single = recurrence[_paper("S")]
    assert (single["days_seen"], single["span_days"], single["longest_streak_days"]) == (1, 1, 1)
    assert _paper("U") not in recurrence  # only in an undated digest: never seen on a day


def test_small_corpus_has_code_means_a_repository_link(small_settings):
    has_code = {row["title"]: row["has_code"] for row in query(small_settings, "SELECT * FROM paper_recurrence")}
    assert has_code == {
        _paper("A"): False,  # a GitHub profile and a Hugging Face paper page name no repository
        _paper("B"): True,  # gitlab.com (and github.com)
        _paper("C"): False,
        _paper("H"): True,  # huggingface.co dataset
        _paper("P"): False,  # a github.io project page is no repository
        _paper("S"): False,
        SCRIPT_TITLE: True,  # github.com
    }


def test_small_corpus_daily_summary(small_settings):
    summary = [tuple(row.values()) for row in query(small_settings, "SELECT * FROM daily_summary")]
    assert summary == [
        # day, digests, appearances, distinct, new, returning, with code
        (FEB[27], 1, 1, 1, 1, 0, 0),
        (FEB[28], 1, 1, 1, 0, 1, 0),
        (MAR[1], 1, 3, 3, 2, 1, 1),
        (MAR[2], 2, 3, 2, 1, 1, 0),  # two digests the same day: Alpha counted once as a paper
        (MAR[3], 1, 3, 3, 1, 2, 2),  # the byte-identical copy adds neither a digest nor appearances
        (MAR[4], 1, 0, 0, 0, 0, 0),  # a dated digest without entries still makes a day
        (MAR[5], 1, 4, 4, 2, 2, 2),
    ]


def test_small_corpus_repo_popularity(small_settings):
    popularity = [(row["url"], row["host"], row["papers"], row["appearances"]) for row in query(small_settings, "SELECT * FROM repo_popularity")]
    assert popularity == [
        ("https://github.com/shared/tool", "github.com", 2, 4),
        ("https://github.com/alpha-lab", "github.com", 1, 5),
        ("https://huggingface.co/papers/2602.01234", "huggingface.co", 1, 5),
        ("https://github.com/evil/repo", "github.com", 1, 2),
        ("https://gitlab.com/beta/code", "gitlab.com", 1, 2),
        ("https://huggingface.co/datasets/hf/only", "huggingface.co", 1, 1),
        ("https://proj.github.io", "proj.github.io", 1, 1),
    ]


# --- the macros -------------------------------------------------------------------------

SAMPLE_WINDOWS = [(MAR[11], MAR[14]), (MAR[12], MAR[13]), (MAR[11], MAR[11]), (MAR[15], MAR[20])]
SMALL_WINDOWS = [(FEB[27], MAR[5]), (MAR[1], MAR[5]), (FEB[27], MAR[1]), (MAR[4], MAR[4])]


def _windows(corpus, sample_settings):
    return SAMPLE_WINDOWS if corpus is sample_settings else SMALL_WINDOWS


@pytest.mark.parametrize("n", [1, 5, 1000])
def test_top_recurring_matches_the_plain_python_ranking(corpus, sample_settings, n):
    tables = Tables.load(corpus)
    for start, end in _windows(corpus, sample_settings):
        got = query(corpus, "SELECT * FROM top_recurring($start, $end, $n)", {"start": start, "end": end, "n": n})
        assert got == expected_top_recurring(tables, start, end, n), (start, end)


def test_daily_summary_between_matches_the_plain_python_days(corpus, sample_settings):
    summary = expected_daily_summary(Tables.load(corpus))
    for start, end in _windows(corpus, sample_settings):
        got = query(corpus, "SELECT * FROM daily_summary_between($start, $end)", {"start": start, "end": end})
        assert got == [row for row in summary if start <= row["day"] <= end], (start, end)


@pytest.mark.parametrize("n", [3, 1000])
def test_rising_matches_the_plain_python_changes(corpus, sample_settings, n):
    tables = Tables.load(corpus)
    windows = _windows(corpus, sample_settings)
    for window_a, window_b in [(windows[2], windows[0]), (windows[2], windows[1]), (windows[1], windows[2])]:
        params = {"a0": window_a[0], "a1": window_a[1], "b0": window_b[0], "b1": window_b[1], "n": n}
        got = query(corpus, "SELECT * FROM rising($a0, $a1, $b0, $b1, $n)", params)
        assert got == expected_rising(tables, window_a, window_b, n), (window_a, window_b)


def test_sample_rising_between_halves(sample_settings):
    rising = query(sample_settings, "SELECT * FROM rising(DATE '2026-03-11', DATE '2026-03-12', DATE '2026-03-13', DATE '2026-03-14', 1000)")
    assert rising == expected_rising(Tables.load(sample_settings), (MAR[11], MAR[12]), (MAR[13], MAR[14]), 1000)
    assert rising[0]["rise"] == 2 and all(row["rise"] > 0 for row in rising)
    assert [row["rank"] for row in rising] == list(range(1, len(rising) + 1))


def test_small_corpus_macros_by_hand(small_settings):
    top = query(small_settings, "SELECT title, days_seen, appearances FROM top_recurring(DATE '2026-03-01', DATE '2026-03-05', 3)")
    # Beta and the script paper tie on days and appearances; Beta was seen first in the window.
    assert top == [
        {"title": _paper("A"), "days_seen": 4, "appearances": 5},
        {"title": _paper("B"), "days_seen": 2, "appearances": 2},
        {"title": SCRIPT_TITLE, "days_seen": 2, "appearances": 2},
    ]
    rising = query(small_settings, "SELECT title, days_a, days_b, rise FROM rising('2026-02-27', '2026-03-01', '2026-03-02', '2026-03-05', 2)")
    # Alpha and the script paper both rise by 2; Alpha was seen on more days of window b.
    assert rising == [
        {"title": _paper("A"), "days_a": 1, "days_b": 3, "rise": 2},
        {"title": SCRIPT_TITLE, "days_a": 0, "days_b": 2, "rise": 2},
    ]
    between = query(small_settings, "SELECT day, digests, appearances FROM daily_summary_between('2026-03-02', '2026-03-04')")
    assert [tuple(row.values()) for row in between] == [(MAR[2], 2, 3), (MAR[3], 1, 3), (MAR[4], 1, 0)]


def test_whole_range_top_recurring_is_paper_recurrence_in_order(corpus):
    recurrence = query(corpus, "SELECT paper_id, days_seen, appearances FROM paper_recurrence")
    top = query(corpus, "SELECT paper_id, days_seen, appearances FROM top_recurring(DATE '1900-01-01', DATE '2200-01-01', NULL)")
    assert top == recurrence


def test_macros_live_in_the_file_for_read_only_readers(small_settings, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the file holds no path: any working directory works
    with connect_readonly(small_settings.layout.duckdb_path) as con:
        macros = con.execute(
            "SELECT function_name, parameters FROM duckdb_functions() WHERE function_type = 'table_macro' AND database_name = current_database() ORDER BY function_name"
        ).fetchall()
        assert dict(macros) == {
            "daily_summary_between": ["start_day", "end_day"],
            "rising": ["start_a", "end_a", "start_b", "end_b", "n"],
            "top_upvoted": ["start_day", "end_day", "n"],
            "stars_gained": ["start_day", "end_day", "n"],
            "top_recurring": ["start_day", "end_day", "n"],
            "rising_terms": ["start_day", "end_day", "n"],
            "falling_terms": ["start_day", "end_day", "n"],
            "term_history": ["term_name"],
            "papers_with_term": ["term_name"],
        }
        assert sorted(MACROS) == sorted(dict(macros))
        literal = con.execute("SELECT paper_id FROM top_recurring(DATE '2026-03-01', DATE '2026-03-05', 2)").fetchall()
        text = con.execute("SELECT paper_id FROM top_recurring('2026-03-01', '2026-03-05', 2)").fetchall()
        assert literal == text and len(literal) == 2


def test_a_bad_window_bound_is_a_clear_error(small_settings):
    with pytest.raises(duckdb.ConversionException, match="date"):
        query(small_settings, "SELECT * FROM daily_summary_between('March', '2026-03-05')")


def test_docs_document_every_column_and_macro(sample_settings):
    for page, tables, macros in (("trends.md", [*TREND_TABLES, *TREND_VIEWS], TREND_MACROS), ("topics.md", TOPIC_TABLES, TOPIC_MACROS)):
        section = (REPO / "docs" / page).read_text("utf-8")
        for view in tables:
            assert f"`{view}`" in section, (page, view)
            for row in query(sample_settings, f"DESCRIBE {view}"):
                assert f"`{row['column_name']}`" in section, (page, view, row["column_name"])
        for macro in macros:
            assert f"FROM {macro}(" in section, (page, macro)


def test_a_paper_first_shown_by_a_weekly_capture_is_new_on_its_first_daily_listing(tmp_path):
    alpha, beta = "Alpha Paper On Streaks", "Beta Paper On Weeks"
    weekly = Capture(
        entries=(CardEntry(title=alpha, abstract=abstract("alpha"), arxiv_id="2603.00001"),),
        day=MAR[2],
        listing="weekly",
        retrieved=dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
    )
    settings = Settings(tmp_path / "warehouse", tmp_path / "raw", 2026)
    settings.digests_dir.mkdir()
    (settings.digests_dir / "week.md").write_text(render_markdown(weekly), encoding="utf-8")
    (settings.digests_dir / "mar04.txt").write_text(render("Mar 4", [(alpha, abstract("alpha")), (beta, abstract("beta"))]), encoding="utf-8")
    build_warehouse(settings)
    first_days = query(settings, "SELECT title, first_seen_date FROM papers ORDER BY title")
    assert [tuple(row.values()) for row in first_days] == [(alpha, MAR[2]), (beta, MAR[4])]
    # The trends count daily listings: Mar 4 is alpha's first day of them.
    days = query(settings, "SELECT day, distinct_papers, new_papers, returning_papers FROM daily_summary")
    assert [tuple(row.values()) for row in days] == [(MAR[4], 2, 2, 0)]
    recurrence = query(settings, "SELECT title, first_seen FROM paper_recurrence ORDER BY title")
    assert [tuple(row.values()) for row in recurrence] == [(alpha, MAR[4]), (beta, MAR[4])]
    rising = query(settings, "SELECT title, first_seen FROM rising('2026-03-01', '2026-03-03', '2026-03-04', '2026-03-04', 10) ORDER BY title")
    assert [tuple(row.values()) for row in rising] == [(alpha, MAR[4]), (beta, MAR[4])]
