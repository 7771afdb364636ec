"""A build in a child process that kills itself with SIGKILL at a chosen point (tests/test_faults.py).

    python tests/fault_child.py pipeline|cli

The child imports everything first and prints "ready", so that the test can start it
ahead of need and a kill lands in the build, not in an import. It then reads one job
from stdin (a JSON line: warehouse, digests, inject and, for parse_pool, report), wraps the function of the write
path named by `inject` so that it kills the process at that point, prints "started" and
builds: through pipeline.build.build_warehouse ("pipeline") or `papertrends build`
(assets.cli.build.build, through Dagster: "cli").

The exit status tells the test what happened: -SIGKILL when the point was reached;
0 ("done <seconds>" printed) when the build finished without reaching it; 3, with the
reason on stderr, when the point was reached in a state the test did not intend (a
kill there would test something else).
"""

import contextlib
import importlib
import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MODE = sys.argv[1]

# Everything a build imports lazily (great_expectations and pandas for the checks,
# matplotlib for the report), imported now, so that a kill at a random time lands in the
# build rather than in an import. Only a warm-up: a module renamed since costs time, not
# correctness.
for _module in (
    "great_expectations",
    "great_expectations.data_context.types.base",
    "great_expectations.expectations.row_conditions",
    "pandas",
    "pyarrow.dataset",
    "pipeline.report",
    "pipeline.validate.cross_checks",
    "pipeline.validate.docs",
    "pipeline.validate.suites",
):
    with contextlib.suppress(ImportError):
        importlib.import_module(_module)

# The modules whose functions the injections wrap.
import pipeline.build  # noqa: E402
import pipeline.serve.trends_db  # noqa: E402
import pipeline.store.parse  # noqa: E402
import pipeline.store.publish  # noqa: E402
from pipeline.config import Settings  # noqa: E402

if MODE == "cli":
    import assets.cli.build
    import assets.definitions  # Dagster and every asset, imported ahead
    import assets.publish

BUILD_PID = os.getpid()
REPORT = None  # where parse_pool writes the processes below the build


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def refuse(reason: str) -> None:
    """The point was reached in a state the test did not mean to kill in: say so, exit 3
    (ending this build's worker processes first: the test could not find them after)."""
    print(f"fault_child: {reason}", file=sys.stderr, flush=True)
    for process in descendants(BUILD_PID):
        os.kill(process["pid"], signal.SIGKILL)
    os._exit(3)


def process_table() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, start time in clock ticks) of every process, from /proc."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[19]))
    return table


def descendants(pid: int) -> list[dict]:
    """Every process below `pid` (the fork server and its workers are grandchildren)."""
    table = process_table()
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, start) in table.items():
            if ppid == parent:
                found.append({"pid": child, "ppid": ppid, "start": start})
                frontier.append(child)
    return found


def temporaries_of_trends_db(layout) -> list[Path]:
    return [path for path in layout.root.iterdir() if path.name.startswith(".trends.duckdb.") and ".tmp" in path.name]


def install(inject: str, layout) -> None:
    if inject in ("none", "cli_none"):
        return
    if inject == "parse_in_process":
        # A digest file parsed in this very process (fewer than 64 files: no pool).
        original = pipeline.store.parse.read_and_parse

        def parse_then_die(*args, **kwargs):
            result = original(*args, **kwargs)
            if os.getpid() != BUILD_PID:
                refuse("parsed in a worker process, not in the build's")
            die()
            return result

        pipeline.store.parse.read_and_parse = parse_then_die
    elif inject == "parse_pool":
        # The first chunk's rows are back from the pool: the fork server and its workers
        # are alive (the other chunks are in flight or waiting). Two workers even on one core.
        original = pipeline.build.parse_files

        def parse_in_pool_then_die(digests_dir, files, settings, workers=None):
            if len(files) < pipeline.store.parse.PARALLEL_MIN_FILES:
                refuse(f"{len(files)} files to parse: too few for the worker pool")
            for rows in original(digests_dir, files, settings, workers=2):
                below = descendants(BUILD_PID)
                if not any(process["ppid"] != BUILD_PID for process in below):
                    refuse(f"no worker process below the build: {below}")
                # To a file: stdout is a pipe that the workers share, read to its end only
                # once they are gone.
                Path(REPORT).write_text(json.dumps(below))
                die()
                yield rows

        pipeline.build.parse_files = parse_in_pool_then_die
    elif inject == "staging_commit":
        # Inside apply_changes' one transaction: rows deleted and inserted, COMMIT not run.
        original = pipeline.build.apply_changes

        class KillAtCommit:
            def __init__(self, con):
                self._con = con
                self.inserts = 0

            def execute(self, sql, *args, **kwargs):
                if sql.strip().upper() == "COMMIT":
                    if self.inserts == 0:
                        refuse("COMMIT reached with no INSERT in the transaction")
                    die()
                if sql.lstrip().upper().startswith("INSERT"):
                    self.inserts += 1
                return self._con.execute(sql, *args, **kwargs)

            def __getattr__(self, name):
                return getattr(self._con, name)

        pipeline.build.apply_changes = lambda con, plan, parsed: original(KillAtCommit(con), plan, parsed)
    elif inject == "after_consolidate":
        # Candidates and their manifest written; no check has run.
        original = pipeline.build.consolidate_tables

        def consolidate_then_die(settings):
            candidates = original(settings)
            if candidates is None or pipeline.store.publish.read_manifest(settings.layout) is None:
                refuse("consolidation wrote no candidates")
            die()

        pipeline.build.consolidate_tables = consolidate_then_die
    elif inject == "mid_publish":
        # Two Parquet files moved into the new directory of published tables, the others
        # not (one file per table here), parquet/ not yet switched to it; os.replace is
        # the os module's, shared by every module.
        original = os.replace
        renamed = []

        def replace_then_die(source, destination, **kwargs):
            original(source, destination, **kwargs)
            if Path(destination).parent.parent.parent == layout.builds_dir:
                renamed.append(Path(destination))
                if len(renamed) == 2:
                    if not temporaries_of_trends_db(layout):
                        refuse("publishing Parquet files before the new trends.duckdb was written")
                    die()

        os.replace = replace_then_die
    elif inject == "trends_db_write":
        # The new trends.duckdb half written under its temporary name: tables and views
        # created, macros and build_info not yet.
        original = pipeline.serve.trends_db._create_macros

        def macros_then_die(con):
            if not temporaries_of_trends_db(layout):
                refuse("trends.duckdb is not being written under a temporary name")
            die()

        pipeline.serve.trends_db._create_macros = macros_then_die
    elif inject == "after_parquet_renames":
        # The tables published (parquet/ switched to their directory, with its
        # published.json); the new trends.duckdb is complete under its temporary name,
        # not yet renamed.
        original = pipeline.build.move_into_place

        def move_then_die(*args, **kwargs):
            original(*args, **kwargs)
            if not temporaries_of_trends_db(layout):
                refuse("no new trends.duckdb waiting under a temporary name")
            die()

        pipeline.build.move_into_place = move_then_die
    elif inject == "cli_trends_step":
        # Dagster's trends_duckdb step starts: the checks step approved the candidates.
        from pipeline.store.publish import unapproved

        def publish_then_die(settings):
            problems = unapproved(settings.layout, pipeline.build.REQUIRED_CHECKS)
            if problems:
                refuse(f"the trends_duckdb step started with unapproved candidates: {problems}")
            die()

        assets.publish.publish = publish_then_die
    else:
        refuse(f"unknown injection {inject!r}")


def main() -> None:
    print("ready", flush=True)
    job = json.loads(sys.stdin.readline())
    settings = Settings(Path(job["warehouse"]), Path(job["digests"]), None)
    global REPORT
    REPORT = job.get("report")
    install(job["inject"], settings.layout)
    print("started", flush=True)
    started = time.monotonic()
    if MODE == "cli":
        code = assets.cli.build.build(settings)
    else:
        pipeline.build.build_warehouse(settings)
        code = 0
    print(f"done {time.monotonic() - started:.3f}", flush=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
