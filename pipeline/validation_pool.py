"""The table validations on two threads, here or in a worker that imported GX ahead.

GX's import takes about 2 s of one core. In the run's own process it competes for
the GIL with whatever runs there, and during a parse for the cores too. Started when
a large parse ends (`start_ahead`), a worker process imports it on the core that the
run's single-threaded bookkeeping leaves idle (Dagster storing one event per digest);
the checks then validate the tables there (`take`, `validate_tables`) while the run's
process runs the checks across tables. Without a started worker, the same
validations run on two threads of the calling process.
"""

import atexit
import pickle
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

from pipeline.incremental import worker_context

# Two threads: one table's DuckDB and Arrow reads, which release the GIL, overlap
# another's GX work (GX itself runs one validation at a time: expectations._GX_TURN).
THREADS = 2

# table -> (its Parquet files to validate, the digests table's files)
Jobs = dict[str, tuple[list[Path], list[Path]]]

_started: ProcessPoolExecutor | None = None


def _import_great_expectations() -> None:
    import great_expectations  # noqa: F401


def start_ahead() -> ProcessPoolExecutor | None:
    """Start the worker and its GX import now (once: a started worker is kept).

    A worker that cannot start is no error: the checks then validate in this process.
    """
    global _started
    if _started is None:
        # One worker: a second would import GX again, on a core that is not idle.
        pool = ProcessPoolExecutor(max_workers=1, mp_context=worker_context(), initializer=_import_great_expectations)
        try:
            pool.submit(int)  # the pool starts its worker on the first task
        except (OSError, RuntimeError):
            pool.shutdown(wait=False, cancel_futures=True)
            return None
        _started = pool
    return _started


def take() -> ProcessPoolExecutor | None:
    """The worker started ahead, if any, handed over to the caller, who shuts it down."""
    global _started
    pool, _started = _started, None
    return pool


def table_result(table: str, paths: list[Path], digests_paths: list[Path]) -> dict:
    """One table's suite, as validation_docs.table_result."""
    from pipeline.expectations import validate_table_file
    from pipeline.validation_docs import table_result as result_of

    return result_of(validate_table_file(table, paths, digests_paths))


def validate_tables(jobs: Jobs, threads: ThreadPoolExecutor, worker: ProcessPoolExecutor | None = None) -> dict[str, Future]:
    """A future of each table's result: from the worker if given, else from `threads`."""
    try:
        batch = worker.submit(_results_or_errors, jobs) if worker is not None else None
    except RuntimeError:  # BrokenProcessPool: the worker died before any work; do it here
        batch = None
    if batch is None:
        return {table: threads.submit(table_result, table, *files) for table, files in jobs.items()}
    futures: dict[str, Future] = {table: Future() for table in jobs}

    def settle(done: Future) -> None:
        try:
            results = done.result()
        except BaseException as error:  # noqa: BLE001 - the worker died or a result would not pickle
            results = {table: error for table in jobs}
        for table, result in results.items():
            if isinstance(result, BaseException):
                futures[table].set_exception(result)
            else:
                futures[table].set_result(result)

    batch.add_done_callback(settle)
    return futures


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


@atexit.register
def _stop_unused() -> None:
    """A worker no check took (its run failed before the checks) ends with the process."""
    pool = take()
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
