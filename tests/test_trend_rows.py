"""recurrence_by_day's monthly parts: reused before the first changed month, recomputed after.

Every rebuild is checked twice: the trend views against the plain-Python reference
(from the published tables), and which parts were reused (the same file as in the
previous snapshot) or computed.
"""

import json
import os

import pytest

from pipeline import trend_rows
from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.table_parts import file_signature
from pipeline.trends_sql import TREND_VIEWS
from pipeline.warehouse_db import TRENDS_DIR, connect_readonly
from tests.helpers import abstract, render
from tests.trend_corpus import PAPERS, YEAR, write_corpus
from tests.trend_reference import EXPECTED_VIEWS, Tables

NEW_PAPER = ("A Paper First Seen in the New Digest", abstract("new paper"))


@pytest.fixture
def settings(tmp_path) -> Settings:
    """The small trend corpus (Feb 27 to Mar 5, 2026), built once."""
    settings = Settings(tmp_path / "warehouse", tmp_path / "raw", YEAR)
    write_corpus(settings.digests_dir)
    build_warehouse(settings)
    return settings


def _parts_dir(settings: Settings):
    snapshot = max(settings.layout.snapshots_dir.iterdir())
    return snapshot / TRENDS_DIR / trend_rows.VIEW


def _manifest(settings: Settings) -> dict:
    return json.loads((_parts_dir(settings) / trend_rows.MANIFEST_NAME).read_text())


def _rebuild(settings: Settings) -> dict:
    """Rebuild; returns the parts' inodes before it, by month."""
    before = {path.stem: path.stat().st_ino for path in _parts_dir(settings).glob("*.parquet")}
    build_warehouse(settings)
    return before


def assert_views_match_reference(settings: Settings) -> None:
    tables = Tables.load(settings)
    with connect_readonly(settings.layout.duckdb_path) as con:
        for view in TREND_VIEWS:
            cursor = con.execute(f"SELECT * FROM {view}")
            names = [column[0] for column in cursor.description]
            assert [dict(zip(names, row)) for row in cursor.fetchall()] == EXPECTED_VIEWS[view](tables), view


def _days(settings: Settings) -> list:
    with connect_readonly(settings.layout.duckdb_path) as con:
        return [day for (day,) in con.execute("SELECT DISTINCT day FROM recurrence_by_day").fetchall()]


def assert_reused(settings: Settings, before: dict, reused: list[str], computed: list[str]) -> None:
    manifest = _manifest(settings)
    assert manifest["reused"] == reused
    assert sorted(manifest["parts"]) == sorted(reused + computed)
    inodes = {path.stem: path.stat().st_ino for path in _parts_dir(settings).glob("*.parquet")}
    assert sorted(inodes) == sorted(reused + computed)
    assert [part for part in inodes if inodes[part] == before.get(part)] == reused


def test_a_full_build_computes_every_month(settings):
    manifest = _manifest(settings)
    assert (sorted(manifest["parts"]), manifest["reused"]) == (["2026-02", "2026-03"], [])
    assert_views_match_reference(settings)


def test_nothing_changed_reuses_every_part(settings):
    before = _rebuild(settings)
    assert_reused(settings, before, reused=["2026-02", "2026-03"], computed=[])
    assert_views_match_reference(settings)


def test_a_new_day_recomputes_its_month_only(settings):
    # A returns (seen in February too: its running totals start from them), plus a new paper.
    (settings.digests_dir / "11_mar06.txt").write_text(render("Mar 6", [PAPERS["A"], PAPERS["C"], NEW_PAPER]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=["2026-02"], computed=["2026-03"])
    assert_views_match_reference(settings)


def test_a_new_month_keeps_every_earlier_part(settings):
    (settings.digests_dir / "12_apr02.txt").write_text(render("Apr 2", [PAPERS["C"], NEW_PAPER]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=["2026-02", "2026-03"], computed=["2026-04"])
    assert_views_match_reference(settings)


def test_an_earlier_day_recomputes_from_its_month(settings):
    # C was first seen Feb 27: on Feb 26 it is first seen earlier, and every later row changes.
    (settings.digests_dir / "00_feb26.txt").write_text(render("Feb 26", [PAPERS["C"]]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)


def test_a_removed_digest_recomputes_from_its_month(settings):
    (settings.digests_dir / "09_mar05.txt").unlink()
    before = _rebuild(settings)
    assert_reused(settings, before, reused=["2026-02"], computed=["2026-03"])
    assert_views_match_reference(settings)


def test_removing_a_whole_month_drops_its_part(settings):
    for name in ("01_feb27.txt", "02_feb28.txt"):
        (settings.digests_dir / name).unlink()
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-03"])
    assert_views_match_reference(settings)


def test_a_changed_title_in_a_kept_month_recomputes_from_its_first_month(settings):
    """Same paper id, another spelling: only papers' part changes, not appearances'."""
    title, text = PAPERS["C"]
    (settings.digests_dir / "01_feb27.txt").write_text(render("Feb 27", [(title.upper(), text)]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)
    with connect_readonly(settings.layout.duckdb_path) as con:
        assert {title for (title,) in con.execute("SELECT DISTINCT title FROM recurrence_by_day WHERE title ILIKE 'crossing%'").fetchall()} == {title.upper()}


def test_parts_of_another_version_are_not_reused(settings, monkeypatch):
    monkeypatch.setattr(trend_rows, "ROWS_VERSION", trend_rows.ROWS_VERSION + 1)
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)


def test_a_snapshot_without_its_manifest_is_not_reused(settings):
    """A build that stopped before the manifest: its parts may be incomplete."""
    (_parts_dir(settings) / trend_rows.MANIFEST_NAME).unlink()
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])


def test_a_part_gone_from_the_previous_snapshot_is_computed_again(settings):
    (_parts_dir(settings) / "2026-02.parquet").unlink()
    (settings.digests_dir / "11_mar06.txt").write_text(render("Mar 6", [PAPERS["A"]]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)


@pytest.mark.parametrize("parts", [[1], ["2026-02"], {"2026-13": [0, 0, 0]}, {"0000-01": [0, 0, 0]}, {"2026-02": "x"}])
def test_a_manifest_changed_by_hand_is_not_reused(settings, parts):
    path = _parts_dir(settings) / trend_rows.MANIFEST_NAME
    path.write_text(json.dumps({**json.loads(path.read_text()), "parts": parts}))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)


def _other_rows_part(settings: Settings, tmp_path):
    """A valid recurrence_by_day part holding other rows: March's, from another warehouse."""
    other = Settings(tmp_path / "other", tmp_path / "other-raw", YEAR)
    other.digests_dir.mkdir()
    (other.digests_dir / "a.txt").write_text(render("Feb 3", [PAPERS["S"], NEW_PAPER]))
    build_warehouse(other)
    return (_parts_dir(other) / "2026-02.parquet").read_bytes()


@pytest.mark.parametrize("damage", ["garbage", "empty", "other rows"])
def test_a_part_changed_by_hand_is_computed_again(settings, tmp_path, damage):
    """The manifest holds each part's size, mtime and inode: a replaced part is not reused."""
    content = {"garbage": b"not parquet", "empty": b"", "other rows": None}[damage]
    if content is None:
        content = _other_rows_part(settings, tmp_path)
    part = _parts_dir(settings) / "2026-02.parquet"
    part.unlink()  # a new file, as an editor or a copy would make
    part.write_bytes(content)
    (settings.digests_dir / "11_mar06.txt").write_text(render("Mar 6", [PAPERS["A"]]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)


def test_a_manifest_of_other_months_is_not_reused(settings):
    """Reused months must be the appearances' months before the cutoff: here January is extra."""
    path = _parts_dir(settings) / trend_rows.MANIFEST_NAME
    manifest = json.loads(path.read_text())
    (_parts_dir(settings) / "2026-01.parquet").write_bytes((_parts_dir(settings) / "2026-02.parquet").read_bytes())
    manifest["parts"]["2026-01"] = file_signature(_parts_dir(settings) / "2026-01.parquet")
    path.write_text(json.dumps(manifest))
    (settings.digests_dir / "11_mar06.txt").write_text(render("Mar 6", [PAPERS["A"]]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)


def test_copied_snapshot_files_are_never_taken_for_unchanged_parts(settings, monkeypatch):
    """Where hard links fail, snapshot files are copies: no part can be shown unchanged."""

    def refuse(source, target):
        raise OSError("links not supported here")

    monkeypatch.setattr(os, "link", refuse)
    (settings.digests_dir / "11_mar06.txt").write_text(render("Mar 6", [PAPERS["A"]]))
    before = _rebuild(settings)
    assert_reused(settings, before, reused=[], computed=["2026-02", "2026-03"])
    assert_views_match_reference(settings)


def test_a_year_before_1000_names_its_month_as_the_tables_do(settings):
    """date.strftime writes the year 226 as "226" on glibc; DuckDB and the parts as "0226"."""
    (settings.digests_dir / "old.txt").write_text(render("Mar 6, 0226", [PAPERS["A"]]))
    build_warehouse(settings)
    assert sorted(_manifest(settings)["parts"]) == ["0226-03", "2026-02", "2026-03"]
    assert "0226-03" in {path.stem for path in settings.layout.table_files("appearances")}
    assert_views_match_reference(settings)


def test_an_empty_warehouse_has_a_part_with_no_rows(tmp_path):
    settings = Settings(tmp_path / "warehouse", tmp_path / "raw", YEAR)
    settings.digests_dir.mkdir(parents=True)
    (settings.digests_dir / "undated.txt").write_text(render(None, [PAPERS["U"]]))
    build_warehouse(settings)
    assert sorted(_manifest(settings)["parts"]) == [trend_rows.NO_ROWS_PART]
    with connect_readonly(settings.layout.duckdb_path) as con:
        assert con.execute("SELECT count(*) FROM recurrence_by_day").fetchone() == (0,)
        assert con.execute("SELECT count(*) FROM daily_summary").fetchone() == (0,)
    # And the next build, with rows, replaces it.
    (settings.digests_dir / "mar01.txt").write_text(render("Mar 1", [PAPERS["A"]]))
    build_warehouse(settings)
    assert sorted(_manifest(settings)["parts"]) == ["2026-03"]
    assert_views_match_reference(settings)


# --- random histories ---------------------------------------------------------------------

MONTHS = {"Jan": 31, "Feb": 28, "Mar": 31, "Apr": 30}


def _random_digest(rng, letters: str) -> str:
    month = rng.choice(list(MONTHS))
    papers = [PAPERS[letter] for letter in rng.sample(letters, rng.randint(1, 4))]
    if rng.random() < 0.3:  # a title spelled otherwise: the same paper id
        title, text = papers[0]
        papers[0] = (title.lower(), text)
    return render(f"{month} {rng.randint(1, MONTHS[month])}", papers)


@pytest.mark.parametrize("seed", range(4))
def test_random_edits_keep_every_view_equal_to_the_reference(settings, seed):
    """Digests added, removed and rewritten in random months, a rebuild after each edit."""
    import random

    rng = random.Random(seed)
    letters = "ABCHPSX"
    for step in range(5):
        names = sorted(path.name for path in settings.digests_dir.iterdir())
        edit = rng.choice(["add", "add", "remove", "rewrite", "copy"])
        if edit == "add" or len(names) < 3:
            (settings.digests_dir / f"r{seed}_{step}.txt").write_text(_random_digest(rng, letters))
        elif edit == "remove":
            (settings.digests_dir / rng.choice(names)).unlink()
        elif edit == "rewrite":
            (settings.digests_dir / rng.choice(names)).write_text(_random_digest(rng, letters))
        else:
            source = settings.digests_dir / rng.choice(names)
            (settings.digests_dir / f"copy{seed}_{step}.txt").write_bytes(source.read_bytes())
        build_warehouse(settings)
        assert_views_match_reference(settings)
        months = sorted({f"{day.year:04d}-{day.month:02d}" for day in _days(settings)})
        assert sorted(_manifest(settings)["parts"]) == (months or [trend_rows.NO_ROWS_PART])
