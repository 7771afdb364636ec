"""The staging index and its batches: change detection (size and mtime first, the hash when they
differ), replaced parses, a killed run's batch, and merging small batches."""

import datetime as dt
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import incremental
from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.incremental import index_path, read_index
from pipeline.staging import STAGED_KINDS, read_batch_rows, stage_batch
from tests.helpers import SAMPLES, read_table


def _build(tmp_path):
    digests = tmp_path / "digests"
    if not digests.exists():
        shutil.copytree(SAMPLES, digests)
    return build_warehouse(Settings(tmp_path / "warehouse", digests, None)), digests


def test_only_changed_content_is_parsed_again(tmp_path):
    first, digests = _build(tmp_path)
    names = sorted(path.name for path in digests.iterdir())
    assert first.parsed == names
    index = read_index(Settings(tmp_path / "warehouse", digests, None).layout)
    assert sorted(index) == names

    touched, edited = digests / names[0], digests / names[1]
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000_000))  # same bytes, new mtime
    text = edited.read_bytes()
    # Same size, other content, other mtime: only the hash can tell.
    edited.write_bytes(text.replace(b"Mar ", b"Apr ", 1))
    assert edited.stat().st_size == len(text)
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns + 9_000_000_000))

    second, _ = _build(tmp_path)
    assert second.parsed == [edited.name]
    assert second.row_counts == first.row_counts

    third, _ = _build(tmp_path)
    assert third.parsed == []


def test_without_the_index_the_staged_rows_answer(tmp_path):
    first, digests = _build(tmp_path)
    layout = Settings(tmp_path / "warehouse", digests, None).layout
    index_path(layout).unlink()
    again, _ = _build(tmp_path)
    assert again.parsed == []  # every file hashed and compared with its staged row
    assert again.row_counts == first.row_counts
    assert read_index(layout) is not None  # and the index is back

    (digests / sorted(path.name for path in digests.iterdir())[0]).unlink()
    fewer, _ = _build(tmp_path)
    assert fewer.parsed == [] and fewer.row_counts["digests"] == first.row_counts["digests"] - 1
    assert len(read_index(layout)) == first.row_counts["digests"] - 1


def test_an_index_of_another_layout_is_ignored_not_a_crash(tmp_path):
    """An index written by an older papertrends (other columns) sends the build down the slow path."""
    first, digests = _build(tmp_path)
    layout = Settings(tmp_path / "warehouse", digests, None).layout
    names = sorted(read_index(layout))
    old_layout = pa.table({"source_name": names, "byte_size": [1] * len(names), "mtime_ns": [2] * len(names)})
    pq.write_table(old_layout, index_path(layout))
    assert read_index(layout) is None
    again, _ = _build(tmp_path)
    assert again.parsed == [] and again.row_counts == first.row_counts
    assert sorted(read_index(layout)) == names  # rewritten in the current layout


def _batches_on_disk(layout):
    return {path.stem for path in (layout.staging_dir / "digests").glob("*.parquet")}


def test_a_reparsed_digest_counts_once_from_its_newest_batch(tmp_path):
    first, digests = _build(tmp_path)
    layout = Settings(tmp_path / "warehouse", digests, None).layout
    edited = digests / sorted(path.name for path in digests.iterdir())[0]
    old_batch = read_index(layout)[edited.name]["batch"]
    edited.write_bytes(edited.read_bytes().replace(b"Mar 12", b"Mar 20", 1))

    second, _ = _build(tmp_path)
    new_batch = read_index(layout)[edited.name]["batch"]
    assert second.parsed == [edited.name] and new_batch != old_batch
    # The old batch still holds the other digests, and the edited one's dead rows.
    assert old_batch in _batches_on_disk(layout)
    assert edited.name in read_batch_rows(layout, "digests", {edited.name: old_batch})["source_name"].to_pylist()
    assert second.row_counts == first.row_counts
    dates = {row["source_name"]: row["digest_date"] for row in read_table(layout, "digests").to_pylist()}
    assert dates[edited.name] == dt.date(2026, 3, 20)

    # Without the index, the newest batch of each digest answers: same tables, no parse.
    index_path(layout).unlink()
    third, _ = _build(tmp_path)
    assert third.parsed == [] and third.row_counts == first.row_counts
    assert read_index(layout)[edited.name]["batch"] == new_batch


def test_a_killed_runs_batch_is_deleted_and_never_counted(tmp_path):
    first, digests = _build(tmp_path)
    layout = Settings(tmp_path / "warehouse", digests, None).layout
    # A batch written by a run killed before its index: it names a digest with other rows.
    other = tmp_path / "other"
    other.mkdir()
    name = sorted(path.name for path in digests.iterdir())[0]
    (other / name).write_text("Mar 30\n\nOrphan title\n\nOrphan abstract.")
    [orphan] = stage_batch(layout, other, [name], None)
    assert orphan.batch in _batches_on_disk(layout)

    again, _ = _build(tmp_path)
    assert again.parsed == [] and again.row_counts == first.row_counts
    assert orphan.batch not in _batches_on_disk(layout)
    assert not (layout.staging_dir / "entries" / f"{orphan.batch}.parquet").exists()


def test_small_batches_are_merged_into_one(tmp_path, monkeypatch):
    monkeypatch.setattr(incremental, "COMPACT_AT", 3)
    digests = tmp_path / "digests"
    digests.mkdir()
    layout = Settings(tmp_path / "warehouse", digests, None).layout
    names = sorted(path.name for path in SAMPLES.iterdir())
    batches = []
    for number, name in enumerate(names[:3], start=1):
        shutil.copy(SAMPLES / name, digests / name)
        build_warehouse(Settings(tmp_path / "warehouse", digests, None))
        batches.append(_batches_on_disk(layout))
    # One batch per run until the third small one, when the three merge.
    assert [len(found) for found in batches] == [1, 2, 1]
    [merged] = batches[-1]
    index = read_index(layout)
    assert sorted(index) == names[:3] and {row["batch"] for row in index.values()} == {merged}
    assert read_batch_rows(layout, "digests", {name: merged for name in names[:3]}).num_rows == 3
    for kind in STAGED_KINDS:
        assert sorted(path.stem for path in (layout.staging_dir / kind).glob("*.parquet")) == [merged]

    # Tables after the merge equal a build from scratch.
    for name in names[3:]:
        shutil.copy(SAMPLES / name, digests / name)
    merged_build = build_warehouse(Settings(tmp_path / "warehouse", digests, None))
    fresh = build_warehouse(Settings(tmp_path / "fresh", digests, None))
    assert merged_build.row_counts == fresh.row_counts == {
        "digests": 5, "papers": 298, "appearances": 358, "repo_links": 86, "rejects": 0,
    }
    for table in ("papers", "appearances", "repo_links"):
        assert read_table(layout, table).equals(read_table(Settings(tmp_path / "fresh", digests, None).layout, table))
