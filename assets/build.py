"""One Dagster run that brings the warehouse up to date with the digests directory."""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from assets.definitions import ALL_ASSETS, ALL_CHECKS
from assets.partitions import DIGEST_PARTITIONS, sync_digest_partitions
from assets.resources import WarehouseResource
from pipeline.config import Settings
from pipeline.lock import warehouse_lock
from pipeline.incremental import changed_digests

PARTITION_RANGE_START = "dagster/asset_partition_range_start"
PARTITION_RANGE_END = "dagster/asset_partition_range_end"
_QUIET_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


@dataclass
class WarehouseRun:
    result: dg.ExecuteInProcessResult
    added: list[str]
    removed: list[str]
    parsed_range: tuple[str, str] | None  # partitions parsed in this run, first and last
    skipped: list[str]  # files whose names Dagster refuses as partition keys

    @property
    def failed_steps(self) -> list[str]:
        return [event.step_key for event in self.result.all_events if event.event_type_value == "STEP_FAILURE"]

    @property
    def failed_checks(self) -> list[str]:
        """Names of the checks that ran and did not pass (the checks share one step)."""
        return sorted(evaluation.check_name for evaluation in self.result.get_asset_check_evaluations() if not evaluation.passed)

    @property
    def failure_message(self) -> str | None:
        """First line of the first step failure's error (the root cause where Dagster has it)."""
        for event in self.result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                error = event.step_failure_data.error
                while error.cause:
                    error = error.cause
                lines = error.message.strip().splitlines()
                return lines[0] if lines else None
        return None


def changed_partition_range(settings: Settings, keys: list[str]) -> tuple[str, str] | None:
    """First and last partition (in partition order) whose digest is new or changed."""
    changed = set(changed_digests(settings, keys))
    indices = [index for index, key in enumerate(keys) if key in changed]
    return (keys[indices[0]], keys[indices[-1]]) if indices else None


def materialize_warehouse(
    settings: Settings,
    instance: dg.DagsterInstance,
    source_names: list[str],
    quiet: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> WarehouseRun:
    """Register the files as partitions, parse the new or changed ones, rebuild the rest.

    Everything happens in one run: the parse of a partition range (a single-run
    backfill) and the unpartitioned tables and DuckDB file downstream of it. The run
    holds the warehouse lock (dg.materialize does not use the Definitions' locking
    executor); `on_wait` is called if another run holds it.
    """
    with warehouse_lock(settings.layout.root, on_wait=on_wait):
        added, removed = sync_digest_partitions(instance, source_names)
        keys = list(instance.get_dynamic_partitions(DIGEST_PARTITIONS.name))
        parsed_range = changed_partition_range(settings, keys)
        selection = [key for asset in ALL_ASSETS for key in asset.keys]
        tags = {}
        if parsed_range:
            tags = {PARTITION_RANGE_START: parsed_range[0], PARTITION_RANGE_END: parsed_range[1]}
        else:
            selection = [key for key in selection if key != dg.AssetKey("parsed_digest")]
        result = _materialize(settings, instance, selection, tags, quiet)
    skipped = sorted(set(source_names) - set(keys))
    return WarehouseRun(result, added, removed, parsed_range, skipped)


def _materialize(settings, instance, selection, tags, quiet) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        selection=selection,
        instance=instance,
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        tags=tags,
        run_config=_QUIET_LOGS if quiet else None,
        raise_on_error=False,
    )
