"""`papertrends build`: bring the warehouse up to date through Dagster, and say what it holds.

With nothing new (no digest added, changed or removed, the same code), the build
stops before importing Dagster: the tables, trends.duckdb and every published file
stay as they are, and the same summary is printed. The report is written again only
when it is missing or older than trends.duckdb.
"""

import contextlib
import shutil
import signal
import socket
import sqlite3
import sys
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assets.cli import fail, interrupts_held, say
from pipeline.build import (
    check_settings,
    is_current,
    plan_stage,
    refuse_digest_request,
    report_path,
    stage,
    write_report_or_warn,
)
from pipeline.config import ConfigError, Layout, Settings
from pipeline.report.text import daily_summary_text, totals
from pipeline.serve.trends_db import built_from
from pipeline.store.atomic import remove_stale_temporaries
from pipeline.store.digest_files import list_digest_files
from pipeline.store.lock import warehouse_lock
from pipeline.store.publish import published_record

# Less free space than this under the warehouse: a failure is reported as a full disk.
_FULL_DISK_BYTES = 1 << 20
# The command prints its own one-line outcome; Dagster's console log (its step failures
# come with stack traces) stays in the run's event log, which `papertrends ui` shows.
_QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


def innermost(error: BaseException) -> str:
    """The root cause of an error, on one line."""
    while True:
        # `raise ... from None` says the context is not the cause: stop there.
        cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__)
        if cause is None:
            break
        error = cause
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def disk_hint(settings: Settings) -> str:
    try:
        free = shutil.disk_usage(settings.warehouse_dir).free
    except OSError:
        return ""
    return f" (the disk holding {settings.warehouse_dir} is full)" if free < _FULL_DISK_BYTES else ""


@dataclass(frozen=True)
class PublishedState:
    """Which build the published tables and trends.duckdb hold: read before and after a run."""

    tables: str | None
    trends_db: str | None
    trends_db_built_at: str

    @classmethod
    def read(cls, layout: Layout) -> "PublishedState":
        record = published_record(layout)
        built = built_from(layout.duckdb_path)
        built_at = built[1].isoformat(timespec="seconds") if built else "none (it is missing)"
        return cls(record.build_key if record else None, built[0] if built else None, built_at)


def damaged_database(home: Path) -> Path | None:
    """The first SQLite file of a Dagster instance that fails SQLite's own check, if any."""
    for path in sorted(home.rglob("*.db")):
        try:
            with contextlib.closing(sqlite3.connect(f"file:{urllib.parse.quote(str(path))}?mode=ro", uri=True)) as con:
                if con.execute("PRAGMA quick_check").fetchone() != ("ok",):
                    return path
        except sqlite3.DatabaseError:
            return path
    return None


def outcome_of_failure(before: PublishedState, after: PublishedState) -> str:
    """What a failed run leaves published, stated truthfully."""
    if after == before:
        if before.tables is None and before.trends_db is None:
            return "nothing was published (no build has published tables here yet)"
        return "nothing was published: the previous tables and trends.duckdb are as they were"
    if after.tables is not None and after.tables == after.trends_db:
        return "the tables and trends.duckdb were published"
    return f"tables published; trends.duckdb still holds the build of {after.trends_db_built_at}: rerun to finish"


def print_summary(settings: Settings, headline: str) -> dict[str, int]:
    layout = settings.layout
    say(headline)
    counts = totals(layout.duckdb_path)
    print("  " + ", ".join(f"{label}: {count}" for label, count in counts.items()))
    print(f"  report: {report_path(layout)} (`papertrends report` prints it as text)")
    say(f"rejected {counts['unusable digests']} digest(s) and {counts['rejected blocks']} block(s) (see the digests and rejects tables)")
    say(f"validation results (Data Docs): {layout.validation_dir / 'index.html'}")
    print()
    print(daily_summary_text(layout.duckdb_path))
    return counts


def _strict_status(counts: dict[str, int], strict: bool) -> int:
    if strict and (counts["unusable digests"] or counts["rejected blocks"]):
        return fail(f"--strict: rejected {counts['unusable digests']} digest(s) and {counts['rejected blocks']} block(s)", 1)
    return 0


def _waiting(holder: str) -> None:
    say(f"waiting for another build of this warehouse to finish (pid {holder or '?'})")


def build(settings: Settings, strict: bool = False, reparse: list[str] | None = None, allow_empty: bool = False) -> int:
    """Materialize every asset through Dagster on the warehouse's instance; print a summary.

    Rejected digests and blocks are recorded, not failures: exit 0 and say how many;
    with `strict`, any rejection makes the exit status 1 (the tables are still built).
    """
    reparse = reparse or []
    layout = settings.layout
    try:
        check_settings(settings)
        # Before the lock and Dagster, as the run's first step would (its option named as typed).
        refuse_digest_request(list_digest_files(settings.digests_dir), settings.digests_dir, reparse, allow_empty, reparse_option="--reparse")
    except ConfigError as error:
        return fail(str(error), 2)
    try:
        with warehouse_lock(layout.lock_path, on_wait=_waiting):
            remove_stale_temporaries(layout.written_dirs, beside=layout.replaced_in_root)
            plan = plan_stage(settings, reparse)
            if not plan.changes_content and is_current(layout):
                return _unchanged(settings, strict, resign=bool(plan.resign))
            return _materialize(settings, strict, reparse, allow_empty)
    except ConfigError as error:
        return fail(str(error), 2)
    except SummaryUnwritten as error:
        return fail(f"the warehouse is built, but its summary could not be written: {error}", 1)
    except BrokenPipeError:
        raise  # the reader of the output went away: not the build's failure (run() exits 141)
    except OSError as error:
        return fail(f"build failed: {innermost(error)}{disk_hint(settings)}", 1)


class SummaryUnwritten(Exception):
    """The warehouse is built, but its summary could not be written (stdout on a full disk, say)."""


@contextlib.contextmanager
def _summary_output() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise  # the reader went away: run() exits 141, as for any command
    except OSError as error:
        raise SummaryUnwritten(innermost(error)) from error


def report_is_current(layout: Layout) -> bool:
    """The report was written after trends.duckdb: a publish without its report (trends_duckdb
    materialized alone in the UI, or a report that could not be written) leaves it older."""
    try:
        return report_path(layout).stat().st_mtime_ns >= layout.duckdb_path.stat().st_mtime_ns
    except OSError:
        return False


def _unchanged(settings: Settings, strict: bool, resign: bool) -> int:
    if resign:
        stage(settings)  # the same bytes under new signatures: remember them, parse nothing
    warnings = [] if report_is_current(settings.layout) else write_report_or_warn(settings)
    built = built_from(settings.layout.duckdb_path)
    when = built[1].isoformat(timespec="seconds") if built else "?"
    with _summary_output():
        for warning in warnings:
            say(f"warning: {warning}")
        counts = print_summary(settings, f"nothing new in {settings.digests_dir} since the build of {when}: the tables and {settings.layout.duckdb_path} are unchanged")
    return _strict_status(counts, strict)


def _materialize(settings: Settings, strict: bool, reparse: list[str], allow_empty: bool) -> int:
    with interrupts_held():
        import dagster as dg

        from assets.cli.instance import dagster_home
        from assets.definitions import ASSETS, CHECKS
        from assets.resources import LockHeldWarehouseResource

    layout = settings.layout
    home, note = dagster_home(settings)  # a ConfigError here exits 2, as other settings do
    if note:
        say(note)
    before = PublishedState.read(layout)
    run_config = {**_QUIET_LOGS, "ops": {"staged_digests": {"config": {"reparse": reparse, "allow_empty": allow_empty}}}}
    try:
        with dg.DagsterInstance.from_config(str(home)) as instance, _watching_ctrl_c() as ctrl_c:
            result = dg.materialize(
                [*ASSETS, *CHECKS],
                instance=instance,
                resources={"warehouse": LockHeldWarehouseResource.from_settings(settings)},  # build() holds the lock
                run_config=run_config,
                raise_on_error=False,
            )
    except Exception as error:  # Dagster's own storage failing (a full disk, a damaged database): one line
        damaged = damaged_database(home)
        where = f"the Dagster database {damaged} is damaged: move it away" if damaged else f"Dagster instance: {home}"
        return fail(f"build failed: {innermost(error)}{disk_hint(settings)} ({where})", 1)
    failed_steps = [event.step_key for event in result.all_events if event.event_type_value == "STEP_FAILURE"]
    after = PublishedState.read(layout)
    if ctrl_c.seen:  # say what the run left, and exit as run() does
        unwritten = "; the report was not written (a rerun writes it)" if "trend_report" in failed_steps else ""
        return fail(f"interrupted; {outcome_of_failure(before, after)}{unwritten}", 130)
    data_docs = layout.validation_dir / "index.html"
    if failed_steps == ["trend_report"] and after.tables is not None and after.tables == after.trends_db:
        with _summary_output():
            counts = print_summary(settings, f"built {layout.duckdb_path} from the digests in {settings.digests_dir}; run {result.run_id}")
            say(f"warning: the report could not be written ({_failure_message(result)}); the tables and trends.duckdb are published")
        return _strict_status(counts, strict)
    if not result.success:
        say(f"validation results (Data Docs): {data_docs}")
        checks = sorted(
            evaluation.check_name
            for evaluation in result.get_asset_check_evaluations()
            if not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR  # warnings block nothing
        )
        where = ", ".join(str(step) for step in failed_steps) or "?"
        if checks:
            where += f" (failed checks: {', '.join(checks)})"
        reason = _failure_message(result)
        return fail(
            f"build failed in {where}{': ' + reason if reason else ''}{disk_hint(settings)}; "
            f"{outcome_of_failure(before, after)}; see run {result.run_id} in `papertrends ui`",
            1,
        )
    with _summary_output():
        counts = print_summary(settings, f"built {layout.duckdb_path} from the digests in {settings.digests_dir}; run {result.run_id}")
    return _strict_status(counts, strict)


@dataclass
class CtrlCWatch:
    seen: bool = False


@contextlib.contextmanager
def _watching_ctrl_c() -> Iterator[CtrlCWatch]:
    """Whether a Ctrl-C (or a SIGTERM, which Dagster treats alike) arrived during the block,
    whatever became of it.

    Dagster raises one inside a step at once, but between steps it only records one, and it
    forgets one that comes after the last step; one it raises inside a garbage-collector
    callback is printed as "Exception ignored" and lost (dagster issue 2919); DuckDB turns
    one inside a query into its own error. Python writes the number of every signal it
    handles to its wakeup fd, so the answer is read there; the lost ones are not printed.
    """
    import dagster as dg

    watch = CtrlCWatch()
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    previous_hook = sys.unraisablehook

    def quiet_lost_interrupts(unraisable) -> None:
        if not isinstance(unraisable.exc_value, KeyboardInterrupt | dg.DagsterExecutionInterruptedError):
            previous_hook(unraisable)

    sys.unraisablehook = quiet_lost_interrupts
    try:
        yield watch
    finally:
        signal.set_wakeup_fd(previous_fd)
        sys.unraisablehook = previous_hook
        received = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := reader.recv(4096):
                received += chunk
        watch.seen = signal.SIGINT in received or signal.SIGTERM in received
        reader.close()
        writer.close()


def _failure_message(result) -> str | None:
    """First line of the first step failure's error (its root cause where Dagster has it);
    none for failed blocking checks, which the message names."""
    for event in result.all_events:
        if event.event_type_value == "STEP_FAILURE":
            error = event.step_failure_data.error
            if error.cls_name == "DagsterAssetCheckFailedError":
                return None
            while error.cause:
                error = error.cause
            lines = error.message.strip().splitlines()
            return lines[0] if lines else None
    return None

