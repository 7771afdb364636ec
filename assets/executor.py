"""The in-process executor, holding the warehouse's write lock for the whole run.

The run queue (dagster.yaml: max_concurrent_runs 1) keeps UI and sensor runs apart,
but `papertrends build` runs in its own process outside the queue. The file lock of
pipeline.lock covers both: whichever run comes second waits for the first to end, so
the write-audit-publish steps of two runs never interleave. Dagster's pools were
weighed and not used: their slots are claimed per step, which still lets steps of two
runs alternate, and a slot leaked by a killed process stays taken until freed by hand.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipeline.lock import warehouse_lock


class WarehouseLockedExecutor(dg.Executor):
    def __init__(self, inner: dg.Executor, warehouse_dir: Path):
        self._inner = inner
        self._warehouse_dir = warehouse_dir

    @property
    def retries(self):
        return self._inner.retries

    @property
    def step_dependency_config(self):
        return self._inner.step_dependency_config

    def execute(self, plan_context, execution_plan) -> Iterator[dg.DagsterEvent]:
        def waiting(holder: str) -> None:
            plan_context.log.info(f"waiting for the warehouse lock held by another run (pid {holder or '?'})")

        with warehouse_lock(self._warehouse_dir, on_wait=waiting):
            yield from self._inner.execute(plan_context, execution_plan)


def warehouse_locked_executor(warehouse_dir: Path) -> dg.ExecutorDefinition:
    """dg.in_process_executor (same config), wrapped in the warehouse lock."""

    @dg.executor(
        name="in_process",
        config_schema=dg.in_process_executor.config_schema,
    )
    def _executor(init_context: dg.InitExecutorContext) -> dg.Executor:
        return WarehouseLockedExecutor(dg.in_process_executor.executor_creation_fn(init_context), warehouse_dir)

    return _executor
