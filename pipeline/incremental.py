"""Which digests need a parse, and parsing many of them in parallel.

The staging index (warehouse/staging/index.parquet) keeps, per staged digest, the
signature its file had when it was read (size, mtime, ctime, inode, link or not:
staging.file_signature), next to the raw sha256 and the parser settings. A file
whose signature is unchanged is not read again; any other file, and any file that
could not be read last time, is hashed and compared. Without a usable index, every
staged digest row is read instead: slower, same answer.
"""

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import PARSER_VERSION
from pipeline.atomic import write_parquet
from pipeline.config import Layout, Settings
from pipeline.decoding import sha256_hex
from pipeline.staging import (
    StagedDigest,
    digest_file_sha256,
    file_signature,
    remove_staged,
    stage_digest,
    staged_file,
    staged_source_names,
    staging_key,
)

INDEX_SCHEMA = pa.schema(
    [
        ("source_name", pa.string()),
        ("raw_sha256", pa.string()),
        ("parser_version", pa.string()),
        ("config_year", pa.int32()),
        ("file_signature", pa.list_(pa.int64())),
    ]
)
_NOTHING_READ = sha256_hex(b"")
# Below this many digests a pool of processes costs more than it saves.
PARALLEL_MIN_DIGESTS = 16
_CHUNK = 16


def index_path(layout: Layout) -> Path:
    return layout.staging_dir / "index.parquet"


def _staged_keys(layout: Layout) -> set[str] | None:
    try:
        return {name[: -len(".parquet")] for name in os.listdir(layout.staging_dir / "digests") if name.endswith(".parquet")}
    except OSError:
        return None


def read_index_unchecked(layout: Layout) -> dict[str, dict] | None:
    try:
        rows = pq.read_table(index_path(layout), schema=INDEX_SCHEMA).to_pylist()
    except (OSError, pa.ArrowException):
        return None
    return {row["source_name"]: row for row in rows}


def _complete(layout: Layout, index: dict[str, dict]) -> bool:
    """The index names exactly the staged digests."""
    return _staged_keys(layout) == {staging_key(name) for name in index}


def read_index(layout: Layout) -> dict[str, dict] | None:
    """The staging index by source name; None when it is missing, unreadable or stale."""
    index = read_index_unchecked(layout)
    # Staging written by something that did not update the index: do not trust it.
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
    """What is staged, by source name: the index, or else every staged digest row."""
    index = read_index(layout)
    if index is not None:
        return index
    return {
        name: {**row, "file_signature": None}
        for name, row in staged_source_names(layout).items()
    }


def _unchanged_settings(row: dict, config_year: int | None) -> bool:
    return row["parser_version"] == PARSER_VERSION and row["config_year"] == config_year


def parsed_under_other_settings(state: dict[str, dict], names: Sequence[str], config_year: int | None) -> list[str]:
    """The staged names whose parse used another parser version or PAPERTRENDS_YEAR."""
    return [name for name in names if name in state and not _unchanged_settings(state[name], config_year)]


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


def _stage_one(args: tuple[Layout, Path, str, int | None]) -> StagedDigest:
    layout, digests_dir, name, config_year = args
    return stage_digest(layout, digests_dir, name, config_year, durable=False)[1]


def _worker_context():
    context = get_context("forkserver")
    context.set_forkserver_preload(["pipeline.staging"])
    return context


def stage_digests(
    layout: Layout,
    digests_dir: Path,
    names: Sequence[str],
    config_year: int | None,
    workers: int | None = None,
    index: dict[str, dict] | None = None,
) -> list[StagedDigest]:
    """Parse and stage the named digests, in parallel processes, then update the index.

    Staging files are written without an fsync each (30,000 fsyncs would take minutes);
    one os.sync() makes them durable before the index names them. `index` is the
    state to update (default: the index on disk).
    """
    workers = workers or len(os.sched_getaffinity(0))
    jobs = [(layout, digests_dir, name, config_year) for name in names]
    if workers > 1 and len(jobs) >= PARALLEL_MIN_DIGESTS:
        # forkserver: workers fork from a clean single-threaded server, never from a
        # Dagster process whose threads may hold locks at the moment of a fork.
        with ProcessPoolExecutor(max_workers=workers, mp_context=_worker_context()) as pool:
            staged = list(pool.map(_stage_one, jobs, chunksize=_CHUNK))
    else:
        staged = [_stage_one(job) for job in jobs]
    if staged:
        os.sync()
    if index is None:
        index = read_index_unchecked(layout) or {}
    for item in staged:
        index[item.source_name] = {
            "source_name": item.source_name,
            "raw_sha256": item.raw_sha256,
            "parser_version": PARSER_VERSION,
            "config_year": config_year,
            "file_signature": list(item.file_stat) if item.file_stat else None,
        }
    _write_index_if_complete(layout, index)
    return staged


def _write_index_if_complete(layout: Layout, index: dict[str, dict]) -> None:
    """Write the index only when it names every staged digest; else drop it."""
    if _complete(layout, index):
        write_index(layout, index)
    else:
        index_path(layout).unlink(missing_ok=True)


def remove_staged_digests(layout: Layout, names: Sequence[str], index: dict[str, dict]) -> None:
    """Remove the staging of digests whose files are gone, and their index rows."""
    for name in names:
        remove_staged(layout, name)
        index.pop(name, None)


__all__ = ["changed_digests", "parsed_under_other_settings", "remove_staged_digests", "stage_digests", "staged_file", "staged_state"]
