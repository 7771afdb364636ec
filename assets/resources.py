"""The warehouse as a Dagster resource: paths and settings shared by every asset.

A run holds the warehouse's write lock (pipeline.store.lock) for as long as the resource
lives: with the in-process executor, from before the run's first step to after its last.
The run queue (dagster.yaml: max_concurrent_runs 1) keeps UI and sensor runs apart, but
`papertrends build` runs in its own process outside the queue: whichever comes second
waits for the first, so the write-audit-publish steps of two runs never interleave.
"""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

from pipeline.config import Layout, Settings
from pipeline.store.lock import warehouse_lock


class WarehouseResource(dg.ConfigurableResource):
    """Where the digests are read and the warehouse is written; a run holds the warehouse's write lock."""

    warehouse_dir: str
    digests_dir: str
    year: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            warehouse_dir=str(settings.warehouse_dir),
            digests_dir=str(settings.digests_dir),
            year=settings.year,
        )

    @property
    def settings(self) -> Settings:
        return Settings(Path(self.warehouse_dir), Path(self.digests_dir), self.year)

    @property
    def layout(self) -> Layout:
        return self.settings.layout

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseResource"]:
        def waiting(holder: str) -> None:
            if context.log is not None:
                context.log.info(f"waiting for the warehouse lock held by another run (pid {holder or '?'})")

        # The lock of the warehouse this run writes, launchpad config included.
        with warehouse_lock(self.layout.lock_path, on_wait=waiting):
            yield self


class LockHeldWarehouseResource(WarehouseResource):
    """The warehouse for a run whose caller holds the write lock already (`papertrends build`,
    from its nothing-new check to its summary). The lock is per open file, so taking it a
    second time in the same process would wait for ever."""

    @contextlib.contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseResource"]:
        yield self
