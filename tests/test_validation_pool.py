"""The table validations in a worker started ahead (pipeline.validation_pool)."""

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path

import pytest

from pipeline import incremental, validation_pool
from pipeline.schemas import TABLES
from tests.helpers import REPO


def _jobs(layout) -> validation_pool.Jobs:
    return {table: (layout.table_files(table), layout.table_files("digests")) for table in TABLES}


def _without_time(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "validated_at"}


@pytest.fixture
def worker(monkeypatch):
    """A worker started ahead and taken, as the checks take it."""
    monkeypatch.setattr(validation_pool, "worth_starting", lambda: True)  # GX may be imported here already
    started = validation_pool.start_ahead()
    assert validation_pool.start_ahead() is started  # started once
    assert validation_pool.take() is started and validation_pool.take() is None  # handed over once
    yield started
    started.shutdown(wait=True, cancel_futures=True)


def test_the_worker_gives_the_results_of_this_process(sample_settings, worker):
    jobs = _jobs(sample_settings.layout)
    with ThreadPoolExecutor(validation_pool.THREADS) as threads:
        here = {table: future.result() for table, future in validation_pool.validate_tables(jobs, threads).items()}
        there = {table: future.result() for table, future in validation_pool.validate_tables(jobs, threads, worker).items()}
    assert worker.submit(os.getpid).result() != os.getpid()
    assert {table: _without_time(result) for table, result in there.items()} == {table: _without_time(result) for table, result in here.items()}
    assert [there[table]["success"] for table in TABLES] == [True] * len(TABLES)
    assert there["papers"]["row_count"] == 298 and there["appearances"]["row_count"] == 358


def test_an_error_in_the_worker_fails_only_its_table(sample_settings, worker, tmp_path):
    jobs = _jobs(sample_settings.layout)
    jobs["papers"] = ([tmp_path / "gone.parquet"], jobs["papers"][1])
    with ThreadPoolExecutor(validation_pool.THREADS) as threads:
        futures = validation_pool.validate_tables(jobs, threads, worker)
        with pytest.raises(Exception, match="gone.parquet"):
            futures["papers"].result()
        assert all(futures[table].result()["success"] for table in TABLES if table != "papers")


def test_a_worker_dead_before_any_work_leaves_the_work_to_this_process(sample_settings, worker):
    worker.submit(int).result()  # started
    for process in list(worker._processes.values()):  # noqa: SLF001 - the one worker process
        os.kill(process.pid, signal.SIGKILL)
    with pytest.raises(BrokenProcessPool):
        worker.submit(int).result()
    with ThreadPoolExecutor(validation_pool.THREADS) as threads:
        futures = validation_pool.validate_tables(_jobs(sample_settings.layout), threads, worker)
        assert all(future.result()["success"] for future in futures.values())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_a_worker_killed_mid_validation_leaves_the_suites_to_this_process(sample_settings, worker):
    worker.submit(int).result()  # GX imported: from here on, the worker's CPU is the suites'
    [process] = list(worker._processes.values())  # noqa: SLF001
    idle = _cpu_seconds(process.pid)
    with ThreadPoolExecutor(validation_pool.THREADS) as threads:
        futures = validation_pool.validate_tables(_jobs(sample_settings.layout), threads, worker)
        deadline = time.monotonic() + 30
        while _cpu_seconds(process.pid) < idle + 0.05 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert not any(future.done() for future in futures.values())  # still validating
        os.kill(process.pid, signal.SIGKILL)
        results = {table: future.result(timeout=60) for table, future in futures.items()}
    assert [results[table]["success"] for table in TABLES] == [True] * len(TABLES)
    assert results["papers"]["row_count"] == 298


class _TwoArgumentError(Exception):
    def __init__(self, path, reason):
        super().__init__(f"{path}: {reason}")


def test_an_error_that_cannot_be_pickled_comes_back_as_its_text():
    error = validation_pool._picklable(_TwoArgumentError("x.parquet", "unreadable"))  # noqa: SLF001
    assert type(error) is RuntimeError and str(error) == "_TwoArgumentError: x.parquet: unreadable"
    kept = OSError(2, "gone")
    assert validation_pool._picklable(kept) is kept  # noqa: SLF001


def test_a_worker_that_cannot_start_leaves_the_checks_to_this_process(monkeypatch):
    def no_processes(self, *args, **kwargs):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(validation_pool.ProcessPoolExecutor, "submit", no_processes)
    assert validation_pool.start_ahead() is None
    assert validation_pool.take() is None


def test_a_worker_is_started_only_where_a_core_is_idle_and_gx_is_not_imported():
    code = (
        "import os, sys; from pipeline import validation_pool\n"
        "before = validation_pool.worth_starting()\n"
        "import great_expectations\n"
        "print(before == (len(os.sched_getaffinity(0)) > 1), validation_pool.worth_starting(), validation_pool.start_ahead())"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["True", "False", "None"]


def _run_that_stops_before_the_checks(started):
    validation_pool.worth_starting = lambda: True
    pool = validation_pool.start_ahead()
    pool.submit(int).result()
    started.set()  # the run's parse is over; it fails before table_checks takes the worker


def test_a_run_process_ends_even_when_no_check_took_its_worker():
    """Dagster runs each run in a process started by multiprocessing (spawn), whose exit
    joins the process's children: an idle worker left there would hold it forever."""
    context = get_context("spawn")
    started = context.Event()
    run = context.Process(target=_run_that_stops_before_the_checks, args=(started,))
    run.start()
    assert started.wait(60)
    run.join(timeout=30)
    hung = run.is_alive()
    if hung:
        run.kill()
        run.join()
    assert not hung and run.exitcode == 0


_OWNER = """
import os, sys, time
from multiprocessing import forkserver
from pipeline import validation_pool
from pipeline.incremental import worker_pool
if sys.argv[1] == "validation":
    validation_pool.worth_starting = lambda: True
    pool = validation_pool.start_ahead()
else:  # a pool made as stage_digests makes its own
    pool = worker_pool(2)
print(pool.submit(os.getpid).result(), forkserver._forkserver._forkserver_pid, flush=True)
time.sleep(600)
"""


@pytest.mark.parametrize("pool", ["validation", "staging"])
def test_workers_end_when_the_process_that_owns_their_pool_is_killed(pool):
    owner = subprocess.Popen([sys.executable, "-c", _OWNER, pool], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        worker_pid, forkserver_pid = map(int, owner.stdout.readline().split())
        assert incremental.is_running(worker_pid) and incremental.is_running(forkserver_pid)
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 15
    while (incremental.is_running(worker_pid) or incremental.is_running(forkserver_pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not incremental.is_running(worker_pid), "the worker outlived its pool's owner"
    assert not incremental.is_running(forkserver_pid), "the forkserver outlived its pool's owner"


def test_is_running_tells_a_live_process_from_an_ended_or_zombie_one():
    assert incremental.is_running(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 15
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not incremental.is_running(child.pid)  # exited, not yet reaped
    child.wait()
    assert not incremental.is_running(child.pid)  # gone


def test_is_running_without_procfs_asks_the_kernel(monkeypatch):
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: False if str(self) == "/proc/self/stat" else real_exists(self))
    assert incremental.is_running(os.getpid())
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not incremental.is_running(child.pid)
