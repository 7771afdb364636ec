"""Change detection through the staging index: size and mtime first, the hash when they differ."""

import os
import shutil

from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.incremental import index_path, read_index
from tests.helpers import SAMPLES


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
