"""The build through pipeline/ alone: identity across files, rebuilds, the DuckDB file."""

import hashlib
import os
import shutil
import subprocess
import sys

import duckdb

from pipeline.build import BuildResult, build_warehouse, consolidate_tables, stage
from pipeline.config import Settings
from pipeline.report.text import daily_summary_text
from pipeline.schemas import TABLES
from pipeline.sql import connect
from tests.helpers import SAMPLES, abstract, read_table, render, rows

FIRST = [("Paper One", abstract("one")), ("Paper Two", abstract("two"))]
SECOND = [("Paper Two", abstract("two again")), ("Paper Three", abstract("three"))]


def _build(tmp_path, digests_dir, year=None):
    settings = Settings(tmp_path / "warehouse", digests_dir, year)
    return settings, build_warehouse(settings)


def parsed(result: BuildResult) -> list[str]:
    return [row["source_name"] for row in result.stage.parsed]


def test_same_capture_saved_twice_is_one_digest(tmp_path, digests_dir):
    text = render("Mar 12", FIRST)
    (digests_dir / "a.txt").write_text(text)
    (digests_dir / "b-copy.txt").write_bytes(text.replace("\n", "\r\n").encode())
    (digests_dir / "c.txt").write_text(render("Mar 13", SECOND))
    settings, _ = _build(tmp_path, digests_dir)
    digests = {row["source_name"]: row for row in rows(settings.layout, "digests")}
    assert digests["a.txt"]["digest_id"] == digests["b-copy.txt"]["digest_id"]
    assert (digests["a.txt"]["duplicate_of"], digests["b-copy.txt"]["duplicate_of"]) == (None, "a.txt")
    assert digests["b-copy.txt"]["status"] == "duplicate"
    appearances = rows(settings.layout, "appearances")
    assert len(appearances) == 4
    assert {row["digest_id"] for row in appearances} == {digests["a.txt"]["digest_id"], digests["c.txt"]["digest_id"]}
    papers = {row["title"]: row for row in rows(settings.layout, "papers")}
    assert set(papers) == {"Paper One", "Paper Two", "Paper Three"}
    # Title and abstract as first seen; first and last seen across digests.
    assert papers["Paper Two"]["abstract"] == abstract("two")
    assert (papers["Paper Two"]["first_seen_date"].day, papers["Paper Two"]["last_seen_date"].day) == (12, 13)


def test_small_title_variations_are_one_paper(tmp_path, digests_dir):
    (digests_dir / "a.txt").write_text(render("Mar 12", [("Graph Nets: A Survey", abstract("g"))]))
    (digests_dir / "b.txt").write_text(render("Mar 13", [("graph nets -- a  survey", abstract("g"))]))
    settings, _ = _build(tmp_path, digests_dir)
    assert [row["title"] for row in rows(settings.layout, "papers")] == ["Graph Nets: A Survey"]
    assert len(rows(settings.layout, "appearances")) == 2


def test_rebuild_gives_identical_tables_and_keeps_ingested_at(tmp_path, digests_dir):
    for name in sorted(os.listdir(SAMPLES))[:2]:
        shutil.copy(SAMPLES / name, digests_dir / name)
    settings, first = _build(tmp_path, digests_dir)
    before = {table: read_table(settings.layout, table) for table in TABLES}
    second = build_warehouse(settings)
    assert parsed(first) and parsed(second) == []
    for table in TABLES:
        assert read_table(settings.layout, table).equals(before[table])
    # Even a full re-parse keeps when the content was first ingested.
    shutil.rmtree(settings.layout.staging_dir)
    build_warehouse(settings)
    for table in TABLES:
        assert read_table(settings.layout, table).equals(before[table])


def test_changed_and_removed_files(tmp_path, digests_dir):
    (digests_dir / "a.txt").write_text(render("Mar 12", FIRST))
    (digests_dir / "b.txt").write_text(render("Mar 13", SECOND))
    settings, _ = _build(tmp_path, digests_dir)
    (digests_dir / "b.txt").write_text(render("Mar 14", SECOND))
    result = build_warehouse(settings)
    assert parsed(result) == ["b.txt"]
    assert {row["digest_date"].day for row in rows(settings.layout, "appearances")} == {12, 14}
    (digests_dir / "b.txt").unlink()
    result = build_warehouse(settings)
    assert parsed(result) == [] and result.stage.plan.remove == ["b.txt"]
    assert [row["source_name"] for row in rows(settings.layout, "digests")] == ["a.txt"]
    assert {row["title"] for row in rows(settings.layout, "papers")} == {"Paper One", "Paper Two"}


def test_configured_year_reparses(tmp_path, digests_dir):
    (digests_dir / "a.txt").write_text(render("Mar 12", FIRST))
    settings, _ = _build(tmp_path, digests_dir)
    assert rows(settings.layout, "digests")[0]["digest_date"].year == 2026
    settings, result = _build(tmp_path, digests_dir, year=2024)
    assert parsed(result) == ["a.txt"]
    assert (rows(settings.layout, "digests")[0]["digest_date"].year, rows(settings.layout, "digests")[0]["date_source"]) == (2024, "config")


def test_rejects_are_published_with_their_source(tmp_path, digests_dir):
    (digests_dir / "a.txt").write_text(render("Mar 12", FIRST) + "\n\nA Lonely Title")
    (digests_dir / "empty.txt").write_bytes(b"")
    settings, _ = _build(tmp_path, digests_dir)
    assert [(row["source_name"], row["reason"], row["raw_text"]) for row in rows(settings.layout, "rejects")] == [
        ("a.txt", "title_without_abstract", "A Lonely Title")
    ]
    statuses = {row["source_name"]: (row["status"], row["entry_count"], row["reject_count"]) for row in rows(settings.layout, "digests")}
    assert statuses == {"a.txt": ("ok", 2, 1), "empty.txt": ("empty", 0, 0)}


EVERY_NAME = [
    "digests", "papers", "appearances", "repo_links", "rejects", "repo_stars",
    "daily_appearances", "recurrence_by_day", "paper_recurrence", "daily_summary", "repo_popularity",
]


def test_duckdb_file_answers_from_any_working_directory(sample_settings, tmp_path):
    """A reader in another directory, in another process, read-only, sees every table and view."""
    script = (
        "import duckdb, sys\n"
        "con = duckdb.connect(sys.argv[1], read_only=True)\n"
        "for name in sys.argv[2:]:\n"
        "    print(name, con.execute(f'SELECT count(*) FROM {name}').fetchone()[0])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", script, str(sample_settings.layout.duckdb_path), *EVERY_NAME],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )
    counts = dict(line.split() for line in completed.stdout.splitlines())
    assert counts == {
        "digests": "5", "papers": "298", "appearances": "358", "repo_links": "86", "rejects": "0", "repo_stars": "0",
        "daily_appearances": "358", "recurrence_by_day": "357", "paper_recurrence": "298", "daily_summary": "4",
        "repo_popularity": "86",
    }


def test_printed_daily_summary_is_the_latest_days(sample_settings):
    path = sample_settings.layout.duckdb_path
    lines = daily_summary_text(path, days=2).splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["2026-03-13", "2026-03-14"]
    assert lines[4:] == ["(the latest 2 of 4 days; all of them: SELECT * FROM daily_summary)"]
    # All days fit: no note.
    assert [line.split()[0] for line in daily_summary_text(path).splitlines()[2:]] == ["2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14"]


def test_duckdb_file_is_self_contained(sample_settings):
    """Tables stored in the file, views and macros over them, and no path anywhere."""
    with duckdb.connect(str(sample_settings.layout.duckdb_path), read_only=True) as con:
        tables = {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        views = dict(con.execute("SELECT view_name, sql FROM duckdb_views() WHERE NOT internal").fetchall())
        macros = dict(con.execute("SELECT function_name, macro_definition FROM duckdb_functions() WHERE function_type = 'table_macro' AND NOT internal").fetchall())
    assert tables == {
        "digests", "papers", "appearances", "repo_links", "rejects", "repo_stars",
        "paper_terms", "daily_appearances", "recurrence_by_day", "paper_recurrence",
        "term_paper_days", "week_papers", "term_trends", "build_info",
    }
    assert set(views) == {"daily_summary", "repo_popularity"}
    assert set(macros) == {
        "top_recurring", "daily_summary_between", "rising", "top_upvoted", "stars_gained",
        "rising_terms", "falling_terms", "term_history", "papers_with_term",
    }
    for sql in [*views.values(), *macros.values()]:
        assert "parquet" not in sql.lower() and str(sample_settings.layout.root) not in sql
    leftovers = [path.name for path in sample_settings.layout.root.rglob("*.tmp")]
    assert leftovers == []


def test_two_identical_empty_files_are_recorded_and_do_not_fail_the_build(tmp_path, digests_dir):
    (digests_dir / "a.txt").write_text(render("Mar 12", FIRST))
    (digests_dir / "empty-1.txt").write_bytes(b"")
    (digests_dir / "empty-2.txt").write_bytes(b"")
    (digests_dir / "junk-1.bin").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    (digests_dir / "junk-2.bin").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    settings, result = _build(tmp_path, digests_dir)
    assert result.published
    digests = {row["source_name"]: (row["status"], row["duplicate_of"]) for row in rows(settings.layout, "digests")}
    # A copy of a file that gave no entries keeps its own status, and names the first copy.
    assert digests == {
        "a.txt": ("ok", None),
        "empty-1.txt": ("empty", None),
        "empty-2.txt": ("empty", "empty-1.txt"),
        "junk-1.bin": ("binary", None),
        "junk-2.bin": ("binary", "junk-1.bin"),
    }
    # The copy's reject (its first bytes) is the first copy's: one row, not two.
    assert [(row["source_name"], row["reason"]) for row in rows(settings.layout, "rejects")] == [("junk-1.bin", "binary_file")]


def test_a_refused_link_replaced_by_the_file_itself_is_read(tmp_path, digests_dir):
    """A rename keeps size and mtime; the signature (ctime, inode, link flag) still changes."""
    outside = tmp_path / "outside.txt"
    outside.write_text(render("Mar 12", FIRST))
    (digests_dir / "a.txt").symlink_to(outside)
    settings, _ = _build(tmp_path, digests_dir)
    assert rows(settings.layout, "digests")[0]["status"] == "unreadable"
    os.replace(outside, digests_dir / "a.txt")
    assert parsed(build_warehouse(settings)) == ["a.txt"]
    assert [(row["status"], row["entry_count"]) for row in rows(settings.layout, "digests")] == [("ok", 2)]


def test_an_empty_file_that_becomes_unreadable_and_unreadable_otherwise_is_republished(tmp_path, digests_dir):
    """None of the three has bytes to hash: the digests row must follow the file all the same."""
    (digests_dir / "a.txt").write_text(render("Mar 12", FIRST))
    path = digests_dir / "e.txt"
    path.write_bytes(b"")
    settings, _ = _build(tmp_path, digests_dir)
    unreadable_id = hashlib.sha256(b"unreadable\0e.txt").hexdigest()
    empty_id = hashlib.sha256(b"").hexdigest()
    steps = [
        (lambda: None, ("empty", empty_id, "no text (0 bytes)")),
        (lambda: (path.unlink(), path.mkdir()), ("unreadable", unreadable_id, "cannot read the file: a directory, not a regular file")),
        (lambda: (path.rmdir(), os.mkfifo(path)), ("unreadable", unreadable_id, "cannot read the file: a FIFO, not a regular file")),
    ]
    for change, expected in steps:
        change()
        build_warehouse(settings)
        row = next(row for row in rows(settings.layout, "digests") if row["source_name"] == "e.txt")
        assert (row["status"], row["digest_id"], row["error"]) == expected


def test_a_capture_being_written_into_the_digests_directory_is_left_alone(tmp_path):
    """The default digests directory is inside the warehouse: cleanup never touches it."""
    settings = Settings(tmp_path / "warehouse", tmp_path / "warehouse" / "raw", None)
    settings.digests_dir.mkdir(parents=True)
    (settings.digests_dir / "a.txt").write_text(render("Mar 12", FIRST))
    in_flight = settings.digests_dir / ".b.txt.tmp"
    in_flight.write_text("half a capture")
    leftover = settings.layout.parquet_dir / "papers" / ".2026-03.parquet.1-dead.tmp"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("left by a killed run")
    build_warehouse(settings)
    assert in_flight.read_text() == "half a capture" and not leftover.exists()


def test_build_connections_draw_no_progress_bar(monkeypatch):
    """DuckDB draws one on stderr for queries over 2 s: noise in the build's output and Dagster's logs.

    Its default depends on the process (on in a plain script, off under pytest): the
    connection here starts with it on, as the consolidation's did before.
    """
    plain_connect = duckdb.connect

    def connect_with_progress_bar(*args, **kwargs):
        con = plain_connect(*args, **kwargs)
        con.execute("SET enable_progress_bar = true")
        return con

    monkeypatch.setattr(duckdb, "connect", connect_with_progress_bar)
    with connect() as con:
        assert con.execute("SELECT current_setting('enable_progress_bar')").fetchone() == (False,)


def test_a_nothing_new_build_removes_candidates_of_another_staging(tmp_path, digests_dir):
    """A build cut short after consolidating, then its new digest removed: its candidates never publish."""
    (digests_dir / "first.txt").write_text(render("Mar 11", [("A first paper", abstract("first"))]))
    settings, _ = _build(tmp_path, digests_dir)
    (digests_dir / "later.txt").write_text(render("Mar 20", [("A later paper", abstract("later"))]))
    stage(settings)
    assert consolidate_tables(settings) is not None
    manifest = settings.layout.root / "staging" / "candidates" / "manifest.json"
    assert manifest.is_file()
    (digests_dir / "later.txt").unlink()
    again = build_warehouse(settings)
    assert again.published is False
    assert not manifest.exists()
    assert [row["source_name"] for row in rows(settings.layout, "digests")] == ["first.txt"]

