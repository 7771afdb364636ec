"""digest_files_sensor: one run whenever the content of the digests directory changes.

Each tick lists PAPERTRENDS_DIGESTS_DIR and compares it with the cursor:
- a file is read only once it is complete: untouched for SETTLE_SECONDS, or with the
  same signature as on the previous tick; hidden and temporary names never count;
- a file whose signature (size, mtime, ctime, inode) is unchanged is not read again,
  unless it could not be read: it is tried on every tick, and counts as changed once read;
  one whose signature changed but whose bytes did not (touched, copied back) starts no run;
- a new, changed or removed file starts one run of every asset; the run parses only
  what changed (pipeline.store.staging), so a tick never parses anything itself;
- every file removed starts no run (it would refuse to empty the tables): the tick says
  so, and keeps its cursor until a file is back.
The cursor is JSON kept by Dagster with the sensor: {name: [signature..., sha256]}.
After a lost cursor (or the first tick), every file looks new: one run finds nothing new
to publish (it runs the warnings again, which rewrites their pages and the report) and
the cursor is current again.

A run request has no run_key: Dagster skips a request whose key an earlier run used, and
the directory can go through the same change twice (a file removed and put back, then
removed again). A tick evaluated twice (its cursor update lost) then requests a second
run, which finds nothing new: a build of unchanged input publishes nothing new.
"""

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from pipeline.read.decoding import sha256_hex
from pipeline.store.digest_files import list_with_signatures, read_digest_bytes

SETTLE_SECONDS = 10
MINIMUM_INTERVAL_SECONDS = 15
_CURSOR_VERSION = 2


@dataclass
class Cursor:
    files: dict[str, list] = field(default_factory=dict)  # name -> [*signature, sha256] of the content sent to a run
    pending: dict[str, list] = field(default_factory=dict)  # name -> signature of a file seen still changing

    @classmethod
    def load(cls, text: str | None) -> "Cursor":
        try:
            data = json.loads(text or "")
            if data.get("version") != _CURSOR_VERSION:
                return cls()
            return cls(dict(data["files"]), dict(data["pending"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()

    def dump(self) -> str:
        return json.dumps({"version": _CURSOR_VERSION, "files": self.files, "pending": self.pending}, sort_keys=True)


@dataclass
class TickPlan:
    previous: Cursor
    cursor: Cursor
    changed: list[str]  # new or changed files, settled
    removed: list[str]

    @property
    def run_needed(self) -> bool:
        return bool(self.changed or self.removed)


def _sha256(digests_dir: Path, name: str) -> str:
    try:
        return sha256_hex(read_digest_bytes(digests_dir, name))
    except OSError:
        return ""  # unreadable: the run records why


def plan_tick(digests_dir: Path, previous: Cursor, now: float) -> TickPlan:
    cursor = Cursor()
    changed = []
    for listed in list_with_signatures(digests_dir):
        name, signature = listed.source_name, list(listed.signature)
        last = previous.files.get(name)
        # The same signature: the same file, unless it could not be read last time (a read
        # error can pass while the signature stays); such a file is tried on every tick.
        if last is not None and last[:-1] == signature and (last[-1] or not _sha256(digests_dir, name)):
            cursor.files[name] = last
            continue
        settled = previous.pending.get(name) == signature or now - signature[1] / 1e9 >= SETTLE_SECONDS
        if not settled:
            cursor.pending[name] = signature
            if last is not None:
                cursor.files[name] = last  # still the content the warehouse has
            continue
        sha256 = _sha256(digests_dir, name)
        cursor.files[name] = [*signature, sha256]
        if last is None or last[-1] != sha256 or not sha256:
            changed.append(name)
    removed = sorted(set(previous.files) - set(cursor.files) - set(cursor.pending))
    return TickPlan(previous, cursor, changed, removed)


def digest_files_sensor(digests_dir: Path) -> dg.SensorDefinition:
    """The sensor watching `digests_dir`. It takes no resource: the warehouse resource holds
    the write lock while it lives, and a tick must not wait for a build to end."""

    @dg.sensor(
        name="digest_files_sensor",
        target=dg.AssetSelection.all(),
        minimum_interval_seconds=MINIMUM_INTERVAL_SECONDS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Watches the digests directory (PAPERTRENDS_DIGESTS_DIR): when a file is added, changed or removed, "
            "requests one run of every asset, which parses only what changed. A file is read once unchanged for "
            f"{SETTLE_SECONDS} s or over two ticks."
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        return _tick(context, digests_dir)

    return _sensor


def _tick(context: dg.SensorEvaluationContext, digests_dir: Path) -> dg.SensorResult:
    if not digests_dir.is_dir():
        return dg.SensorResult(skip_reason=f"digests directory not found: {digests_dir}", cursor=context.cursor)
    plan = plan_tick(digests_dir, Cursor.load(context.cursor), time.time())
    if plan.cursor.pending:
        context.log.info(f"waiting for {len(plan.cursor.pending)} file(s) to stop changing: {sorted(plan.cursor.pending)}")
    if not plan.run_needed:
        return dg.SensorResult(skip_reason="no digest file added, changed or removed", cursor=plan.cursor.dump())
    if not plan.cursor.files and not plan.cursor.pending:
        # Every file removed: a run would refuse to empty the tables (as `papertrends build`
        # does without --allow-empty). The cursor stays, so each tick says so until the files
        # come back (the same ones start no run) or a person empties the tables.
        return dg.SensorResult(
            skip_reason=(
                f"every digest file was removed from {digests_dir}; the tables keep them. To empty the tables, "
                "launch every asset with staged_digests config {allow_empty: true}"
            ),
            cursor=context.cursor,
        )
    reason = f"{len(plan.changed)} file(s) new or changed, {len(plan.removed)} removed"
    context.log.info(f"requesting a run: {reason}: {(plan.changed + plan.removed)[:20]}")
    run = dg.RunRequest(tags={"papertrends/reason": reason})
    return dg.SensorResult(run_requests=[run], cursor=plan.cursor.dump())
