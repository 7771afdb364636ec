"""Topic trends through the whole build: planted trends in generated digests, the samples' terms,
the report's topic sections and incremental tokenization."""

import datetime as dt
import sys
from collections import Counter

import pyarrow.parquet as pq
import pytest

import pipeline.store.terms
from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.serve.trends_db import connect_readonly
from tests import topic_corpus
from tests.helpers import REPO, SAMPLE_PAPER_TERMS, abstract, render, rows

pytestmark = pytest.mark.slow

LAST_DAY = topic_corpus.LAST_DAY
WINDOW = (LAST_DAY - dt.timedelta(days=27), LAST_DAY)  # the report's 28 days


@pytest.fixture(scope="session")
def planted(tmp_path_factory) -> Settings:
    root = tmp_path_factory.mktemp("topics")
    topic_corpus.write_digests(topic_corpus.build_topic_corpus(), root / "raw")
    settings = Settings(root / "warehouse", root / "raw", None)
    assert build_warehouse(settings).published
    return settings


def _query(settings: Settings, sql: str, parameters: list | None = None) -> list[tuple]:
    with connect_readonly(settings.layout.duckdb_path) as con:
        return con.execute(sql, parameters or []).fetchall()


def test_the_planted_rising_term_leads_and_the_faded_one_leads_falling(planted):
    rising = [term for (term,) in _query(planted, "SELECT term FROM rising_terms(?, ?, 1000)", list(WINDOW))]
    falling = [term for (term,) in _query(planted, "SELECT term FROM falling_terms(?, ?, 1000)", list(WINDOW))]
    assert rising[0] == topic_corpus.RISING
    assert falling[0] == topic_corpus.FADING
    assert topic_corpus.FLAT not in rising and topic_corpus.FLAT not in falling


def test_the_text_report_shows_the_planted_topics_first(planted):
    from pipeline.report import load_report_data, terminal_summary

    data = load_report_data(planted.layout.duckdb_path)
    lines = terminal_summary(data).splitlines()
    period = f"{data.topics.start_day} to {data.topics.end_day}"
    sections = {title: lines.index(f"{title}, {period}") for title in ("Rising topics", "New this period", "Fading")}
    assert sections["Rising topics"] < sections["New this period"] < sections["Fading"]
    # Each section: its heading, the table's header and rule, then rank 1.
    assert lines[sections["Rising topics"] + 3].split()[:3] == ["1", "quantum", "origami"]
    assert lines[sections["Fading"] + 3].split()[:3] == ["1", "glacial", "parsing"]
    # The flat term is a term of no row (its papers may still be another term's examples).
    assert not any(line.split()[1:3] == ["sparse", "lattice"] for line in lines[sections["Rising topics"] :])


def test_the_report_examples_are_papers_with_the_term_listed_in_the_period(planted):
    from pipeline.report.data import TOPIC_EXAMPLES, load_report_data

    topics = load_report_data(planted.layout.duckdb_path).topics
    window = (topics.start_day, topics.end_day)
    days = topics.end_day - topics.start_day + dt.timedelta(days=1)
    baseline = (topics.start_day - days, topics.start_day - dt.timedelta(days=1))
    # Counted here from the Parquet tables: each (term, title) and the days its paper was listed.
    titles = {row["paper_id"]: row["title"] for row in rows(planted.layout, "papers")}
    listed: dict[str, set[dt.date]] = {}
    for row in rows(planted.layout, "appearances"):
        listed.setdefault(row["paper_id"], set()).add(row["digest_date"])
    papers_of: dict[str, set[str]] = {}
    for row in rows(planted.layout, "paper_terms"):
        papers_of.setdefault(row["term"], set()).add(row["paper_id"])

    def in_period(term: str, period: tuple[dt.date, dt.date]) -> set[str]:
        return {titles[p] for p in papers_of[term] if any(period[0] <= day <= period[1] for day in listed.get(p, ()))}

    sections = [(topics.rising, window), (topics.new, window), (topics.fading, baseline)]
    assert all(section for section, _ in sections[::2])
    for section, period in sections:
        for row in section:
            shown = in_period(row["term"], period)
            assert len(row["examples"]) == min(TOPIC_EXAMPLES, len(shown)) and set(row["examples"]) <= shown, row["term"]


def test_term_trends_shares_are_fractions_that_add_up_to_the_terms_of_each_week(planted):
    shares = _query(planted, "SELECT min(share), max(share) FROM term_trends")
    assert 0 < shares[0][0] <= shares[0][1] <= 1
    # Per week, the papers summed over terms are the (paper, term) pairs of the week's
    # papers: counted here from the Parquet tables, in Python.
    terms_per_paper = Counter(row["paper_id"] for row in rows(planted.layout, "paper_terms"))
    papers_per_week: dict[dt.date, set[str]] = {}
    for row in rows(planted.layout, "appearances"):
        monday = row["digest_date"] - dt.timedelta(days=row["digest_date"].weekday())
        papers_per_week.setdefault(monday, set()).add(row["paper_id"])
    expected = {week: sum(terms_per_paper[paper] for paper in papers) for week, papers in papers_per_week.items()}
    summed = dict(_query(planted, "SELECT week, sum(papers) FROM term_trends GROUP BY week"))
    assert summed == expected
    assert len(expected) == 25


def test_the_report_shows_the_planted_topics_first(planted):
    html = (planted.layout.report_dir / "index.html").read_text("utf-8")
    rising = html[html.index("<h2>Rising topics</h2>") : html.index("<h3>New this period</h3>")]
    fading = html[html.index("<h3>Fading</h3>") :]
    assert '<td>1</td><td class="text">quantum origami</td>' in rising
    assert '<td>1</td><td class="text">glacial parsing</td>' in fading
    assert '<td class="text">sparse lattice</td>' not in rising + fading
    # Each topic once: "quantum" and "origami" carry the same papers as "quantum origami".
    assert '<td class="text">quantum</td>' not in rising and '<td class="text">origami</td>' not in rising


def test_the_terms_of_a_sample_paper(sample_settings):
    # "CausaLM: Causal Model Explanation Through Counterfactual Language Models", worked
    # out by hand: ':' ends a phrase, "through" is a stop word, "models" folds to "model".
    with connect_readonly(sample_settings.layout.duckdb_path) as con:
        [(paper,)] = con.execute("SELECT paper_id FROM papers WHERE title LIKE 'CausaLM:%'").fetchall()
        title_terms = {
            term for (term,) in con.execute("SELECT term FROM paper_terms WHERE paper_id = ? AND in_title", [paper]).fetchall()
        }
    assert title_terms == {
        "causalm", "causal", "model", "explanation", "counterfactual", "language",
        "causal model", "model explanation", "causal model explanation",
        "counterfactual language", "language model", "counterfactual language model",
    }  # fmt: skip


def test_the_samples_terms_are_those_of_the_plain_python_tokenizer(sample_settings):
    # An independent implementation of the same rules (re and loops, no polars).
    sys.path.insert(0, str(REPO / "benchmarks"))
    import terms_baseline

    expected = sorted(
        row
        for paper in rows(sample_settings.layout, "papers")
        for row in terms_baseline.python_terms(paper["paper_id"], paper["title"], paper["abstract"])
    )
    built = sorted((row["paper_id"], row["term"], row["in_title"]) for row in rows(sample_settings.layout, "paper_terms"))
    assert built == expected and len(built) == SAMPLE_PAPER_TERMS


def test_only_new_and_changed_papers_are_tokenized(tmp_path, monkeypatch):
    digests = tmp_path / "raw"
    digests.mkdir()
    (digests / "a.txt").write_text(
        render("Mar 12, 2026", [("Sparse Lattice Parsing", abstract("a")), ("Glacial Models", abstract("b"))])
    )
    settings = Settings(tmp_path / "warehouse", digests, None)
    tokenized: list[list[str]] = []
    extract = pipeline.store.terms.extract_terms

    def recording(papers):
        tokenized.append(sorted(papers["paper_id"].to_list()))
        return extract(papers)

    monkeypatch.setattr(pipeline.store.terms, "extract_terms", recording)
    build_warehouse(settings)
    ids = {row["title"]: row["paper_id"] for row in rows(settings.layout, "papers")}
    assert tokenized == [sorted(ids.values())]

    # A new digest: its new paper alone.
    (digests / "b.txt").write_text(
        render("Mar 13, 2026", [("Glacial Models", abstract("b")), ("Quantum Origami", abstract("c"))])
    )
    build_warehouse(settings)
    ids = {row["title"]: row["paper_id"] for row in rows(settings.layout, "papers")}
    assert tokenized[1:] == [[ids["Quantum Origami"]]]

    # An earlier digest changes a paper's first sighting, so its abstract: that paper alone.
    (digests / "0.txt").write_text(render("Mar 11, 2026", [("Sparse Lattice Parsing", abstract("other words entirely"))]))
    build_warehouse(settings)
    assert tokenized[2:] == [[ids["Sparse Lattice Parsing"]]]
    terms = {(row["paper_id"], row["term"]) for row in rows(settings.layout, "paper_terms")}
    assert (ids["Sparse Lattice Parsing"], "entirely") in terms

    # A removed digest: its paper's terms go with it, nothing is tokenized.
    (digests / "b.txt").unlink()
    build_warehouse(settings)
    assert len(tokenized) == 3
    assert {paper for paper, _ in {(row["paper_id"], row["term"]) for row in rows(settings.layout, "paper_terms")}} == {
        ids["Sparse Lattice Parsing"], ids["Glacial Models"],
    }  # fmt: skip
    # The same as a build from scratch.
    fresh = Settings(tmp_path / "fresh", digests, None)
    build_warehouse(fresh)
    assert pq.read_table(fresh.layout.table_files("paper_terms")[0]) == pq.read_table(
        settings.layout.table_files("paper_terms")[0]
    )
