"""Files that readers see whole or not at all: write a temporary name, then rename."""

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

# Temporary files end in this suffix, so no reader glob (*.parquet, *.duckdb) sees them.
TMP_SUFFIX = ".tmp"


def temporary_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}{TMP_SUFFIX}")


def fsync_path(path: Path) -> None:
    """Make a file's data, or a directory's entries, durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link_or_copy(source: Path, target: Path) -> None:
    """Hard-link `source` as `target`, or copy it (made durable) where links fail.

    A link shares the source's data, durable already; a copy's data is new. The
    caller makes the target's directory entry durable.
    """
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
        fsync_path(target)


@contextlib.contextmanager
def atomic_path(final: Path, durable: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces `final` in one rename.

    `durable=False` skips the two fsyncs (about 10 ms each on this kind of disk): for
    many small files whose writer makes them durable at once afterwards (os.sync).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(final)
    try:
        yield tmp
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.replace(tmp, final)
        if durable:
            fsync_path(final.parent)
    finally:
        tmp.unlink(missing_ok=True)


def write_parquet(table: pa.Table, final: Path, durable: bool = True) -> None:
    with atomic_path(final, durable) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def write_parquet_batches(batches: pa.RecordBatchReader, schema: pa.Schema, final: Path) -> int:
    """Stream record batches into one Parquet file, cast to `schema`; returns the row count."""
    rows = 0
    with atomic_path(final) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in batches:
            table = pa.Table.from_batches([batch]).cast(schema)
            writer.write_table(table)
            rows += table.num_rows
    return rows


def _runs(batch: pa.RecordBatch) -> Iterator[tuple[str, pa.Table]]:
    """Consecutive runs of equal values of the first column: (value, rows without that column)."""
    values = batch.column(0).to_pylist()
    start = 0
    while start < len(values):
        end = start
        while end < len(values) and values[end] == values[start]:
            end += 1
        yield values[start], pa.Table.from_batches([batch.slice(start, end - start)]).drop_columns([batch.schema.names[0]])
        start = end


def write_parquet_parts(batches: pa.RecordBatchReader, schema: pa.Schema, path_of_part) -> list[str]:
    """Stream batches sorted by their first column (the part) into one Parquet file per part.

    Each part's file is renamed into place as soon as the part ends; if anything
    fails, the part being written is left under its temporary name only, which is
    then deleted. Returns the parts written, in order.
    """
    written: list[str] = []
    writer = None
    with contextlib.ExitStack() as open_part:
        for batch in batches:
            for part, rows in _runs(batch):
                if not written or part != written[-1]:
                    open_part.close()  # the previous part is complete: close and rename it
                    tmp = open_part.enter_context(atomic_path(path_of_part(part)))
                    writer = open_part.enter_context(pq.ParquetWriter(tmp, schema, compression="zstd"))
                    written.append(part)
                writer.write_table(rows.cast(schema))
    return written


def remove_stale_temporaries(directories: list[Path], root_names: tuple[str, ...] = ()) -> list[Path]:
    """Delete temporary files a killed run left behind, in the directories the build writes.

    Only the build's own directories are walked (never the digests directory, where a
    capture tool may be writing `.<name>.tmp` at this moment), plus, directly in a
    parent, temporaries of the files named in `root_names`.
    """
    removed = []
    for directory in directories:
        if directory.exists():
            removed += list(directory.rglob(f".*{TMP_SUFFIX}"))
    for final in root_names:
        final_path = Path(final)
        removed += list(final_path.parent.glob(f".{final_path.name}.*{TMP_SUFFIX}"))
    for path in removed:
        path.unlink(missing_ok=True)
    return removed
