"""Files that readers see whole or not at all: write a temporary name, then rename."""

import contextlib
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Temporary files are hidden and end in this suffix, so no reader's *.parquet or
# *.duckdb pattern ever matches one.
TMP_SUFFIX = ".tmp"
# Row groups of a fixed size: the same rows always give the same bytes.
ROW_GROUP_ROWS = 65_536


def temporary_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def fsync_path(path: Path) -> None:
    """Make a file's data, or a directory's entries, durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `final` in one rename, durably."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(final)
    try:
        yield tmp
        fsync_path(tmp)
        os.replace(tmp, final)
        fsync_path(final.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_parquet(table: pa.Table, final: Path) -> None:
    """One Parquet file, atomically, in the table's own schema (no rows: no row group)."""
    with atomic_path(final) as tmp, pq.ParquetWriter(tmp, table.schema, compression="zstd") as writer:
        if table.num_rows:
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)


def remove_stale_temporaries(directories: list[Path], beside: Sequence[Path] = ()) -> list[Path]:
    """Delete the temporary files a killed run left in the build's own directories.

    Never the digests directory, where a capture tool may be writing `.<name>.tmp`
    right now; `beside`: files whose temporaries sit next to them (trends.duckdb).
    """
    removed = []
    for directory in directories:
        if directory.is_dir():
            # rglob interprets only the pattern, never the directory's own name.
            removed += [path for path in directory.rglob(f".*{TMP_SUFFIX}") if path.is_file()]
    for final in beside:
        if final.parent.is_dir():
            prefix = f".{final.name}."
            removed += [path for path in final.parent.iterdir() if path.name.startswith(prefix) and TMP_SUFFIX in path.name]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
