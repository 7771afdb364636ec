"""Published tables in monthly parts: a build rewrites only the parts that changed.

Every scenario ends with the tables of a build from scratch on the same digests, so
an incremental build can never drift from a full one.
"""

import json
import os
import shutil

import pytest

import pipeline.consolidate
import pipeline.publish
from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.consolidate import consolidate
from pipeline.publish import UnfinishedPublish, publish_candidates
from pipeline.schemas import TABLES
from pipeline.table_parts import SPLIT_TABLES, read_manifest, read_published
from tests.helpers import SAMPLES, abstract, render

SAMPLE_NAMES = sorted(path.name for path in SAMPLES.iterdir() if path.suffix == ".txt")


def _copy_dated(digests, sample, name, old_line, new_line):
    """A sample digest under another date line: other content, the same papers."""
    text = (SAMPLES / sample).read_text(encoding="utf-8")
    assert old_line in text
    (digests / name).write_text(text.replace(old_line, new_line, 1), encoding="utf-8")


def _part_states(layout):
    """table -> part -> (inode, mtime) of each published file."""
    return {
        table: {path.stem: (path.stat().st_ino, path.stat().st_mtime_ns) for path in layout.table_files(table)}
        for table in TABLES
    }


def _assert_same_as_fresh(tmp_path, settings):
    fresh = Settings(tmp_path / "fresh", settings.digests_dir, None)
    build_warehouse(fresh)
    for table in TABLES:
        ours, theirs = read_published(settings.layout, table), read_published(fresh.layout, table)
        if table == "digests":  # when a warehouse first saw a digest differs between warehouses
            ours, theirs = ours.drop_columns(["ingested_at"]), theirs.drop_columns(["ingested_at"])
        assert ours.equals(theirs), table
        assert [path.name for path in settings.layout.table_files(table)] == [
            path.name for path in fresh.layout.table_files(table)
        ], table


@pytest.fixture
def digests(tmp_path):
    directory = tmp_path / "digests"
    shutil.copytree(SAMPLES, directory)
    return directory


def test_one_part_per_month_and_part_0_for_whole_tables(tmp_path, digests):
    _copy_dated(digests, SAMPLE_NAMES[0], "100_april.txt", "Mar 12", "Apr 2")
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    names = {table: [path.name for path in settings.layout.table_files(table)] for table in TABLES}
    assert names == {
        "digests": ["part-0.parquet"],
        "rejects": ["part-0.parquet"],
        "appearances": ["2026-03.parquet", "2026-04.parquet"],
        # The April copy repeats March papers: every paper is first seen in March.
        "papers": ["2026-03.parquet"],
        "repo_links": ["2026-03.parquet"],
    }
    appearances = read_published(settings.layout, "appearances").to_pylist()
    assert {row["digest_date"].month for row in appearances} == {3, 4}
    assert len(appearances) == 358 + 81  # the copy of the Mar 12 digest (81 entries)


def test_a_digest_of_a_new_month_writes_its_parts_and_the_changed_ones_only(tmp_path, digests):
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    before = _part_states(settings.layout)

    _copy_dated(digests, SAMPLE_NAMES[0], "100_april.txt", "Mar 12", "Apr 2")
    build_warehouse(settings)
    after = _part_states(settings.layout)
    # March appearances are untouched; April's are new. The returning papers' last_seen
    # moved, so the March papers part is rewritten; their links did not change.
    assert after["appearances"]["2026-03"] == before["appearances"]["2026-03"]
    assert set(after["appearances"]) == {"2026-03", "2026-04"}
    assert after["papers"]["2026-03"] != before["papers"]["2026-03"]
    assert after["repo_links"] == before["repo_links"]
    last_seen = {row["last_seen_date"].isoformat() for row in read_published(settings.layout, "papers").to_pylist()}
    assert "2026-04-02" in last_seen
    _assert_same_as_fresh(tmp_path, settings)

    # Nothing changed: no part is written again.
    build_warehouse(settings)
    unchanged = _part_states(settings.layout)
    for table in ("papers", "appearances", "repo_links"):
        assert unchanged[table] == after[table], table


def test_papers_of_one_month_that_return_together_rewrite_their_part(tmp_path):
    """Two papers first seen in February, last seen the same day, seen again in March.

    Their last_seen_date moves the same way: the February part must be rewritten (the
    fingerprint once let the two changes cancel out, keeping the stale rows).
    """
    digests = tmp_path / "digests"
    digests.mkdir()
    pair = [("Paired Paper One", abstract("one")), ("Paired Paper Two", abstract("two"))]
    (digests / "a.txt").write_text(render("Feb 2", pair))
    (digests / "b.txt").write_text(render("Feb 10", pair))
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    (digests / "c.txt").write_text(render("Mar 3", pair))
    build_warehouse(settings)
    last_seen = [row["last_seen_date"] for row in read_published(settings.layout, "papers").to_pylist()]
    assert [(day.month, day.day) for day in last_seen] == [(3, 3), (3, 3)]
    _assert_same_as_fresh(tmp_path, settings)


def test_a_copy_added_later_adds_no_rejects(tmp_path):
    """A byte copy adds no rejects, whether it was staged in its original's batch or not."""
    digests = tmp_path / "digests"
    digests.mkdir()
    text = render("Mar 2", [("Good Paper", abstract("good")), ("Cut Off Title", "Short block")])
    (digests / "a.txt").write_text(text)
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    (digests / "b.txt").write_text(text)  # a later build stages it in a batch of its own
    build_warehouse(settings)
    assert {row["source_name"] for row in read_published(settings.layout, "rejects").to_pylist()} == {"a.txt"}
    _assert_same_as_fresh(tmp_path, settings)  # the fresh build stages both in one batch


def test_an_earlier_digest_moves_papers_to_an_earlier_month(tmp_path, digests):
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    _copy_dated(digests, SAMPLE_NAMES[2], "090_february.txt", "Mar 11", "Feb 20")
    build_warehouse(settings)
    papers = read_published(settings.layout, "papers").to_pylist()
    assert len(papers) == 298 and len({row["paper_id"] for row in papers}) == 298  # moved, never doubled
    february = {row["paper_id"] for row in papers if row["first_seen_date"].month == 2}
    in_the_copy = {
        row["paper_id"] for row in read_published(settings.layout, "appearances").to_pylist() if row["digest_date"].month == 2
    }
    assert february == in_the_copy and len(february) > 40
    assert [path.stem for path in settings.layout.table_files("papers")] == ["2026-02", "2026-03"]
    _assert_same_as_fresh(tmp_path, settings)


def test_a_removed_month_removes_its_parts(tmp_path, digests):
    _copy_dated(digests, SAMPLE_NAMES[0], "100_april.txt", "Mar 12", "Apr 2")
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    (digests / "100_april.txt").unlink()
    build_warehouse(settings)
    assert [path.stem for path in settings.layout.table_files("appearances")] == ["2026-03"]
    assert set(read_manifest(settings.layout)["appearances"]) == {"2026-03"}
    _assert_same_as_fresh(tmp_path, settings)


def test_a_published_part_changed_by_hand_is_written_again(tmp_path, digests):
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    part = settings.layout.table_file("papers", "2026-03")
    shutil.copyfile(settings.layout.table_file("appearances", "2026-03"), part)  # another table's rows
    build_warehouse(settings)
    assert read_published(settings.layout, "papers").num_rows == 298
    _assert_same_as_fresh(tmp_path, settings)


def test_without_the_manifest_every_part_is_written_and_tables_are_the_same(tmp_path, digests):
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    before = {table: read_published(settings.layout, table) for table in TABLES}
    states = _part_states(settings.layout)
    settings.layout.published_manifest_path.unlink()
    build_warehouse(settings)
    assert all(_part_states(settings.layout)[table] != states[table] for table in TABLES)
    assert all(read_published(settings.layout, table).equals(before[table]) for table in TABLES)


def test_no_entries_at_all_is_one_empty_part_per_table(tmp_path):
    digests = tmp_path / "digests"
    digests.mkdir()
    (digests / "empty.txt").write_bytes(b"")
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    for table in ("papers", "appearances", "repo_links"):
        assert [path.name for path in settings.layout.table_files(table)] == ["part-0.parquet"]
        assert read_published(settings.layout, table).num_rows == 0
    # Once there are entries, the empty part goes.
    shutil.copy(SAMPLES / SAMPLE_NAMES[0], digests / SAMPLE_NAMES[0])
    build_warehouse(settings)
    assert [path.name for path in settings.layout.table_files("papers")] == ["2026-03.parquet"]
    _assert_same_as_fresh(tmp_path, settings)


def test_a_publish_cut_off_between_renames_is_refused_until_the_tables_are_rebuilt(tmp_path, digests, monkeypatch):
    _copy_dated(digests, SAMPLE_NAMES[0], "100_april.txt", "Mar 12", "Apr 2")
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    layout = settings.layout
    (digests / "100_april.txt").unlink()  # April's parts go, March's change
    consolidate(layout, SAMPLE_NAMES)
    renames = []

    def rename_once(source, target):
        if renames:
            raise OSError("killed between two renames")
        renames.append(target)
        os.rename(source, target)

    monkeypatch.setattr(pipeline.publish.os, "replace", rename_once)
    with pytest.raises(OSError, match="between two renames"):
        publish_candidates(layout)
    monkeypatch.undo()
    # Published parts now mix two builds. Publishing the same plan again finds a moved candidate gone;
    # without a plan (a consolidation that started over and stopped), the missing manifest says why.
    with pytest.raises(FileNotFoundError, match="candidate part missing"):
        publish_candidates(layout)
    layout.plan_path.unlink()
    with pytest.raises(UnfinishedPublish, match="published.json is missing"):
        publish_candidates(layout)
    build_warehouse(settings)
    assert [path.stem for path in layout.table_files("appearances")] == ["2026-03"]
    _assert_same_as_fresh(tmp_path, settings)


def test_a_part_gone_from_disk_is_written_again_even_when_the_manifest_has_no_signature(tmp_path, digests):
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    layout = settings.layout
    manifest = read_manifest(layout)
    manifest["papers"]["2026-03"]["signature"] = None
    layout.published_manifest_path.write_text(json.dumps(manifest))
    layout.table_file("papers", "2026-03").unlink()
    build_warehouse(settings)
    assert read_published(layout, "papers").num_rows == 298
    _assert_same_as_fresh(tmp_path, settings)


def test_a_new_fingerprint_version_rewrites_every_split_part(tmp_path, digests, monkeypatch):
    settings = Settings(tmp_path / "warehouse", digests, None)
    build_warehouse(settings)
    states = _part_states(settings.layout)
    build_warehouse(settings)
    unchanged = _part_states(settings.layout)
    assert all(unchanged[table] == states[table] for table in SPLIT_TABLES)
    version = pipeline.consolidate.FINGERPRINT_VERSION + 1
    monkeypatch.setattr(pipeline.consolidate, "FINGERPRINT_VERSION", version)
    build_warehouse(settings)
    after = _part_states(settings.layout)
    assert all(after[table][part] != states[table][part] for table in SPLIT_TABLES for part in states[table])
    assert all(fingerprint.startswith(f"v{version}:") for table in SPLIT_TABLES for fingerprint in
               (entry["fingerprint"] for entry in read_manifest(settings.layout)[table].values()))
