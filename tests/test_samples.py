"""The facts of the five sample digests (DESIGN.md), from the published tables."""

import datetime as dt
from collections import Counter, defaultdict

import duckdb
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from pipeline.schemas import TABLES
from tests.helpers import read_table, rows

SAMPLE_DATES = {
    "000_5909103161d329a2.txt": dt.date(2026, 3, 12),
    "001_9c5fc94d0d78b2e4.txt": dt.date(2026, 3, 14),
    "002_2ed32dea21e7b0f5.txt": dt.date(2026, 3, 11),
    "003_b18b7ed4e5679936.txt": dt.date(2026, 3, 11),
    "004_6cac52fbde9842e0.txt": dt.date(2026, 3, 13),
}


def test_digests_and_their_dates(sample_settings):
    digests = rows(sample_settings.layout, "digests")
    assert {row["source_name"]: row["digest_date"] for row in digests} == SAMPLE_DATES
    assert [row["date_line"] for row in digests] == ["Mar 12", "Mar 14", "Mar 11", "Mar 11", "Mar 13"]
    # No year in the date lines or file names and none configured: the reference year.
    assert {row["date_source"] for row in digests} == {"reference_year"}
    assert {row["status"] for row in digests} == {"ok"}
    assert all(row["duplicate_of"] is None for row in digests)
    assert all(len(row["digest_id"]) == 64 for row in digests)


def test_appearances_and_papers(sample_settings):
    layout = sample_settings.layout
    appearances = rows(layout, "appearances")
    assert len(appearances) == 358
    assert len(rows(layout, "papers")) == 298
    assert len({row["paper_id"] for row in appearances}) == 298


def test_per_day_figures(sample_settings):
    appearances = rows(sample_settings.layout, "appearances")
    per_day = Counter(row["digest_date"] for row in appearances)
    distinct = defaultdict(set)
    for row in appearances:
        distinct[row["digest_date"]].add(row["paper_id"])
    figures = {day.strftime("%b %d"): (per_day[day], len(distinct[day])) for day in per_day}
    assert figures == {"Mar 11": (113, 112), "Mar 12": (81, 81), "Mar 13": (69, 69), "Mar 14": (95, 95)}


def test_papers_seen_on_two_or_more_days(sample_settings):
    appearances = pl.from_arrow(read_table(sample_settings.layout, "appearances"))
    days = appearances.group_by("paper_id").agg(pl.col("digest_date").n_unique().alias("days"))
    assert days.filter(pl.col("days") >= 2).height == 52


def test_first_and_last_seen_match_appearances(sample_settings):
    layout = sample_settings.layout
    seen = defaultdict(list)
    for row in rows(layout, "appearances"):
        seen[row["paper_id"]].append(row["digest_date"])
    for paper in rows(layout, "papers"):
        assert paper["first_seen_date"] == min(seen[paper["paper_id"]])
        assert paper["last_seen_date"] == max(seen[paper["paper_id"]])


def test_links(sample_settings):
    links = rows(sample_settings.layout, "repo_links")
    assert len({row["paper_id"] for row in links}) == 84
    assert len({(row["paper_id"], row["url"]) for row in links}) == 86 == len(links)


def test_positions_and_lines_trace_back_to_the_raw_file(sample_settings):
    layout = sample_settings.layout
    digests = {row["digest_id"]: row for row in rows(layout, "digests")}
    papers = {row["paper_id"]: row for row in rows(layout, "papers")}
    by_digest = defaultdict(list)
    for row in rows(layout, "appearances"):
        by_digest[row["digest_id"]].append(row)
    for digest_id, appearances in by_digest.items():
        digest = digests[digest_id]
        assert sorted(row["position"] for row in appearances) == list(range(1, digest["entry_count"] + 1))
        lines = (sample_settings.digests_dir / digest["source_name"]).read_text("utf-8").split("\n")
        for row in appearances[:10]:
            # The first sighting's title is the text on that line of its file.
            paper = papers[row["paper_id"]]
            if paper["first_seen_date"] == row["digest_date"]:
                assert lines[row["line"] - 1] == paper["title"]


def test_every_block_is_accounted_for(sample_settings):
    for digest in rows(sample_settings.layout, "digests"):
        accounted = digest["header_block_count"] + 1 + 2 * digest["entry_count"] + digest["reject_count"]
        assert accounted == digest["block_count"]
        raw = (sample_settings.digests_dir / digest["source_name"]).read_text("utf-8")
        assert digest["block_count"] == len(raw.split("\n\n"))
    assert rows(sample_settings.layout, "rejects") == []


# The contract's columns, written out by hand: (name, Arrow type, nullable), in order.
CONTRACT = {
    "digests": [
        ("digest_id", "string", False), ("source_name", "string", False), ("date_line", "string", True),
        ("digest_date", "date32[day]", True), ("date_source", "string", True), ("entry_count", "int32", False),
        ("reject_count", "int32", False), ("byte_size", "int64", False), ("parser_version", "string", False),
        ("ingested_at", "timestamp[us, tz=UTC]", False), ("duplicate_of", "string", True), ("status", "string", False),
        ("error", "string", True), ("encoding", "string", True), ("block_count", "int32", False),
        ("header_block_count", "int32", False), ("format", "string", False), ("listing", "string", False),
        ("entry_block_count", "int32", False),
    ],
    "papers": [
        ("paper_id", "string", False), ("title", "string", False), ("abstract", "string", False),
        ("arxiv_id", "string", True), ("first_seen_date", "date32[day]", False), ("last_seen_date", "date32[day]", False),
        ("authors", "list<element: string>", True), ("keywords", "list<element: string>", True),
    ],
    "appearances": [
        ("digest_id", "string", False), ("paper_id", "string", False), ("digest_date", "date32[day]", False),
        ("position", "int32", False), ("line", "int32", False), ("upvotes", "int32", True), ("comments", "int32", True),
        ("arxiv_id", "string", True),
    ],
    "repo_links": [
        ("paper_id", "string", False), ("url", "string", False), ("raw_url", "string", False), ("host", "string", False),
        ("kind", "string", False), ("owner", "string", True), ("repo", "string", True), ("source", "string", False),
    ],
    "rejects": [
        ("digest_id", "string", False), ("source_name", "string", False), ("line", "int32", False),
        ("reason", "string", False), ("raw_text", "string", False), ("detail", "string", False),
    ],
    "repo_stars": [("url", "string", False), ("day", "date32[day]", False), ("stars", "int64", False)],
    "paper_terms": [("paper_id", "string", False), ("term", "string", False), ("in_title", "bool", False)],
}


@pytest.mark.parametrize("table", TABLES)
def test_every_file_has_the_contracts_schema(sample_settings, table):
    files = sample_settings.layout.table_files(table)
    assert files
    for path in files:
        schema = pq.read_schema(path)  # the file's own schema, not a cast to the expected one
        assert [(field.name, str(field.type), field.nullable) for field in schema] == CONTRACT[table]
        assert all(field.metadata and field.metadata[b"description"] for field in schema)


@pytest.mark.parametrize("table", TABLES)
def test_readable_by_duckdb_polars_and_pyarrow(sample_settings, table):
    layout = sample_settings.layout
    glob = str(layout.table_dir(table) / "**" / "*.parquet")
    expected = read_table(layout, table).num_rows
    assert duckdb.sql("SELECT count(*) FROM read_parquet($glob)", params={"glob": glob}).fetchall() == [(expected,)]
    assert pl.scan_parquet(glob).select(pl.len()).collect().item() == expected
    assert ds.dataset(layout.table_dir(table), format="parquet").count_rows() == expected
