"""Which digests need a parse, parsing many of them in parallel, and the staging index.

The staging index (warehouse/staging/index.parquet) names, per staged digest, the
batch holding its current parse (pipeline.staging), the signature its file had when
it was read (size, mtime, ctime, inode, link or not: staging.file_signature), its raw
sha256 and the parser settings. A file whose signature is unchanged is not read
again; any other file, and any file that could not be read last time, is hashed and
compared. Without a usable index, every batch's digest rows are read instead:
slower, same answer.

A batch no digest refers to any more is deleted once the index stops naming it;
small batches (one per incremental run) and batches mostly replaced by newer parses
are merged into one when there are enough of them (compact_staging).
"""

import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import PARSER_VERSION
from pipeline.atomic import write_parquet
from pipeline.config import Layout, Settings
from pipeline.read.decoding import sha256_hex
from pipeline.staging import (
    STAGED_KINDS,
    StagedDigest,
    batch_file,
    digest_file_sha256,
    file_signature,
    new_batch_id,
    read_batch_rows,
    stage_batch,
    staged_digest_rows,
)

INDEX_SCHEMA = pa.schema(
    [
        ("source_name", pa.string()),
        ("batch", pa.string()),
        ("raw_sha256", pa.string()),
        ("parser_version", pa.string()),
        ("config_year", pa.int32()),
        ("file_signature", pa.list_(pa.int64())),
    ]
)
_NOTHING_READ = sha256_hex(b"")
# Below this many digests a pool of processes costs more than it saves.
PARALLEL_MIN_DIGESTS = 16
# Digests per batch, at most: about 30 MB of digests, small enough for a worker's memory.
BATCH_MAX_DIGESTS = 256
# A batch with fewer live digests than this, or with more dead rows than live ones,
# is merged with the others like it once there are COMPACT_AT of them.
SMALL_BATCH_DIGESTS = 64
COMPACT_AT = 16


def index_path(layout: Layout) -> Path:
    return layout.staging_dir / "index.parquet"


def read_index_unchecked(layout: Layout) -> dict[str, dict] | None:
    try:
        # ParquetFile, not read_table: read_table imports pyarrow.dataset, and with it pandas (0.15 s).
        table = pq.ParquetFile(index_path(layout)).read()
        # An index of another layout (an older papertrends) is no index: the slow path answers.
        rows = table.select(INDEX_SCHEMA.names).cast(INDEX_SCHEMA).to_pylist()
    except (OSError, KeyError, ValueError, pa.ArrowException):
        return None
    return {row["source_name"]: row for row in rows}


def _complete(layout: Layout, index: dict[str, dict]) -> bool:
    """Every batch the index names is on disk, whole."""
    referenced = {row["batch"] for row in index.values()}
    return all(batch_file(layout, kind, batch).exists() for batch in referenced for kind in STAGED_KINDS)


def read_index(layout: Layout) -> dict[str, dict] | None:
    """The staging index by source name; None when it is missing, unreadable or names missing batches."""
    index = read_index_unchecked(layout)
    return index if index is not None and _complete(layout, index) else None


def write_index(layout: Layout, index: dict[str, dict]) -> None:
    rows = [index[name] for name in sorted(index)]
    try:
        table = pa.Table.from_pylist(rows, schema=INDEX_SCHEMA)
    except (pa.ArrowException, UnicodeError):
        # A name Arrow cannot store (undecodable bytes): no index, the slow path answers.
        index_path(layout).unlink(missing_ok=True)
        return
    write_parquet(table, index_path(layout))


def staged_state(layout: Layout) -> dict[str, dict]:
    """What is staged, by source name: the index, or else every batch's digest rows."""
    index = read_index(layout)
    if index is not None:
        return index
    return {name: {**row, "file_signature": None} for name, row in staged_digest_rows(layout).items()}


def current_batches(state: dict[str, dict], names: Sequence[str]) -> dict[str, str]:
    """Source name -> the batch holding its current parse, for the names given."""
    missing = [name for name in names if name not in state]
    if missing:
        raise FileNotFoundError(f"no staged parse for {len(missing)} digest(s), e.g. {missing[0]!r}")
    return {name: state[name]["batch"] for name in names}


def _unchanged_settings(row: dict, config_year: int | None) -> bool:
    return row["parser_version"] == PARSER_VERSION and row["config_year"] == config_year


def parsed_under_other_settings(state: dict[str, dict], names: Sequence[str], config_year: int | None) -> list[str]:
    """The staged names whose parse used another parser version or PAPERTRENDS_YEAR."""
    return [name for name in names if name in state and not _unchanged_settings(state[name], config_year)]


def staged_as_they_are(settings: Settings, names: Sequence[str]) -> dict[str, str]:
    """The named digests staged with their current content and settings: name -> raw sha256."""
    state = staged_state(settings.layout)
    staged = [name for name in names if name in state]
    changed = set(changed_digests(settings, staged, state))
    return {name: state[name]["raw_sha256"] for name in staged if name not in changed}


def changed_digests(settings: Settings, names: Sequence[str], state: dict[str, dict] | None = None) -> list[str]:
    """The names whose digest is new or changed since it was staged, in the given order."""
    state = staged_state(settings.layout) if state is None else state
    changed = []
    for name in names:
        row = state.get(name)
        if row is None or not _unchanged_settings(row, settings.year):
            changed.append(name)
            continue
        signature = file_signature(settings.digests_dir / name)
        # A digest that could not be read last time (sha256 of nothing) is always read again.
        if row["raw_sha256"] != _NOTHING_READ and row["file_signature"] is not None:
            if signature is not None and tuple(row["file_signature"]) == signature:
                continue
        raw_sha256 = digest_file_sha256(settings.digests_dir, name)
        if raw_sha256 != row["raw_sha256"]:
            changed.append(name)
        elif signature is not None:
            # Same content, new signature (touched, copied): remember the new one.
            row["file_signature"] = list(signature)
    return changed


def _stage_batch(args: tuple[Layout, Path, list[str], int | None]) -> list[StagedDigest]:
    layout, digests_dir, names, config_year = args
    return stage_batch(layout, digests_dir, names, config_year, durable=False)


def worker_pool(max_workers: int, initializer: Callable[[], None] | None = None) -> ProcessPoolExecutor:
    """A pool of processes forked from a clean single-threaded server (see stage_digests).

    Each worker runs `initializer` (a module-level function) first, and ends once this
    process is gone: forked from the forkserver, a worker is no child of this process,
    and its task queue never closes while it holds the queue's own ends, so a killed
    owner would leave it, and with it the forkserver, waiting for work forever.
    """
    context = get_context("forkserver")
    context.set_forkserver_preload(["pipeline.staging"])
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context, initializer=_start_worker, initargs=(os.getpid(), initializer))


def _start_worker(owner_pid: int, initializer: Callable[[], None] | None) -> None:
    threading.Thread(target=_exit_after, args=(owner_pid,), name="end-with-owner", daemon=True).start()
    if initializer is not None:
        initializer()


def _exit_after(pid: int) -> None:
    while is_running(pid):
        time.sleep(1)
    os._exit(0)


def is_running(pid: int) -> bool:
    """Whether the process exists and has not exited (a zombie has, and may never be reaped)."""
    if not Path("/proc/self/stat").exists():  # no procfs: existence is all there is to know
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _chunks(names: Sequence[str], workers: int) -> list[list[str]]:
    """Batches of names: a few per worker when parallel (for balance), at most BATCH_MAX_DIGESTS each."""
    if not names:
        return []
    per_worker = 4 if workers > 1 else 1
    size = min(BATCH_MAX_DIGESTS, max(1, math.ceil(len(names) / (workers * per_worker))))
    return [list(names[start : start + size]) for start in range(0, len(names), size)]


def stage_digests(
    layout: Layout,
    digests_dir: Path,
    names: Sequence[str],
    config_year: int | None,
    workers: int | None = None,
    index: dict[str, dict] | None = None,
) -> list[StagedDigest]:
    """Parse and stage the named digests in new batches, in parallel processes; update the index.

    Batches are written without an fsync each; one os.sync() makes them durable
    before the index names them. `index` is the state to update (default: the index
    on disk); removals made in it (remove_staged_digests) are written too, and the
    batches no digest needs any more are deleted.
    """
    workers = workers or len(os.sched_getaffinity(0))
    parallel = workers > 1 and len(names) >= PARALLEL_MIN_DIGESTS
    jobs = [(layout, digests_dir, chunk, config_year) for chunk in _chunks(names, workers if parallel else 1)]
    if parallel:
        # forkserver: workers fork from a clean single-threaded server, never from a
        # Dagster process whose threads may hold locks at the moment of a fork.
        with worker_pool(workers) as pool:
            staged = [item for batch in pool.map(_stage_batch, jobs) for item in batch]
    else:
        staged = [item for job in jobs for item in _stage_batch(job)]
    if staged:
        os.sync()
    if index is None:
        index = staged_state(layout)
    for item in staged:
        index[item.source_name] = {
            "source_name": item.source_name,
            "batch": item.batch,
            "raw_sha256": item.raw_sha256,
            "parser_version": PARSER_VERSION,
            "config_year": config_year,
            "file_signature": list(item.file_stat) if item.file_stat else None,
        }
    compact_staging(layout, index)
    write_index(layout, index)
    delete_unreferenced_batches(layout, index)
    return staged


def remove_staged_digests(layout: Layout, names: Sequence[str], index: dict[str, dict]) -> None:
    """Forget the staging of digests whose files are gone (written by the next stage_digests)."""
    for name in names:
        index.pop(name, None)


def delete_unreferenced_batches(layout: Layout, index: dict[str, dict]) -> None:
    """Delete the batches the index does not name: replaced parses, removed files, a killed run's output."""
    # Safe without an index on disk too: the slow path takes each digest's newest
    # batch, which is the one the index names (a merge's batch is newer than its inputs).
    referenced = {row["batch"] for row in index.values()}
    for kind in STAGED_KINDS:
        directory = layout.staging_dir / kind
        if not directory.exists():
            continue
        for name in os.listdir(directory):
            if name.endswith(".parquet") and name[: -len(".parquet")] not in referenced:
                (directory / name).unlink(missing_ok=True)


def _batch_rows(layout: Layout, batch: str) -> int:
    return pq.ParquetFile(batch_file(layout, "digests", batch)).metadata.num_rows


def compact_staging(layout: Layout, index: dict[str, dict]) -> str | None:
    """Merge small and mostly-dead batches into one new batch, once there are COMPACT_AT of them.

    Updates `index` (the caller writes it, then deletes the old batches); returns the
    new batch id, or None when there was nothing to merge.
    """
    live = Counter(row["batch"] for row in index.values())
    merged = sorted(
        batch
        for batch, count in live.items()
        if count < SMALL_BATCH_DIGESTS or _batch_rows(layout, batch) > 2 * count
    )
    if len(merged) < COMPACT_AT:
        return None
    merged_set = set(merged)
    moved = {name: row["batch"] for name, row in index.items() if row["batch"] in merged_set}
    target = new_batch_id()
    # Entries and rejects first, digest rows last, as stage_batch writes them.
    for kind in ("entries", "rejects", "digests"):
        write_parquet(read_batch_rows(layout, kind, moved), batch_file(layout, kind, target), durable=False)
    os.sync()
    for name in moved:
        index[name]["batch"] = target
    return target


__all__ = [
    "changed_digests",
    "compact_staging",
    "current_batches",
    "parsed_under_other_settings",
    "remove_staged_digests",
    "stage_digests",
    "staged_state",
]
