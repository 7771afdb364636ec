"""digest_files_sensor: the digests directory, turned into partitions and runs.

Each tick lists PAPERTRENDS_DIGESTS_DIR and compares it with the cursor:
- a new file becomes a dynamic partition; a new or changed file is parsed, in ONE run
  for all of them (a partition range: the parse has a single-run backfill policy),
  which also rebuilds the tables and trends.duckdb;
- a file is only read once it is complete: untouched for SETTLE_SECONDS, or with the
  same size and mtime as on the previous tick; hidden and temporary names never count;
- a removed file's partition is deleted, and a run rebuilds the tables without it;
- a file whose size and mtime did not change is not read again (the cursor keeps its
  sha256), and a file saved again with the same bytes starts no run;
- a partition the cursor does not know (the first tick after `papertrends build`, or a
  lost cursor) whose file the warehouse already staged as it is starts no run either.

The cursor is JSON kept by Dagster with the sensor, so it survives restarts.
"""

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from assets.partitions import DIGEST_PARTITIONS, is_valid_partition_key
from assets.resources import WarehouseResource
from pipeline.incremental import staged_as_they_are
from pipeline.staging import digest_file_sha256, file_signature, list_digest_files

SETTLE_SECONDS = 10
MINIMUM_INTERVAL_SECONDS = 15
_CURSOR_VERSION = 1
PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"


@dataclass
class Cursor:
    # name -> [size, mtime_ns, sha256] of the content last sent to a run
    files: dict[str, list] = field(default_factory=dict)
    # name -> [size, mtime_ns] of a file seen still changing
    pending: dict[str, list] = field(default_factory=dict)
    # names that cannot be partition keys, already reported
    refused: list[str] = field(default_factory=list)
    # run requests made so far: part of each run key, so a later change back to the
    # same bytes runs again while a re-evaluation of the same tick does not
    requests: int = 0

    @classmethod
    def load(cls, text: str | None) -> "Cursor":
        if not text:
            return cls()
        try:
            data = json.loads(text)
            if data.get("version") != _CURSOR_VERSION:
                return cls()
            return cls(data["files"], data["pending"], data["refused"], data["requests"])
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def dump(self) -> str:
        return json.dumps(
            {
                "version": _CURSOR_VERSION,
                "files": self.files,
                "pending": self.pending,
                "refused": self.refused,
                "requests": self.requests,
            },
            sort_keys=True,
        )


@dataclass
class TickPlan:
    cursor: Cursor
    to_parse: list[str]  # new or changed files
    to_add: list[str]  # partitions to create
    to_delete: list[str]  # partitions whose file is gone
    rebuild: bool  # the tables must be rebuilt (something was parsed or removed)
    newly_refused: list[str]


def _signature(path: Path) -> list[int] | None:
    """Size, mtime, ctime, inode and link flag (pipeline.staging.file_signature): index 1 is the mtime."""
    signature = file_signature(path)
    return list(signature) if signature is not None else None


def plan_tick(
    digests_dir: Path,
    previous: Cursor,
    registered: list[str],
    now: float,
    staged: Callable[[list[str]], dict[str, str]] | None = None,
) -> TickPlan:
    """Compare the directory with the cursor and the registered partitions.

    `staged` (names -> {name: raw sha256}) says which files the warehouse already holds
    as they are: a partition the cursor does not know yet (the first tick after
    `papertrends build`, or a lost cursor) starts no run for those.
    """
    listed = list_digest_files(digests_dir)
    names = [name for name in listed if is_valid_partition_key(name)]
    refused = sorted(set(listed) - set(names))
    cursor = Cursor(refused=refused, requests=previous.requests)
    known = set(registered)
    unknown_to_cursor = [name for name in names if name not in previous.files and name in known]
    in_warehouse = staged(unknown_to_cursor) if staged and unknown_to_cursor else {}
    to_parse = []
    for name in names:
        signature = _signature(digests_dir / name)
        if signature is None:
            continue
        last = previous.files.get(name)
        if last is None and name in in_warehouse:
            cursor.files[name] = [*signature, in_warehouse[name]]
            continue
        if last is not None and last[:-1] == signature:
            cursor.files[name] = last
            continue
        settled = previous.pending.get(name) == signature or now - signature[1] / 1e9 >= SETTLE_SECONDS
        if not settled:
            cursor.pending[name] = signature
            if last is not None:
                cursor.files[name] = last  # still the content in the warehouse
            continue
        sha256 = digest_file_sha256(digests_dir, name)
        cursor.files[name] = [*signature, sha256]
        if last is None or last[-1] != sha256:
            to_parse.append(name)
    present = set(cursor.files)
    # A settled file without a partition (new, or its partition deleted by hand) is parsed.
    to_add = [name for name in names if name in present and name not in known and name not in cursor.pending]
    to_parse += [name for name in to_add if name not in to_parse]
    to_delete = [name for name in registered if name not in set(names)]
    gone = set(previous.files) - set(names)
    return TickPlan(
        cursor=cursor,
        to_parse=to_parse,
        to_add=to_add,
        to_delete=to_delete,
        rebuild=bool(to_parse or to_delete or gone),
        newly_refused=sorted(set(refused) - set(previous.refused)),
    )


def run_key(plan: TickPlan) -> str:
    """The same change set, evaluated again after a lost cursor update, gets the same key."""
    content = {
        "request": plan.cursor.requests,
        "parse": sorted((name, plan.cursor.files[name][2]) for name in plan.to_parse),
        "delete": sorted(plan.to_delete),
    }
    return "digests-" + hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:24]


def _describe(plan: TickPlan) -> str:
    parts = []
    if plan.to_parse:
        parts.append(f"parse {len(plan.to_parse)} digest file(s)")
    if plan.to_delete:
        parts.append(f"remove {len(plan.to_delete)}")
    return ", ".join(parts) or "rebuild the tables"


@dg.sensor(
    name="digest_files_sensor",
    target=dg.AssetSelection.all(),
    minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Watches the digests directory (PAPERTRENDS_DIGESTS_DIR): new files become partitions of "
        "parsed_digest, new and changed files are parsed in one run with the tables and trends.duckdb "
        f"rebuilt after; removed files' partitions are deleted. A file is read once unchanged for "
        f"{SETTLE_SECONDS} s or over two ticks."
    ),
)
def digest_files_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource) -> dg.SensorResult:
    digests_dir = warehouse.settings.digests_dir
    if not digests_dir.is_dir():
        return dg.SensorResult(skip_reason=f"digests directory not found: {digests_dir}", cursor=context.cursor)
    registered = list(context.instance.get_dynamic_partitions(DIGEST_PARTITIONS.name))
    settings = warehouse.settings
    plan = plan_tick(
        digests_dir, Cursor.load(context.cursor), registered, time.time(), lambda names: staged_as_they_are(settings, names)
    )
    for name in plan.newly_refused:
        context.log.warning(f"{name!r} cannot be a Dagster partition key; it is not ingested (rename it)")
    if plan.cursor.pending:
        context.log.info(f"waiting for {len(plan.cursor.pending)} file(s) to stop changing: {sorted(plan.cursor.pending)}")

    partition_requests = []
    if plan.to_add:
        partition_requests.append(DIGEST_PARTITIONS.build_add_request(plan.to_add))
    if plan.to_delete:
        partition_requests.append(DIGEST_PARTITIONS.build_delete_request(plan.to_delete))
    if not plan.rebuild:
        return dg.SensorResult(skip_reason="no digest file added, changed or removed", cursor=plan.cursor.dump())

    if plan.to_parse:
        # Partition order after this tick's requests: Dagster appends new keys.
        order = [name for name in registered if name not in plan.to_delete] + plan.to_add
        positions = sorted(order.index(name) for name in plan.to_parse)
        tags = {PARTITION_RANGE_START: order[positions[0]], PARTITION_RANGE_END: order[positions[-1]]}
        selection = None  # every asset: the parse of the range, then the tables and trends.duckdb
    else:
        tags = {}
        selection = [key for key in _all_asset_keys() if key != dg.AssetKey("parsed_digest")]
    run = dg.RunRequest(run_key=run_key(plan), tags={**tags, "papertrends/reason": _describe(plan)}, asset_selection=selection)
    plan.cursor.requests += 1
    context.log.info(f"requesting a run to {_describe(plan)}: {plan.to_parse or plan.to_delete}")
    return dg.SensorResult(run_requests=[run], dynamic_partitions_requests=partition_requests, cursor=plan.cursor.dump())


def _all_asset_keys() -> list[dg.AssetKey]:
    from assets.definitions import ALL_ASSETS  # imported late: definitions imports this module

    return [key for asset in ALL_ASSETS for key in asset.keys]

