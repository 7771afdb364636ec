"""The table validations in a worker started ahead (pipeline.validation_pool)."""

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import pytest

from pipeline import validation_pool
from pipeline.schemas import TABLES


def _jobs(layout) -> validation_pool.Jobs:
    return {table: (layout.table_files(table), layout.table_files("digests")) for table in TABLES}


def _without_time(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "validated_at"}


@pytest.fixture
def worker():
    """A worker started ahead and taken, as the checks take it."""
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


def test_a_worker_killed_mid_validation_fails_each_table_with_the_cause(sample_settings, worker):
    worker.submit(int).result()
    [process] = list(worker._processes.values())  # noqa: SLF001
    with ThreadPoolExecutor(validation_pool.THREADS) as threads:
        futures = validation_pool.validate_tables(_jobs(sample_settings.layout), threads, worker)
        os.kill(process.pid, signal.SIGKILL)
        for future in futures.values():
            with pytest.raises(BrokenProcessPool):
                future.result(timeout=60)


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
