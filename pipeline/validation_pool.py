"""The table validations on two threads, here or in a worker that imported GX ahead.

GX's import takes about 2 s of one core. In the run's own process it competes for
the GIL with whatever runs there, and during a parse for the cores too. Started when
a large parse ends (`start_ahead`), a worker process imports it on the core that the
run's single-threaded bookkeeping leaves idle (Dagster storing one event per digest);
the checks then validate the tables there (`take`, `validate_tables`) while the run's
process runs the checks across tables. Without a started worker, or when the worker
dies, the same validations run on two threads of the calling process.
"""

import os
import pickle
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import util
from pathlib import Path

from pipeline.incremental import worker_pool

# Two threads: one table's DuckDB and Arrow reads, which release the GIL, overlap
# another's GX work (GX itself runs one validation at a time: expectations._GX_TURN).
THREADS = 2

# table -> (its Parquet files to validate, the digests table's files)
Jobs = dict[str, tuple[list[Path], list[Path]]]

_started: ProcessPoolExecutor | None = None


def _prepare_worker() -> None:
    # Ctrl-C reaches the whole process group: the run's process handles it and stops
    # the worker, which would otherwise die with a traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import great_expectations  # noqa: F401


def worth_starting() -> bool:
    """Whether a worker gains anything here: a second core to import on, and no GX yet."""
    return len(os.sched_getaffinity(0)) > 1 and "great_expectations" not in sys.modules


def start_ahead() -> ProcessPoolExecutor | None:
    """Start the worker and its GX import now (once: a started worker is kept).

    Not started where it would gain nothing (worth_starting). A worker that cannot
    start is no error either: the checks then validate in this process.
    """
    global _started
    if _started is None and worth_starting():
        # One worker: a second would import GX again, on a core that is not idle.
        pool = worker_pool(1, _prepare_worker)
        try:
            pool.submit(int)  # the pool starts its worker on the first task
        except (OSError, RuntimeError):
            pool.shutdown(wait=False, cancel_futures=True)
            return None
        _started = pool
        # Run by multiprocessing's exit function before it joins the process's children
        # (and at exit in any process): a process started by multiprocessing, as Dagster
        # starts each run's, would otherwise wait at exit for a worker waiting for work.
        # Priority 100: before the pool's own queues close (priority 10), or the worker
        # never receives its stop. Registered here, not on import: such a process
        # forgets the finalizers registered while it unpickled its target.
        util.Finalize(None, _stop_unused, exitpriority=100)
    return _started


def take() -> ProcessPoolExecutor | None:
    """The worker started ahead, if any, handed over to the caller, who shuts it down."""
    global _started
    pool, _started = _started, None
    return pool


def suite_result(table: str, paths: list[Path], digests_paths: list[Path]) -> dict:
    """One table's suite, as validation_docs.table_result."""
    from pipeline.expectations import validate_table_file
    from pipeline.validation_docs import table_result

    return table_result(validate_table_file(table, paths, digests_paths))


def validate_tables(jobs: Jobs, threads: ThreadPoolExecutor, worker: ProcessPoolExecutor | None = None) -> dict[str, Future]:
    """A future of each table's result: from the worker if given, else from `threads`.

    A worker that dies (or whose GX import failed) hands its tables back to `threads`.
    """
    try:
        batch = worker.submit(_results_or_errors, jobs) if worker is not None else None
    except RuntimeError:  # BrokenProcessPool: the worker died before any work
        batch = None
    if batch is None:
        return {table: threads.submit(suite_result, table, *files) for table, files in jobs.items()}
    futures: dict[str, Future] = {table: Future() for table in jobs}

    def settle(done: Future) -> None:
        try:
            results = done.result()
        except BrokenProcessPool:
            for table, files in jobs.items():
                try:
                    _relay(threads.submit(suite_result, table, *files), futures[table])
                except RuntimeError as error:  # the threads are shut down: the step was interrupted
                    futures[table].set_exception(error)
            return
        except BaseException as error:  # noqa: BLE001 - e.g. a result that would not pickle
            results = {table: error for table in jobs}
        for table, result in results.items():
            _settle(futures[table], result)

    batch.add_done_callback(settle)
    return futures


def _settle(future: Future, result: object) -> None:
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _relay(source: Future, target: Future) -> None:
    """Settle `target` as `source` ends."""

    def copy(done: Future) -> None:
        if done.cancelled():
            target.cancel()
        else:
            _settle(target, done.exception() or done.result())

    source.add_done_callback(copy)


def _results_or_errors(jobs: Jobs) -> dict[str, dict | Exception]:
    """In the worker: each table's result, or the error that stopped it."""
    with ThreadPoolExecutor(THREADS, thread_name_prefix="check") as threads:
        futures = validate_tables(jobs, threads)
        results: dict[str, dict | Exception] = {}
        for table, future in futures.items():
            try:
                results[table] = future.result()
            except Exception as error:  # noqa: BLE001 - reported as that table's check failing
                results[table] = _picklable(error)
    return results


def _picklable(error: Exception) -> Exception:
    """The error, or its text if it cannot travel back (some library errors do not pickle)."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # noqa: BLE001 - any failure to round-trip
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def _stop_unused() -> None:
    """Stop a worker no check took (its run failed before the checks, or had none)."""
    pool = take()
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
