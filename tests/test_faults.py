"""Faults: rebuilds, kill -9 at any point, concurrent readers, a full or read-only disk.

Two inputs, A (the samples) and B (the samples plus a digest that adds a day, papers,
links and rejects), are built once into known-good snapshots; every fault leaves the
published tables equal to one of them, table by table.
"""

import errno
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from assets import cli
from assets.build import materialize_warehouse
from pipeline.build import build_warehouse
from pipeline.table_parts import read_plan, read_published, written_files
from pipeline.config import Settings
from pipeline.schemas import TABLES
from pipeline.staging import list_digest_files
from pipeline.warehouse_db import VIEWS, connect_readonly
from tests.helpers import REPO, SAMPLES, abstract, render

SEED = 20260311
RANDOM_KILLS = 14
# Points where the child kills itself with SIGKILL: exactly inside each step.
INJECTED_KILLS = (
    "staging_write",  # a staging Parquet file written, not yet renamed
    "candidate_write",  # a consolidated table half written (after its first batch)
    "after_consolidate",  # between the tables step and the publish step
    "mid_publish",  # two of five tables renamed into place
    "duckdb_build",  # views created in the temporary DuckDB file, not yet renamed
    "after_duckdb_rename",  # trends.duckdb renamed, directory not yet synced
)


def _extra_digest() -> str:
    """A digest on a new day: new papers with links, and two rejected blocks."""
    entries = [
        (f"Crash-safe pipeline paper {n}", abstract(f"crash {n}", 20) + f" Code: https://github.com/crash/repo{n}.")
        for n in range(200)
    ]
    return render("Mar 15", entries) + "\n\nA last title with no abstract\n\nAnother title then nothing"


def _corpus(root: Path, with_extra: bool) -> Path:
    directory = root / ("raw-b" if with_extra else "raw-a")
    directory.mkdir(parents=True)
    for path in SAMPLES.iterdir():
        if path.is_file() and not path.name.startswith("."):
            shutil.copyfile(path, directory / path.name)
    if with_extra:
        (directory / "005_extra_2026-03-15.txt").write_text(_extra_digest())
    return directory


def _table_contents(layout) -> dict[str, pa.Table]:
    """Every published table, rows in file order, without ingested_at (it differs per warehouse)."""
    contents = {}
    for table in TABLES:
        data = read_published(layout, table)
        if "ingested_at" in data.column_names:
            data = data.drop_columns(["ingested_at"])
        contents[table] = data
    return contents


def _view_counts(path: Path) -> dict[str, int]:
    with connect_readonly(path) as con:
        return {view: con.execute(f"SELECT count(*) FROM {view}").fetchone()[0] for view in VIEWS}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """Digests directories A and B and their known-good snapshots, each from a fresh build."""
    root = tmp_path_factory.mktemp("corpora")
    snapshots = {}
    for label, with_extra in (("A", False), ("B", True)):
        settings = Settings(root / f"good-{label}", _corpus(root, with_extra), None)
        build_warehouse(settings)
        snapshots[label] = {
            "digests_dir": settings.digests_dir,
            "tables": _table_contents(settings.layout),
            "views": _view_counts(settings.layout.duckdb_path),
            "parts": {table: [path.name for path in settings.layout.table_files(table)] for table in TABLES},
        }
    # The two must differ in every table and view, or a test could not tell them apart.
    for table in TABLES:
        assert not snapshots["A"]["tables"][table].equals(snapshots["B"]["tables"][table]), table
    for view in VIEWS:
        assert snapshots["A"]["views"][view] != snapshots["B"]["views"][view], view
    return snapshots


# --- idempotency ---------------------------------------------------------------------


def _published_tables(layout):
    return {table: read_published(layout, table) for table in TABLES}


def test_building_twice_gives_identical_tables_and_row_order(corpora, tmp_path):
    settings = Settings(tmp_path / "warehouse", corpora["B"]["digests_dir"], None)
    build_warehouse(settings)
    first = _published_tables(settings.layout)
    first_views = _view_counts(settings.layout.duckdb_path)
    # Once with the staging kept, once re-parsing everything from scratch.
    build_warehouse(settings)
    second = _published_tables(settings.layout)
    shutil.rmtree(settings.layout.staging_dir)
    build_warehouse(settings)
    third = _published_tables(settings.layout)
    for table in TABLES:
        assert second[table].equals(first[table]), table  # ingested_at and row order included
        assert third[table].equals(first[table]), table
    assert _view_counts(settings.layout.duckdb_path) == first_views


def test_dagster_reparsing_everything_gives_identical_tables(tmp_path):
    """materialize_warehouse twice, the second time with the staging gone: same tables."""
    digests = tmp_path / "raw"
    digests.mkdir()
    shutil.copyfile(SAMPLES / "000_5909103161d329a2.txt", digests / "000.txt")
    (digests / "001_with_rejects.txt").write_text(_extra_digest())
    settings = Settings(tmp_path / "warehouse", digests, None)
    names = list_digest_files(digests)
    with dg.instance_for_test() as instance:
        assert materialize_warehouse(settings, instance, names).result.success
        first = _published_tables(settings.layout)
        shutil.rmtree(settings.layout.staging_dir)
        run = materialize_warehouse(settings, instance, names)
        assert run.result.success and run.parsed_range == (names[0], names[-1])
    assert first["rejects"].num_rows == 2 and first["appearances"].num_rows == 81 + 200
    for table in TABLES:
        assert _published_tables(settings.layout)[table].equals(first[table]), table


# --- kill -9 ---------------------------------------------------------------------------

_CHILD = r"""
import os, signal, sys, time
from pathlib import Path
import pyarrow.dataset  # the build imports it lazily (0.5 s): here, so kills land in the build
import pyarrow.parquet as pq
import pipeline.atomic, pipeline.build, pipeline.publish, pipeline.warehouse_db
from pipeline.config import Settings

# Imports done: wait for the job, so a spare child can start while the test checks.
print("ready", flush=True)
warehouse, digests, inject = sys.stdin.readline().rstrip("\n").split("\t")

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def kill_after(module, name):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        original(*args, **kwargs)
        die()
    setattr(module, name, wrapper)

if inject == "staging_write":
    # Inside atomic_path: the temporary file is complete, the rename never happens.
    original_write_table = pq.write_table
    def write_then_die(table, where, **kwargs):
        original_write_table(table, where, **kwargs)
        die()
    pq.write_table = write_then_die
elif inject == "candidate_write":
    original_writer_write = pq.ParquetWriter.write_table
    def write_batch_then_die(self, table, *args, **kwargs):
        original_writer_write(self, table, *args, **kwargs)
        die()
    pq.ParquetWriter.write_table = write_batch_then_die
elif inject == "after_consolidate":
    kill_after(pipeline.build, "consolidate")
elif inject in ("mid_publish", "after_duckdb_rename"):
    # os.replace is shared by every module: die after the right rename only.
    original_replace = os.replace
    renamed_tables = [0]
    def replace_then_die(source, destination):
        original_replace(source, destination)
        name = Path(destination).name
        if Path(destination).parent.parent.name == "parquet":  # a part of a published table
            renamed_tables[0] += 1
        if (inject == "mid_publish" and renamed_tables[0] == 2) or (inject == "after_duckdb_rename" and name == "trends.duckdb"):
            die()
    os.replace = replace_then_die
elif inject == "duckdb_build":
    kill_after(pipeline.warehouse_db, "create_views")
print("started", flush=True)
started = time.monotonic()
pipeline.build.build_warehouse(Settings(Path(warehouse), Path(digests), None))
print(f"done {time.monotonic() - started:.3f}", flush=True)
"""


class _Children:
    """Build processes started ahead of need: each waits, imports done, for its job."""

    def __init__(self):
        self.spare = self._spawn()

    @staticmethod
    def _spawn() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", _CHILD],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def start(self, warehouse: Path, digests: Path, inject: str = "none") -> subprocess.Popen:
        child, self.spare = self.spare, self._spawn()
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        child.stdin.write(f"{warehouse}\t{digests}\t{inject}\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "started", child.stderr.read()
        return child

    def close(self) -> None:
        self.spare.kill()
        self.spare.communicate()


def _published_state(settings, corpora) -> dict[str, str]:
    """Which snapshot each published table equals ("A" or "B"); fails on anything else."""
    layout = settings.layout
    contents = _table_contents(layout)
    state = {}
    for table in TABLES:
        matches = [label for label in ("A", "B") if contents[table].equals(corpora[label]["tables"][table])]
        assert matches, f"{table} is neither the previous nor the new good table"
        state[table] = matches[0]
        # Only the published parts answer to a reader's glob: temporaries are hidden *.tmp.
        visible = sorted(path.name for path in layout.table_dir(table).rglob("*.parquet"))
        assert visible == corpora[matches[0]]["parts"][table], visible
    # Hidden temporaries of a killed run may remain (the next run removes them), never a
    # second visible DuckDB file or a write-ahead log beside the published one.
    assert sorted(path.name for path in layout.root.glob("*.duckdb*") if not path.name.startswith(".")) == ["trends.duckdb"]
    # trends.duckdb reads one snapshot whole: every view, trend views too, of A or of B.
    assert _view_counts(layout.duckdb_path) in (corpora["A"]["views"], corpora["B"]["views"])
    return state


def test_kill_9_at_any_point_leaves_good_tables_and_a_rerun_is_correct(corpora, tmp_path):
    rng = random.Random(SEED)
    settings = Settings(tmp_path / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    assert _published_state(settings, corpora) == dict.fromkeys(TABLES, "A")

    # One unkilled run from A to B: how long a build takes, for the random kill times.
    children = _Children()
    try:
        _kill_repeatedly(settings, corpora, children, rng)
    finally:
        children.close()


def _kill_repeatedly(settings, corpora, children, rng) -> None:
    child = children.start(settings.warehouse_dir, corpora["B"]["digests_dir"])
    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err
    build_seconds = float(out.split()[-1])
    assert _published_state(settings, corpora) == dict.fromkeys(TABLES, "B")

    plan = [(inject, None) for inject in INJECTED_KILLS] + [("none", rng.uniform(0, build_seconds)) for _ in range(RANDOM_KILLS)]
    rng.shuffle(plan)
    # A staging write happens only on the way to B (the extra digest is parsed); on the way
    # to A the first Parquet writer is a candidate table's. Otherwise the target alternates.
    needs = {"staging_write": "B", "candidate_write": "A"}
    state = "B"
    killed = 0
    for inject, delay in plan:
        target = needs.get(inject, "A" if state == "B" else "B")
        if target == state:
            build_warehouse(Settings(settings.warehouse_dir, corpora["A" if target == "B" else "B"]["digests_dir"], None))
        child = children.start(settings.warehouse_dir, corpora[target]["digests_dir"], inject)
        if delay is not None:
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
        child.communicate(timeout=300)
        killed += child.returncode == -signal.SIGKILL
        published = _published_state(settings, corpora)
        if inject == "mid_publish":
            # Two tables are new, three old: each whole, and trends.duckdb still reads one build.
            assert sorted(published.values()) == sorted([target] * 2 + [state] * 3)
        # A rerun ends with the new good tables, and no temporary file is left.
        build_warehouse(Settings(settings.warehouse_dir, corpora[target]["digests_dir"], None))
        assert _published_state(settings, corpora) == dict.fromkeys(TABLES, target)
        assert list(settings.warehouse_dir.rglob("*.tmp")) == []
        state = target
    assert len(plan) >= 20
    # Every injected kill fires; random delays may outlast a build.
    assert killed >= len(INJECTED_KILLS)


def test_kill_9_between_dagster_assets_then_rerun(corpora, tmp_path):
    """Killed in trends_duckdb, after the tables step wrote its candidates: nothing published."""
    settings = Settings(tmp_path / "warehouse", corpora["A"]["digests_dir"], None)
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_bytes((REPO / "dagster.yaml").read_bytes())
    child_code = r"""
import os, signal, sys
from pathlib import Path
import dagster as dg
import assets.warehouse
from assets.build import materialize_warehouse
from pipeline.config import Settings
from pipeline.staging import list_digest_files
def die(layout, required_checks=()):
    os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[3] == "kill":
    assets.warehouse.publish_candidates = die
settings = Settings(Path(sys.argv[1]), Path(sys.argv[2]), None)
with dg.DagsterInstance.get() as instance:
    assert materialize_warehouse(settings, instance, list_digest_files(settings.digests_dir)).result.success
"""
    env = {**os.environ, "DAGSTER_HOME": str(home)}

    def run(digests, mode):
        return subprocess.run(
            [sys.executable, "-c", child_code, str(settings.warehouse_dir), str(digests), mode],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )

    build_warehouse(settings)
    killed = run(corpora["B"]["digests_dir"], "kill")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert _published_state(settings, corpora) == dict.fromkeys(TABLES, "A")
    plan = read_plan(settings.layout)  # candidates of every table, written and waiting
    assert all(path.exists() for paths in written_files(settings.layout, plan).values() for path in paths)
    assert all(plan[table].write for table in TABLES)
    build_warehouse(Settings(settings.warehouse_dir, corpora["B"]["digests_dir"], None))
    assert _published_state(settings, corpora) == dict.fromkeys(TABLES, "B")


# --- concurrent readers ------------------------------------------------------------------

_READER = r"""
import json, sys, os
import duckdb
path, stop, kind, views = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
# All views in one query: a mix of two builds would show as a combination of counts.
query = "SELECT " + ", ".join(f"(SELECT count(*) FROM {view})" for view in views)
# "held": one connection opened before the rebuilds, kept throughout. "fresh": a new
# connection per query (its own process: DuckDB shares one open database per process).
held = duckdb.connect(path, read_only=True) if kind == "held" else None
print(json.dumps({"ready": True}), flush=True)
while not os.path.exists(stop):
    try:
        if held is not None:
            counts = held.execute(query).fetchone()
        else:
            with duckdb.connect(path, read_only=True) as con:
                counts = con.execute(query).fetchone()
        print(json.dumps({"kind": kind, "counts": list(counts)}), flush=True)
    except Exception as error:
        print(json.dumps({"kind": kind, "error": f"{type(error).__name__}: {error}"}), flush=True)
"""


def test_readers_see_only_complete_snapshots_during_three_rebuilds(corpora, tmp_path):
    settings = Settings(tmp_path / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    stop = tmp_path / "stop"
    logs = {kind: tmp_path / f"{kind}.jsonl" for kind in ("held", "fresh")}
    snapshot = {label: [corpora[label]["views"][view] for view in VIEWS] for label in ("A", "B")}
    readers = {}
    try:
        for kind, log in logs.items():
            with open(log, "w") as output:
                command = [sys.executable, "-c", _READER, str(settings.layout.duckdb_path), str(stop), kind, ",".join(VIEWS)]
                readers[kind] = subprocess.Popen(command, stdout=output, stderr=subprocess.PIPE, text=True)
        for log in logs.values():
            _wait_for(log, lambda results: len(results) >= 1)
        for target in ("B", "A", "B"):
            done = {kind: len(_results(log)) for kind, log in logs.items()}
            build_warehouse(Settings(settings.warehouse_dir, corpora[target]["digests_dir"], None))
            # Go on once a new connection has read the new build and the held one read again.
            _wait_for(logs["fresh"], lambda results: any(r.get("counts") == snapshot[target] for r in results[done["fresh"]:]))
            _wait_for(logs["held"], lambda results: len(results) > done["held"])
    finally:
        stop.touch()
        for reader in readers.values():
            reader.wait(timeout=60)
    for kind, reader in readers.items():
        assert reader.returncode == 0, reader.stderr.read()
    held, fresh = _results(logs["held"]), _results(logs["fresh"])
    assert [result for result in held + fresh if "error" in result] == []
    # Every query saw one whole build: all nine counts of A or all nine of B.
    assert all(result["counts"] in (snapshot["A"], snapshot["B"]) for result in held + fresh)
    # The connection opened before the rebuilds keeps its snapshot (A); new ones see each build.
    assert {tuple(result["counts"]) for result in held} == {tuple(snapshot["A"])}
    assert {tuple(result["counts"]) for result in fresh} == {tuple(snapshot["A"]), tuple(snapshot["B"])}


def _results(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()[1:] if line.endswith("}")]


def _wait_for(log: Path, condition, timeout: float = 120) -> None:
    """Wait until the reader's results satisfy `condition`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition(_results(log)):
            return
        time.sleep(0.02)
    raise AssertionError("the reader made no progress")


_COUNT_APPEARANCES = "import sys, duckdb; print(duckdb.connect(sys.argv[1], read_only=True).execute('SELECT count(*) FROM appearances').fetchone()[0])"


def test_a_reader_holding_the_old_file_keeps_working_and_new_connections_see_the_new(corpora, tmp_path):
    settings = Settings(tmp_path / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    path = settings.layout.duckdb_path
    old_inode = path.stat().st_ino
    count_in_new_process = [sys.executable, "-c", _COUNT_APPEARANCES, str(path)]
    with connect_readonly(path) as held:
        for target in ("B", "A"):
            build_warehouse(Settings(settings.warehouse_dir, corpora[target]["digests_dir"], None))
            assert path.stat().st_ino != old_inode  # a new file was renamed over the old one
            # The old connection still answers, from the build it was opened on.
            assert held.execute("SELECT count(*) FROM appearances").fetchone()[0] == corpora["A"]["views"]["appearances"]
            # A new connection (another process: DuckDB shares one open database per process).
            fresh = subprocess.run(count_in_new_process, capture_output=True, text=True, check=True)
            assert int(fresh.stdout) == corpora[target]["views"]["appearances"]
    assert _view_counts(path) == corpora["A"]["views"]


def test_old_snapshots_are_pruned_and_the_current_one_kept(corpora, tmp_path, monkeypatch):
    import pipeline.warehouse_db as warehouse_db

    monkeypatch.setattr(warehouse_db, "SNAPSHOT_GRACE_SECONDS", 0)
    settings = Settings(tmp_path / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    for _ in range(warehouse_db.KEEP_SNAPSHOTS + 1):
        warehouse_db.build_duckdb(settings.layout)
    snapshots = sorted(settings.layout.snapshots_dir.iterdir())
    assert len(snapshots) == warehouse_db.KEEP_SNAPSHOTS
    with connect_readonly(settings.layout.duckdb_path) as con:
        (sql,) = con.execute("SELECT sql FROM duckdb_views() WHERE view_name = 'papers'").fetchone()
    assert f"'{snapshots[-1] / 'papers'}/" in sql and str(settings.layout.parquet_dir) not in sql
    assert _view_counts(settings.layout.duckdb_path) == corpora["A"]["views"]


# --- full or read-only disk ----------------------------------------------------------------


@pytest.fixture
def small_tmpfs(tmp_path):
    """A real 4 MB file system (root only): writes beyond it fail with ENOSPC."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the ENOSPC simulation below still runs")
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


def test_a_full_disk_gives_a_clear_error_and_keeps_the_good_tables(corpora, small_tmpfs):
    settings = Settings(small_tmpfs / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    before = _published_tables(settings.layout)
    _fill(small_tmpfs)
    with pytest.raises(OSError) as raised:
        build_warehouse(Settings(settings.warehouse_dir, corpora["B"]["digests_dir"], None))
    assert raised.value.errno == errno.ENOSPC or "No space left on device" in str(raised.value)
    for table in TABLES:
        assert read_published(settings.layout, table).equals(before[table]), table
    assert _view_counts(settings.layout.duckdb_path) == corpora["A"]["views"]
    # Space again: the next build is correct.
    (small_tmpfs / "filler").unlink()
    build_warehouse(Settings(settings.warehouse_dir, corpora["B"]["digests_dir"], None))
    contents = _table_contents(settings.layout)
    assert all(contents[table].equals(corpora["B"]["tables"][table]) for table in TABLES)


@pytest.fixture
def parquet_writes_fail_with_enospc(corpora, tmp_path, monkeypatch):
    """A good build of corpus A, then every Parquet write raises ENOSPC; yields (settings, tables before)."""
    settings = Settings(tmp_path / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    before = _published_tables(settings.layout)

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(pq.ParquetWriter, "write_table", no_space)
    return settings, before


def test_a_simulated_enospc_while_writing_parquet_keeps_the_good_tables(corpora, parquet_writes_fail_with_enospc):
    """Without root there is no small file system: the Parquet writer raises ENOSPC instead."""
    settings, before = parquet_writes_fail_with_enospc
    with pytest.raises(OSError, match="No space left on device"):
        build_warehouse(Settings(settings.warehouse_dir, corpora["B"]["digests_dir"], None))
    for table in TABLES:
        assert read_published(settings.layout, table).equals(before[table]), table
    assert list(settings.warehouse_dir.rglob("*.tmp")) == []


def test_a_read_only_warehouse_gives_a_clear_error_and_keeps_the_good_tables(corpora, small_tmpfs):
    settings = Settings(small_tmpfs / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    before = _published_tables(settings.layout)
    subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], check=True)
    try:
        from pipeline.config import ConfigError

        with pytest.raises(ConfigError, match="not writable"):
            build_warehouse(Settings(settings.warehouse_dir, corpora["B"]["digests_dir"], None))
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_tmpfs)], check=True)
    for table in TABLES:
        assert read_published(settings.layout, table).equals(before[table]), table


def _cli_build(monkeypatch, capsys, settings) -> tuple[int, str]:
    monkeypatch.setenv("PAPERTRENDS_WAREHOUSE_DIR", str(settings.warehouse_dir))
    monkeypatch.setenv("PAPERTRENDS_DIGESTS_DIR", str(settings.digests_dir))
    monkeypatch.setenv("DAGSTER_HOME", "")
    monkeypatch.delenv("DAGSTER_HOME")  # unset again after the test, though the CLI sets it
    code = cli.main(["build"])
    return code, capsys.readouterr().err


def test_papertrends_build_on_a_full_disk_says_so_in_one_line(corpora, small_tmpfs, monkeypatch, capsys):
    settings = Settings(small_tmpfs / "warehouse", corpora["A"]["digests_dir"], None)
    build_warehouse(settings)
    before = _published_tables(settings.layout)
    _fill(small_tmpfs)
    code, stderr = _cli_build(monkeypatch, capsys, Settings(settings.warehouse_dir, corpora["B"]["digests_dir"], None))
    assert code == 1
    (line,) = stderr.strip().splitlines()
    assert line.startswith("papertrends: build failed") and f"(the disk holding {settings.warehouse_dir} is full)" in line
    for table in TABLES:
        assert read_published(settings.layout, table).equals(before[table]), table


def test_papertrends_build_names_the_cause_when_a_step_fails(corpora, parquet_writes_fail_with_enospc, monkeypatch, capsys):
    settings, before = parquet_writes_fail_with_enospc
    code, stderr = _cli_build(monkeypatch, capsys, Settings(settings.warehouse_dir, corpora["B"]["digests_dir"], None))
    assert code == 1
    # Dagster logs the step's error above; the last line is the one-line summary.
    line = stderr.strip().splitlines()[-1]
    assert line.startswith("papertrends: build failed in step(s) parsed_digest")
    assert "No space left on device" in line and "the previous tables are untouched" in line
    for table in TABLES:
        assert read_published(settings.layout, table).equals(before[table]), table
