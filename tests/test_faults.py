"""Faults: rebuilds, kill -9 at every point of the write path, concurrent readers, a moved
warehouse, a full or read-only disk.

Two inputs, A (the samples) and B (the samples plus a digest that adds a day, papers,
links and two rejects), are built once from scratch into known-good states. Every fault
must leave the published Parquet tables, and trends.duckdb, equal to one of them, table
by table, and a rerun must give the from-scratch build of its input exactly.

The kills run the build in a child process (tests/fault_child.py) that wraps one
function of the write path so that the child SIGKILLs itself exactly there.
"""

import errno
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import pipeline.store.publish
from assets.cli.build import build as cli_build
from pipeline.build import PartialPublish, build_warehouse
from pipeline.config import ConfigError, Settings
from pipeline.schemas import TABLES
from tests.conftest import in_ci
from tests.helpers import REPO, SAMPLES, abstract, render

pytestmark = pytest.mark.faults

SEED = 20260311
RANDOM_KILLS = 2
CHILD = Path(__file__).resolve().parent / "fault_child.py"
DUCKDB_CLI = REPO / ".venv" / "bin" / "duckdb"
# DuckDB 1.1.3, the last 1.1 release (the docs promise 1.1 and later), in an environment of
# its own (`make test`).
OLDEST_DUCKDB = REPO / ".tools" / "duckdb-oldest" / "bin" / "python"
# Run by the oldest DuckDB: the COPY statements, then each query, its rows printed as JSON.
_OLDEST_CLIENT = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute(sys.argv[2])
answers = []
for query in sys.argv[3:]:
    cursor = con.execute(query)
    columns = [column[0] for column in cursor.description]
    answers.append([dict(zip(columns, row)) for row in cursor.fetchall()])
print(json.dumps({"version": duckdb.__version__, "answers": answers}, default=str))
"""

# What trends.duckdb holds, named here rather than taken from the code under test.
TREND_TABLES = ("daily_appearances", "recurrence_by_day", "paper_recurrence", "term_paper_days", "week_papers", "term_trends")
# The sample format carries no star counts, so repo_stars is empty in every input here.
TABLES_WITH_ROWS = tuple(table for table in TABLES if table != "repo_stars")
VIEWS = ("daily_summary", "repo_popularity")
IN_TRENDS_DB = (*TABLES, *TREND_TABLES, *VIEWS)
MACROS = (
    "top_recurring", "daily_summary_between", "rising", "top_upvoted", "stars_gained",
    "rising_terms", "falling_terms", "term_history", "papers_with_term",
)

# Hand-counted facts of each input (the samples: DESIGN.md; the extra digest: 200
# papers with one GitHub link each and two title-only blocks; the pool corpus: 70
# files of 3 new papers with a link each, one file ending in a title-only block), so
# that the known-good states are known to be good.
FACTS = {
    "A": {
        "digests": 5,
        "papers": 298,
        "appearances": 358,
        "repo_links": 86,
        "rejects": 0,
        "recurrence_by_day": 112 + 81 + 69 + 95,
        "paper_recurrence": 298,
        "daily_summary": 4,
    },
    "B": {
        "digests": 6,
        "papers": 498,
        "appearances": 558,
        "repo_links": 286,
        "rejects": 2,
        "recurrence_by_day": 112 + 81 + 69 + 95 + 200,
        "paper_recurrence": 498,
        "daily_summary": 5,
    },
    "M": {
        "digests": 75,
        "papers": 508,
        "appearances": 568,
        "repo_links": 86 + 210,
        "rejects": 1,
        "recurrence_by_day": 112 + 81 + 69 + 95 + 210,
        "paper_recurrence": 508,
        "daily_summary": 4 + 10,
    },
}
POOL_FILES = 70  # more than PARALLEL_MIN_FILES (64): the parse runs in a worker pool


# --- inputs and their known-good states ------------------------------------------------


def _extra_digest() -> str:
    """A digest on a new day: new papers with links, and two rejected blocks."""
    entries = [
        (f"Crash-safe pipeline paper {n}", abstract(f"crash {n}", 20) + f" Code: https://github.com/crash/repo{n}.")
        for n in range(200)
    ]
    return render("Mar 15", entries) + "\n\nA last title with no abstract\n\nAnother title then nothing"


def _corpus(root: Path, label: str) -> Path:
    directory = root / f"raw-{label}"
    directory.mkdir(parents=True)
    for path in SAMPLES.iterdir():
        if path.is_file() and not path.name.startswith("."):
            shutil.copyfile(path, directory / path.name)
    if label == "B":
        (directory / "005_extra_2026-03-15.txt").write_text(_extra_digest())
    if label == "M":
        for n in range(POOL_FILES):
            entries = [
                (f"Pooled parse paper {n} {k}", abstract(f"pool {n} {k}") + f" https://github.com/pool/repo{n}-{k}")
                for k in range(3)
            ]
            (directory / f"1{n:02d}_pool.txt").write_text(
                render(f"Mar {16 + n % 10}", entries) + ("\n\nA title alone" if n == 0 else "")
            )
    return directory


def _visible_parts(layout, table: str) -> list[Path]:
    """What a reader's `parquet/<table>/*.parquet` glob sees (temporaries end in .tmp)."""
    return sorted(layout.table_dir(table).glob("*.parquet"))


def _read_parquet(layout, table: str) -> pa.Table:
    """A published table as a reader of its files gets it: the files in name order."""
    return pa.concat_tables([pq.read_table(path) for path in _visible_parts(layout, table)])


def _comparable(table: str, data: pa.Table) -> pa.Table:
    """digests.ingested_at is when *this* warehouse first read a digest: it differs between
    separate warehouses (and is kept by rebuilds of one), so it is left out of comparisons."""
    return data.drop_columns(["ingested_at"]) if table == "digests" else data


def _trends_db(path: Path) -> tuple[dict[str, pa.Table], str]:
    """Every table and view of a trends.duckdb, rows as stored, and the build key it records."""
    with duckdb.connect(str(path), read_only=True) as con:
        contents = {name: _comparable(name, con.sql(f'SELECT * FROM "{name}"').to_arrow_table()) for name in IN_TRENDS_DB}
        (key,) = con.execute("SELECT build_key FROM build_info").fetchone()
    return contents, key


_COUNTS_SQL = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{name}")' for name in IN_TRENDS_DB)


@dataclass(frozen=True)
class Good:
    """A from-scratch build of one input."""

    digests_dir: Path
    parquet: dict[str, pa.Table]
    parts: dict[str, list[str]]
    trends: dict[str, pa.Table]
    counts: list[int]
    build_key: str


def _good_build(root: Path, label: str) -> Good:
    settings = Settings(root / f"good-{label}", _corpus(root, label), None)
    build_warehouse(settings)
    layout = settings.layout
    trends, key = _trends_db(layout.duckdb_path)
    with duckdb.connect(str(layout.duckdb_path), read_only=True) as con:
        counts = list(con.execute(_COUNTS_SQL).fetchone())
    good = Good(
        settings.digests_dir,
        {table: _comparable(table, _read_parquet(layout, table)) for table in TABLES},
        {table: [path.name for path in _visible_parts(layout, table)] for table in TABLES},
        trends,
        counts,
        key,
    )
    for name, count in FACTS[label].items():
        assert good.trends[name].num_rows == count, (label, name)
        if name in TABLES:
            assert good.parquet[name].num_rows == count, (label, name)
    return good


@pytest.fixture(scope="session")
def good(tmp_path_factory) -> dict[str, Good]:
    """Inputs A and B and their known-good states, each from a fresh build."""
    root = tmp_path_factory.mktemp("inputs")
    states = {label: _good_build(root, label) for label in ("A", "B")}
    # The two must differ in every table and view that holds rows, or a check could not tell
    # them apart.
    for table in TABLES_WITH_ROWS:
        assert not states["A"].parquet[table].equals(states["B"].parquet[table]), table
    for name in IN_TRENDS_DB:
        if name != "repo_stars":
            assert not states["A"].trends[name].equals(states["B"].trends[name]), name
    # And in their counts, but for week_papers: both span the same one week.
    same_count = ("repo_stars", "week_papers")
    differ = [a != b for name, a, b in zip(IN_TRENDS_DB, states["A"].counts, states["B"].counts, strict=True) if name not in same_count]
    assert all(differ) and len(differ) == len(IN_TRENDS_DB) - len(same_count)
    assert states["A"].build_key != states["B"].build_key
    return states


def _state(layout, good: dict[str, Good]) -> tuple[dict[str, str], str]:
    """Which known-good state each published table, and trends.duckdb as a whole, equals.

    Fails on anything else: a table of no known-good build, or a trends.duckdb whose
    tables and views are not all of one build.
    """
    tables = {}
    for table in TABLES:
        data = _comparable(table, _read_parquet(layout, table))
        names = [path.name for path in _visible_parts(layout, table)]
        matches = [label for label, state in good.items() if data.equals(state.parquet[table]) and names == state.parts[table]]
        assert matches, f"parquet/{table} ({names}) is the table of no known-good build"
        if table in TABLES_WITH_ROWS:  # the others are the same in every build: no state to tell
            tables[table] = matches[0]
    contents, key = _trends_db(layout.duckdb_path)
    matches = [
        label
        for label, state in good.items()
        if key == state.build_key and all(contents[name].equals(state.trends[name]) for name in IN_TRENDS_DB)
    ]
    assert matches, f"trends.duckdb (build {key}) is no known-good build, or a mix of two"
    # Hidden temporaries of a killed run may remain (the next build removes them), never a
    # second visible DuckDB file or a write-ahead log beside the published one.
    assert sorted(path.name for path in layout.root.glob("*.duckdb*") if not path.name.startswith(".")) == ["trends.duckdb"]
    return tables, matches[0]


def _assert_finished(layout, good: dict[str, Good], label: str) -> None:
    """Everything published is `label`'s from-scratch build, and nothing of a build is left over."""
    assert _state(layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, label), label)
    assert list(layout.root.rglob("*.tmp")) == []
    assert not layout.candidates_dir.exists()
    # parquet/ links to the one directory of published tables kept, by a relative path.
    (kept,) = layout.builds_dir.iterdir()
    assert os.readlink(layout.parquet_dir) == f"parquet-builds/{kept.name}"


def _files(paths: list[Path]) -> dict[Path, tuple[str, int, int]]:
    """sha256, mtime_ns and inode of each file: any rewrite or replacement changes one of them."""
    return {path: (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, path.stat().st_ino) for path in paths}


def _published_files(layout) -> dict[Path, tuple[str, int, int]]:
    paths = sorted(path for path in layout.parquet_dir.rglob("*") if path.is_file()) + [layout.duckdb_path]
    assert len(paths) >= len(TABLES) + 1
    return _files(paths)


# --- building twice ----------------------------------------------------------------------


@pytest.mark.slow
def test_building_twice_gives_identical_tables_and_row_order(good, tmp_path, capsys):
    settings = Settings(tmp_path / "warehouse", good["B"].digests_dir, None)
    layout = settings.layout
    assert build_warehouse(settings).published
    # Built in a warehouse of its own, B gives the same tables, rows in the same order, as
    # the from-scratch build of the fixture (all but ingested_at, a time of this warehouse).
    _assert_finished(layout, good, "B")
    full = {table: _read_parquet(layout, table) for table in TABLES}  # ingested_at included
    trends_full = _trends_db(layout.duckdb_path)
    published = _published_files(layout)

    # Nothing new: no file is rewritten, not even with the same bytes.
    assert not build_warehouse(settings).published
    assert _published_files(layout) == published
    # The same through `papertrends build` (which then stops before any Dagster run).
    assert cli_build(settings) == 0
    assert "nothing new" in capsys.readouterr().out
    assert _published_files(layout) == published

    # Every digest parsed again and every table consolidated and published again (the
    # staging and the record of what is published gone): identical tables, row order and
    # first-ingestion times, down to the bytes of each Parquet file.
    shutil.rmtree(layout.staging_dir)
    layout.published_record.unlink()
    assert build_warehouse(settings).published
    for table in TABLES:
        assert _read_parquet(layout, table).equals(full[table]), table
    republished = _published_files(layout)
    assert {path: state[0] for path, state in republished.items() if path.suffix == ".parquet"} == {
        path: state[0] for path, state in published.items() if path.suffix == ".parquet"
    }
    assert all(republished[path][2] != published[path][2] for path in published)  # new files, renamed in
    contents, key = _trends_db(layout.duckdb_path)
    assert key == trends_full[1]
    assert all(contents[name].equals(trends_full[0][name]) for name in IN_TRENDS_DB)


# --- kill -9 ---------------------------------------------------------------------------


class _Children:
    """Build processes started ahead of need: each waits, imports done, for its job."""

    def __init__(self, mode: str = "pipeline"):
        self.mode = mode
        self.spare = self._spawn()

    def _spawn(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, str(CHILD), self.mode],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def start(
        self, warehouse: Path, digests: Path, inject: str, spare: bool = True, report: Path | None = None
    ) -> subprocess.Popen:
        child = self.spare
        self.spare = self._spawn() if spare else None
        assert child.stdout.readline().strip() == "ready", child.communicate()[1]
        job = {"warehouse": str(warehouse), "digests": str(digests), "inject": inject}
        if report is not None:
            job["report"] = str(report)
        child.stdin.write(json.dumps(job) + "\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "started", child.communicate()[1]
        return child

    def close(self) -> None:
        if self.spare is not None:
            self.spare.kill()
            self.spare.communicate()


def _killed(child: subprocess.Popen) -> str:
    """Wait for a child meant to kill itself; returns its stdout."""
    out, err = child.communicate(timeout=300)
    assert child.returncode == -signal.SIGKILL, f"exit status {child.returncode}: {err}"
    return out


# Each point of the write path where the child kills itself, and the state it must leave:
# "old" (nothing published), or "tables new" (the Parquet tables published, trends.duckdb
# of the previous build). Never some tables of one build and some of another. Starting
# from A, the target alternates; the parse and the staging transaction only happen on the
# way to B, which parses the extra digest.
KILL_POINTS = [
    ("parse_in_process", "B", "old"),  # the extra digest parsed, in the build's own process
    ("after_consolidate", "A", "old"),  # candidates written, no check run
    ("staging_commit", "B", "old"),  # rows deleted and inserted in the staging transaction, no COMMIT
    ("mid_publish", "A", "old"),  # two of the tables moved into the new directory, parquet/ not switched
    ("after_parquet_renames", "B", "tables new"),  # parquet/ switched, trends.duckdb not yet renamed
    ("trends_db_write", "A", "old"),  # the new trends.duckdb half written under its temporary name
]


@pytest.mark.slow
def test_kill_9_at_each_point_then_a_rerun_gives_the_new_build(good, tmp_path):
    rng = random.Random(SEED)
    settings = Settings(tmp_path / "warehouse", good["A"].digests_dir, None)
    layout = settings.layout
    children = _Children()  # importing while A is built
    try:
        build_warehouse(settings)
        _assert_finished(layout, good, "A")
        state = "A"
        build_seconds = 0.0
        random_targets = ["B", "A"] * (RANDOM_KILLS // 2)
        plan = [*KILL_POINTS, *((None, target, "any") for target in random_targets)]
        for number, (inject, target, expected) in enumerate(plan):
            assert target != state  # every kill interrupts a build that changes something
            last = number == len(plan) - 1
            child = children.start(settings.warehouse_dir, good[target].digests_dir, inject or "none", spare=not last)
            if inject is None:
                # Anywhere in a build, or just after it.
                time.sleep(rng.uniform(0, build_seconds))
                child.send_signal(signal.SIGKILL)
                _, err = child.communicate(timeout=300)
                assert child.returncode in (0, -signal.SIGKILL), err
            else:
                _killed(child)  # also fails when the child never reached its point
            tables, trends_db = _state(layout, good)
            labels = sorted(tables.values())
            # Every table of one build, whatever the point.
            assert len(set(labels)) == 1, (inject, tables)
            if expected == "old":
                assert (tables, trends_db) == (dict.fromkeys(TABLES_WITH_ROWS, state), state), inject
            elif expected == "tables new":
                assert (tables, trends_db) == (dict.fromkeys(TABLES_WITH_ROWS, target), state)
            else:
                # A random time: either state above, or the build finished. A new
                # trends.duckdb is renamed in only after the tables.
                assert trends_db == state or labels[0] == target
            # The rerun finishes the build: the target's from-scratch state exactly.
            started = time.monotonic()
            build_warehouse(Settings(settings.warehouse_dir, good[target].digests_dir, None))
            # The longest rerun (each does most of a build) bounds the random kill times.
            build_seconds = max(build_seconds, time.monotonic() - started)
            _assert_finished(layout, good, target)
            state = target
    finally:
        children.close()


def _alive(process: dict) -> bool:
    """The process (pid and start time, so a reused pid does not count) still runs."""
    try:
        with open(f"/proc/{process['pid']}/stat") as handle:
            stat = handle.read()
    except OSError:
        return False
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0] != "Z" and int(fields[19]) == process["start"]


@pytest.mark.slow
def test_kill_9_during_a_parallel_parse_leaves_no_worker_and_a_rerun_is_correct(good, tmp_path):
    children = _Children()  # importing while the known-good build of the pool corpus runs
    try:
        states = {**good, "M": _good_build(tmp_path / "inputs", "M")}
        for table in TABLES_WITH_ROWS:  # or a check could not tell M's tables from A's
            assert not states["M"].parquet[table].equals(good["A"].parquet[table]), table
        settings = Settings(tmp_path / "warehouse", good["A"].digests_dir, None)
        build_warehouse(settings)
        report = tmp_path / "below.json"
        child = children.start(settings.warehouse_dir, states["M"].digests_dir, "parse_pool", spare=False, report=report)
        # wait(), not communicate(): the workers share the child's stdout and stderr, whose
        # ends come only when they are gone.
        child.wait(timeout=300)
    finally:
        children.close()
    below = json.loads(report.read_text()) if report.exists() else []
    try:
        # (stderr is read to its end only when no worker can be holding it.)
        assert child.returncode == -signal.SIGKILL, f"exit status {child.returncode}: {child.stderr.read()}"
        # The fork server (the build's child) and its workers (its grandchildren) were running.
        assert any(process["ppid"] == child.pid for process in below)
        assert any(process["ppid"] != child.pid for process in below)
        # They end on their own once the build is gone: poll, with a generous deadline. A
        # guard against processes left forever, not a timing check.
        deadline = time.monotonic() + 30  # the workers look once a second
        while any(_alive(process) for process in below) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [process for process in below if _alive(process)] == [], "processes of the killed build are left"
    finally:
        for process in below:  # whatever the outcome, nothing of the test stays behind
            if _alive(process):
                os.kill(process["pid"], signal.SIGKILL)
        for stream in (child.stdin, child.stdout, child.stderr):
            stream.close()
    assert _state(settings.layout, states) == (dict.fromkeys(TABLES_WITH_ROWS, "A"), "A")
    build_warehouse(Settings(settings.warehouse_dir, states["M"].digests_dir, None))
    _assert_finished(settings.layout, states, "M")


@pytest.mark.slow
def test_kill_9_between_dagster_assets_then_a_rerun_gives_the_new_build(good, tmp_path, capsys):
    """`papertrends build` killed as its trends_duckdb step starts, the checks having
    approved the candidates: nothing is published; a rerun (through Dagster) publishes B."""
    children = _Children("cli")  # Dagster imports while A is built
    try:
        settings = Settings(tmp_path / "warehouse", good["A"].digests_dir, None)
        build_warehouse(settings)
        child = children.start(settings.warehouse_dir, good["B"].digests_dir, "cli_trends_step", spare=False)
        _killed(child)
    finally:
        children.close()
    layout = settings.layout
    assert _state(layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "A"), "A")
    # The candidates of every table wait with the approvals of the eight checks.
    assert sorted(path.name for path in layout.candidates_dir.iterdir()) == sorted([*TABLES, "approvals", "manifest.json"])
    assert len(list((layout.candidates_dir / "approvals").glob("*.json"))) == 8
    assert cli_build(Settings(settings.warehouse_dir, good["B"].digests_dir, None)) == 0
    capsys.readouterr()
    _assert_finished(layout, good, "B")


# --- concurrent readers ------------------------------------------------------------------

_READER = r"""
import json, os, sys, time
import duckdb
path, stop, kind, query = sys.argv[1:5]
# "held": one connection opened before the rebuilds, kept throughout. "fresh": a new
# connection per query (its own process: DuckDB shares one open database per path and process).
held = duckdb.connect(path, read_only=True, config={"threads": 1}) if kind == "held" else None
print(json.dumps({"ready": True}), flush=True)
while not os.path.exists(stop):
    try:
        if held is not None:
            counts = held.execute(query).fetchone()
        else:
            with duckdb.connect(path, read_only=True, config={"threads": 1}) as con:
                counts = con.execute(query).fetchone()
        print(json.dumps({"counts": list(counts)}), flush=True)
    except Exception as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}), flush=True)
    # A short pause: two readers spinning flat out would slow the builds on two cores
    # several-fold, and hundreds of queries per rebuild still cover the renames.
    time.sleep(0.01)
"""


def _results(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()[1:] if line.endswith("}")]


def _wait_for(log: Path, condition, timeout: float = 120) -> None:
    """Wait until the reader's results satisfy `condition` (a deadline against a hang, not a timing check)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition(_results(log)):
            return
        time.sleep(0.02)
    raise AssertionError(f"the reader made no progress: {log.read_text()[-2000:]}")


@pytest.mark.slow
def test_readers_see_one_whole_build_through_three_rebuilds(good, tmp_path):
    settings = Settings(tmp_path / "warehouse", good["A"].digests_dir, None)
    build_warehouse(settings)
    stop = tmp_path / "stop"
    logs = {kind: tmp_path / f"{kind}.jsonl" for kind in ("held", "fresh")}
    readers = {}
    try:
        for kind, log in logs.items():
            with open(log, "w") as output:
                command = [sys.executable, "-c", _READER, str(settings.layout.duckdb_path), str(stop), kind, _COUNTS_SQL]
                readers[kind] = subprocess.Popen(command, stdout=output, stderr=subprocess.PIPE, text=True)
        for log in logs.values():
            _wait_for(log, lambda results: len(results) >= 1)
        for target in ("B", "A", "B"):
            done = {kind: len(_results(log)) for kind, log in logs.items()}
            build_warehouse(Settings(settings.warehouse_dir, good[target].digests_dir, None))
            # Go on once a new connection has read the new build and the held one read again.
            new_counts = good[target].counts
            _wait_for(
                logs["fresh"],
                lambda results, done=done, new=new_counts: any(r.get("counts") == new for r in results[done["fresh"] :]),
            )
            _wait_for(logs["held"], lambda results, done=done: len(results) > done["held"])
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=60)
    for reader in readers.values():
        assert reader.returncode == 0, reader.stderr.read()
    held, fresh = _results(logs["held"]), _results(logs["fresh"])
    assert [result for result in held + fresh if "error" in result] == []
    # Every query saw one whole build: all nine counts of A, or all nine of B.
    counts = {"A": tuple(good["A"].counts), "B": tuple(good["B"].counts)}
    assert {tuple(result["counts"]) for result in held} == {counts["A"]}  # the build it was opened on
    assert {tuple(result["counts"]) for result in fresh} == {counts["A"], counts["B"]}


_HOLDER = r"""
import json, sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for line in sys.stdin:
    print(json.dumps(con.execute(sys.argv[2]).fetchone()), flush=True)
"""


def _fresh_counts(path: Path) -> list[int]:
    """Counts through a new connection, in a new process (DuckDB shares one open database per path and process)."""
    script = (
        "import json, sys, duckdb; print(json.dumps(duckdb.connect(sys.argv[1], read_only=True).execute(sys.argv[2]).fetchone()))"
    )
    return json.loads(
        subprocess.run([sys.executable, "-c", script, str(path), _COUNTS_SQL], capture_output=True, text=True, check=True).stdout
    )


@pytest.mark.slow
def test_a_reader_holding_the_old_file_keeps_working_and_new_connections_see_the_new(good, tmp_path):
    settings = Settings(tmp_path / "warehouse", good["A"].digests_dir, None)
    build_warehouse(settings)
    path = settings.layout.duckdb_path
    old_inode = path.stat().st_ino
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path), _COUNTS_SQL], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    def held_counts() -> list[int]:
        holder.stdin.write("query\n")
        holder.stdin.flush()
        return json.loads(holder.stdout.readline())

    try:
        assert held_counts() == good["A"].counts  # opened before any rebuild
        for target in ("B", "A"):
            build_warehouse(Settings(settings.warehouse_dir, good[target].digests_dir, None))
            assert path.stat().st_ino != old_inode  # a new file was renamed over the old one
            # The connection opened on A still answers, from A; a new one sees the new build.
            assert held_counts() == good["A"].counts
            assert _fresh_counts(path) == good[target].counts
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0


# --- a moved warehouse -------------------------------------------------------------------


def _oracle(parquet_dir: Path) -> dict:
    """The answers of each view and macro for the queries below, computed in Python from the
    Parquet tables: an oracle independent of the SQL in trends.duckdb."""
    appearances = pa.concat_tables(
        [pq.read_table(path) for path in sorted((parquet_dir / "appearances").glob("*.parquet"))]
    ).to_pylist()
    digests = pa.concat_tables([pq.read_table(path) for path in sorted((parquet_dir / "digests").glob("*.parquet"))]).to_pylist()
    links = pa.concat_tables([pq.read_table(path) for path in sorted((parquet_dir / "repo_links").glob("*.parquet"))]).to_pylist()
    days_of = defaultdict(set)
    per_day, distinct = Counter(), defaultdict(set)
    for row in appearances:
        days_of[row["paper_id"]].add(row["digest_date"])
        per_day[row["digest_date"]] += 1
        distinct[row["digest_date"]].add(row["paper_id"])
    first = {paper: min(days) for paper, days in days_of.items()}
    digests_per_day = Counter(row["digest_date"] for row in digests if row["status"] == "ok" and row["duplicate_of"] is None)
    daily = [
        {
            "day": day.isoformat(),
            "digests": digests_per_day[day],
            "appearances": per_day[day],
            "distinct_papers": len(distinct[day]),
            "new_papers": sum(first[paper] == day for paper in distinct[day]),
            "returning_papers": sum(first[paper] < day for paper in distinct[day]),
        }
        for day in sorted(digests_per_day)
    ]

    def window(start: str, end: str) -> dict[str, tuple[int, int, object]]:
        """paper -> (days seen, appearances, first day seen) within [start, end]."""
        seen: dict[str, list] = defaultdict(lambda: [set(), 0])
        for row in appearances:
            if start <= row["digest_date"].isoformat() <= end:
                seen[row["paper_id"]][0].add(row["digest_date"])
                seen[row["paper_id"]][1] += 1
        return {paper: (len(days), count, min(days)) for paper, (days, count) in seen.items()}

    top = window("2026-03-11", "2026-03-14")
    top_ids = sorted(top, key=lambda paper: (-top[paper][0], -top[paper][1], top[paper][2], paper))[:5]
    before, after = window("2026-03-11", "2026-03-12"), window("2026-03-13", "2026-03-14")
    rises = {paper: days - before.get(paper, (0,))[0] for paper, (days, _, _) in after.items()}
    rising_ids = sorted(
        (paper for paper in rises if rises[paper] > 0),
        key=lambda paper: (-rises[paper], -after[paper][0], -after[paper][1], paper),
    )[:5]
    return {
        "counts": {"appearances": len(appearances), "repo_popularity": len({row["url"] for row in links})},
        "daily_summary": daily,
        "daily_summary_between": [row for row in daily if "2026-03-12" <= row["day"] <= "2026-03-13"],
        "top_recurring": [(paper, top[paper][0]) for paper in top_ids],
        "rising": [(paper, rises[paper]) for paper in rising_ids],
    }


# One statement per answer; the same text through Python and through the DuckDB CLI.
_QUERIES = {
    "counts": "SELECT (SELECT count(*) FROM appearances) AS appearances, (SELECT count(*) FROM repo_popularity) AS repo_popularity",
    "daily_summary": "SELECT day, digests, appearances, distinct_papers, new_papers, returning_papers FROM daily_summary ORDER BY day",
    # Bounds inclusive, as a string and as a DATE.
    "daily_summary_between": (
        "SELECT day, digests, appearances, distinct_papers, new_papers, returning_papers "
        "FROM daily_summary_between('2026-03-12', DATE '2026-03-13')"
    ),
    "top_recurring": "SELECT paper_id, days_seen FROM top_recurring('2026-03-11', '2026-03-14', 5)",
    "rising": "SELECT paper_id, rise FROM rising('2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14', 5)",
}


# A call of every macro, for clients to answer alike: a macro is SQL that the reader's own
# DuckDB binds, so an older client must know every function it calls.
MACRO_CALLS = {
    "top_recurring": "top_recurring('2026-03-11', '2026-03-14', 50)",
    "daily_summary_between": "daily_summary_between('2026-03-11', '2026-03-14')",
    "rising": "rising('2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14', 50)",
    "top_upvoted": "top_upvoted('2026-03-11', '2026-03-14', 50)",
    "stars_gained": "stars_gained('2026-03-11', '2026-03-14', 50)",
    "rising_terms": "rising_terms('2026-03-13', '2026-03-14', 100)",
    "falling_terms": "falling_terms('2026-03-13', '2026-03-14', 100)",
    "term_history": "term_history('model')",
    "papers_with_term": "papers_with_term('model')",
}
# The sample format carries no upvotes and no stars.
EMPTY_ON_SAMPLES = ("rejects", "repo_stars", "top_upvoted", "stars_gained")
# What each client writes to <name>.csv: every table and view, and every macro's answer.
COPIED = {name: f'"{name}"' for name in (*IN_TRENDS_DB, "build_info")} | MACRO_CALLS


def _copy_everything(directory: str) -> str:
    """COPY statements writing each of COPIED, sorted, to `directory`/<name>.csv."""
    return "; ".join(f"COPY (SELECT * FROM {source} ORDER BY ALL) TO '{directory}/{name}.csv' (HEADER)" for name, source in COPIED.items()) + ";"


def _answers_by_query(outputs: list[list[dict]]) -> dict:
    """Each of _QUERIES' rows, in the order of _QUERIES, as _answers compares them."""
    return {name: _answers(rows, name) for name, rows in zip(_QUERIES, outputs, strict=True)}


def _answers(rows: list[dict], name: str):
    if name == "counts":
        return rows[0]
    if name in ("top_recurring", "rising"):
        return [tuple(row.values()) for row in rows]
    return [{key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in row.items()} for row in rows]


@pytest.mark.slow
def test_a_moved_warehouse_answers_every_view_and_macro(good, tmp_path, monkeypatch):
    original = tmp_path / "original"
    build_warehouse(Settings(original, good["A"].digests_dir, None))
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(original, moved)
    assert not original.exists()
    path = moved / "trends.duckdb"
    expected = _oracle(moved / "parquet")
    assert expected["counts"]["appearances"] == 358 and len(expected["daily_summary"]) == 4
    assert len(expected["top_recurring"]) == 5 and len(expected["rising"]) == 5
    # Neither the old place nor the new one is the working directory.
    workdir = tmp_path / "somewhere-else"
    workdir.mkdir()
    monkeypatch.chdir(workdir)

    with duckdb.connect(str(path), read_only=True) as con:
        (storage,) = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
        names = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT internal").fetchall()}
        names |= {row[0] for row in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
        macros = {
            row[0]
            for row in con.execute(
                "SELECT function_name FROM duckdb_functions() WHERE function_type = 'table_macro' AND NOT internal"
            ).fetchall()
        }
        # Every table, view and macro answers, written out to compare with the older clients' below.
        (workdir / "python").mkdir()
        con.execute(_copy_everything("python"))
        python_rows = []
        for sql in _QUERIES.values():
            cursor = con.execute(sql)
            columns = [column[0] for column in cursor.description]
            python_rows.append([dict(zip(columns, row, strict=True)) for row in cursor.fetchall()])
        python = _answers_by_query(python_rows)
    assert names == {*IN_TRENDS_DB, "build_info"}
    assert macros == set(MACROS) == set(MACRO_CALLS)
    # DuckDB's name for the storage version the docs promise, v1.1.0: v1.0.0+, as it names
    # v1.0.0 too (any later version fails here); whether DuckDB 1.1 reads it right is below.
    assert storage == {"storage_version": "v1.0.0+"}
    assert python == expected

    # The DuckDB 1.x command line, reading the file in the storage version it knows.
    if not DUCKDB_CLI.exists() and not in_ci():
        pytest.skip(f"no DuckDB CLI at {DUCKDB_CLI}")
    script = "; ".join(_QUERIES.values()) + ";"
    run = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", str(path), "-json", "-c", script], capture_output=True, text=True, cwd=workdir, timeout=120
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    decoder, position, outputs = json.JSONDecoder(), 0, []
    text = run.stdout
    while text[position:].strip():
        position += len(text[position:]) - len(text[position:].lstrip())
        value, position = decoder.raw_decode(text, position)
        outputs.append(value)
    assert len(outputs) == len(_QUERIES), run.stdout
    assert _answers_by_query(outputs) == expected

    # Every row of every table and view, and every macro's answer, reads the same in the older
    # clients as in the DuckDB that wrote the file: an older DuckDB can read a file wrong
    # without an error (DuckDB 1.3.2 reads the owner and repo of repo_links as NULL from a file
    # DuckDB 2.0 wrote in storage version v1.3.0; benchmarks/RESULTS.md).
    (workdir / "cli").mkdir()
    run = subprocess.run(
        [str(DUCKDB_CLI), "-readonly", str(path), "-c", _copy_everything("cli")], capture_output=True, text=True, cwd=workdir, timeout=120
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    _assert_same_copies(workdir / "cli", workdir / "python")

    # The oldest DuckDB the docs promise: the same answers and the same rows.
    if not OLDEST_DUCKDB.exists() and not in_ci():
        pytest.skip(f"no DuckDB 1.1 at {OLDEST_DUCKDB} (`make test` installs it)")
    (workdir / "oldest").mkdir()
    run = subprocess.run(
        [str(OLDEST_DUCKDB), "-c", _OLDEST_CLIENT, str(path), _copy_everything("oldest"), *_QUERIES.values()],
        capture_output=True, text=True, cwd=workdir, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    oldest = json.loads(run.stdout)
    assert oldest["version"] == "1.1.3"
    assert _answers_by_query(oldest["answers"]) == expected
    _assert_same_copies(workdir / "oldest", workdir / "python")


def _assert_same_copies(read: Path, written: Path) -> None:
    """The CSV files of _copy_everything in `read` are those in `written`, byte for byte."""
    for name in COPIED:
        expected = (written / f"{name}.csv").read_bytes()
        # Rows, not only a header line.
        assert expected.count(b"\n") > (1 if name not in EMPTY_ON_SAMPLES else 0), name
        assert (read / f"{name}.csv").read_bytes() == expected, name


# --- full or read-only disk ----------------------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 32 MB file system (needs root): writes beyond it fail with ENOSPC.

    Room for a warehouse of A and a build of B beside it (a new trends.duckdb is written
    before the old one goes), once the filler is gone.
    """
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mount_point)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        if in_ci():
            pytest.fail(f"cannot mount a tmpfs: {mounted.stderr}")
        pytest.skip("cannot mount a tmpfs here (needs root); the simulated ENOSPC tests still run")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(directory: Path) -> None:
    """Fill the file system holding `directory` to its last bytes."""
    with open(directory / "filler", "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except OSError as error:
            assert error.errno == errno.ENOSPC
    assert shutil.disk_usage(directory).free < 65536


def _the_line(stderr: str) -> str:
    """The one line `papertrends build` prints about a failure (Dagster may log the step's error above it)."""
    lines = [line for line in stderr.splitlines() if line.startswith("papertrends:")]
    assert len(lines) == 1, stderr
    assert stderr.rstrip().endswith(lines[0]), stderr
    return lines[0]


def test_a_full_disk_fails_with_enospc_and_keeps_the_good_tables(good, small_tmpfs):
    settings = Settings(small_tmpfs / "warehouse", good["A"].digests_dir, None)
    build_warehouse(settings)
    published = _published_files(settings.layout)
    _fill(small_tmpfs)
    with pytest.raises(Exception) as raised:
        build_warehouse(Settings(settings.warehouse_dir, good["B"].digests_dir, None))
    # The error says the disk is full, not what failed while handling that.
    assert "No space left on device" in str(raised.value), repr(raised.value)
    assert _published_files(settings.layout) == published
    assert _state(settings.layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "A"), "A")
    # Space again: the next build is correct.
    (small_tmpfs / "filler").unlink()
    build_warehouse(Settings(settings.warehouse_dir, good["B"].digests_dir, None))
    _assert_finished(settings.layout, good, "B")


@pytest.mark.parametrize("dagster_home", ["on the full disk", "elsewhere"])
def test_papertrends_build_on_a_full_disk_says_so_in_one_line(good, small_tmpfs, tmp_path, monkeypatch, capsys, dagster_home):
    """Dagster's own storage on the full disk fails first; with DAGSTER_HOME elsewhere, a step of the build does."""
    if dagster_home == "elsewhere":
        monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    settings = Settings(small_tmpfs / "warehouse", good["A"].digests_dir, None)
    build_warehouse(settings)
    published = _published_files(settings.layout)
    _fill(small_tmpfs)
    assert cli_build(Settings(settings.warehouse_dir, good["B"].digests_dir, None)) == 1
    line = _the_line(capsys.readouterr().err)
    assert line.startswith("papertrends: build failed") and f"(the disk holding {settings.warehouse_dir} is full)" in line
    if dagster_home == "elsewhere":
        # The staging transaction's COMMIT is what fails: the line gives its cause.
        assert "No space left on device" in line and "nothing was published" in line
    assert _published_files(settings.layout) == published
    assert _state(settings.layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "A"), "A")


def test_a_read_only_warehouse_is_refused_in_one_line_and_keeps_the_good_tables(good, small_tmpfs, capsys):
    settings = Settings(small_tmpfs / "warehouse", good["A"].digests_dir, None)
    build_warehouse(settings)
    published = _published_files(settings.layout)
    to_b = Settings(settings.warehouse_dir, good["B"].digests_dir, None)
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    try:
        with pytest.raises(ConfigError, match="not writable"):
            build_warehouse(to_b)
        # Refused before anything runs: status 2, the settings refused (docs/usage.md, Exit status).
        assert cli_build(to_b) == 2
        line = _the_line(capsys.readouterr().err)
        assert line == f"papertrends: the warehouse directory is not writable: {settings.warehouse_dir}"
        # The good tables stay readable where they are.
        assert _state(settings.layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "A"), "A")
        assert _published_files(settings.layout) == published
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_tmpfs)], check=True)


@dataclass
class _Fault:
    """A good build of A with a fault in place: `settings` builds B; `cure()` removes the fault."""

    settings: Settings
    published: dict
    patch: pytest.MonkeyPatch
    previous_build: str = ""

    def cure(self) -> None:
        self.patch.undo()


@pytest.fixture
def candidate_writes_fail_with_enospc(good, tmp_path):
    """Every Parquet file written stops half way with ENOSPC.

    Candidate tables are the only Parquet files a build writes (pipeline.store.atomic.write_parquet).
    """
    settings = Settings(tmp_path / "warehouse", good["A"].digests_dir, None)
    build_warehouse(settings)

    class HalfThenNoSpace(pq.ParquetWriter):
        """Writes the file's header, then runs out of space."""

        def __init__(self, where, schema, **kwargs):
            super().__init__(where, schema, **kwargs)
            self._where = where

        def write_table(self, table, row_group_size=None):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def close(self):
            super().close()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    patch = pytest.MonkeyPatch()
    patch.setattr(pq, "ParquetWriter", HalfThenNoSpace)
    yield _Fault(Settings(settings.warehouse_dir, good["B"].digests_dir, None), _published_files(settings.layout), patch)
    patch.undo()


@pytest.mark.slow
def test_a_simulated_enospc_while_writing_candidates_keeps_the_good_tables(good, candidate_writes_fail_with_enospc):
    fault = candidate_writes_fail_with_enospc
    with pytest.raises(OSError, match="No space left on device"):
        build_warehouse(fault.settings)
    assert _published_files(fault.settings.layout) == fault.published
    assert _state(fault.settings.layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "A"), "A")
    assert list(fault.settings.warehouse_dir.rglob("*.tmp")) == []  # the half-written file is removed
    fault.cure()
    build_warehouse(fault.settings)
    _assert_finished(fault.settings.layout, good, "B")


def test_papertrends_build_names_the_cause_when_writing_candidates_fails(good, candidate_writes_fail_with_enospc, capsys):
    fault = candidate_writes_fail_with_enospc
    assert cli_build(fault.settings) == 1
    line = _the_line(capsys.readouterr().err)
    assert line.startswith("papertrends: build failed in consolidated_tables")
    assert "No space left on device" in line
    assert "; nothing was published: the previous tables and trends.duckdb are as they were" in line
    assert _published_files(fault.settings.layout) == fault.published
    assert _state(fault.settings.layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "A"), "A")


@pytest.fixture
def trends_db_rename_fails(good, tmp_path, request):
    """A write fails (EIO) after the tables were published: renaming the new trends.duckdb
    into place, or (param "sync after the switch") syncing the warehouse after parquet/ was switched.

    `previous_build` is the time trends.duckdb of A records.
    """
    settings = Settings(tmp_path / "warehouse", good["A"].digests_dir, None)
    build_warehouse(settings)
    with duckdb.connect(str(settings.layout.duckdb_path), read_only=True) as con:
        (built_at,) = con.execute("SELECT built_at FROM build_info").fetchone()
    patch = pytest.MonkeyPatch()
    if getattr(request, "param", None) == "sync after the switch":
        sync = pipeline.store.publish.fsync_path

        def fsync_path(path):
            if path == settings.layout.root:
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            sync(path)

        patch.setattr(pipeline.store.publish, "fsync_path", fsync_path)
    else:
        original = os.replace

        def replace(source, destination, **kwargs):
            if Path(destination).name == "trends.duckdb":
                raise OSError(errno.EIO, os.strerror(errno.EIO))
            return original(source, destination, **kwargs)

        patch.setattr(os, "replace", replace)
    settings_b = Settings(settings.warehouse_dir, good["B"].digests_dir, None)
    yield _Fault(settings_b, _published_files(settings.layout), patch, built_at.isoformat(timespec="seconds"))
    patch.undo()


@pytest.mark.slow
@pytest.mark.parametrize("trends_db_rename_fails", ["trends.duckdb not renamed", "sync after the switch"], indirect=True)
def test_a_failure_after_the_parquet_switch_says_what_was_published(good, trends_db_rename_fails):
    fault = trends_db_rename_fails
    with pytest.raises(PartialPublish) as raised:
        build_warehouse(fault.settings)
    message = str(raised.value)
    assert "tables published" in message and f"trends.duckdb still holds the build of {fault.previous_build}" in message
    assert "Input/output error" in message and "untouched" not in message
    # The tables are B's; trends.duckdb is still A's whole build, readable.
    assert _state(fault.settings.layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "B"), "A")
    fault.cure()
    build_warehouse(fault.settings)
    _assert_finished(fault.settings.layout, good, "B")


@pytest.mark.slow
def test_papertrends_build_says_what_was_published_when_trends_db_is_not_renamed(good, trends_db_rename_fails, capsys):
    fault = trends_db_rename_fails
    assert cli_build(fault.settings) == 1
    line = _the_line(capsys.readouterr().err)
    assert line.startswith("papertrends: build failed in trends_duckdb")
    assert f"tables published; trends.duckdb still holds the build of {fault.previous_build}: rerun to finish" in line
    assert "untouched" not in line and "nothing was published" not in line
    assert _state(fault.settings.layout, good) == (dict.fromkeys(TABLES_WITH_ROWS, "B"), "A")
    fault.cure()
    assert cli_build(fault.settings) == 0
    capsys.readouterr()
    _assert_finished(fault.settings.layout, good, "B")
