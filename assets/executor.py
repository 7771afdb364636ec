"""The in-process executor, holding the warehouse's write lock for the whole run.

The run queue (dagster.yaml: max_concurrent_runs 1) keeps UI and sensor runs apart,
but `papertrends build` runs in its own process outside the queue. The file lock of
pipeline.store.lock covers both: whichever run comes second waits for the first to
end, so the write-audit-publish steps of two runs never interleave. (Dagster's pools
claim slots per step, which would still let the steps of two runs alternate.)
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipeline.store.lock import warehouse_lock

EXECUTOR_NAME = "warehouse_locked"


class WarehouseLockedExecutor(dg.Executor):
    """Runs the plan with Dagster's in-process executor, inside the warehouse lock."""

    def __init__(self, inner: dg.Executor, lock_path: Path):
        self._inner = inner
        self._lock_path = lock_path

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        def waiting(holder: str) -> None:
            plan_context.log.info(f"waiting for the warehouse lock held by another run (pid {holder or '?'})")

        with warehouse_lock(self._lock_path, on_wait=waiting):
            yield from self._inner.execute(plan_context, execution_plan)


def warehouse_locked_executor(lock_path: Path) -> dg.ExecutorDefinition:
    """dg.in_process_executor (same config), wrapped in the warehouse lock."""

    create_in_process = dg.in_process_executor.executor_creation_fn
    if create_in_process is None:
        raise RuntimeError("dagster's in_process_executor has no creation function")

    @dg.executor(name=EXECUTOR_NAME, config_schema=dg.in_process_executor.config_schema.as_field())
    def _executor(init_context: dg.InitExecutorContext) -> dg.Executor:
        return WarehouseLockedExecutor(create_in_process(init_context), lock_path)

    return _executor
