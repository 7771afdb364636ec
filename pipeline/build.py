"""The whole build through pipeline/ alone: stage, consolidate, publish, DuckDB.

Dagster runs the same steps as assets (assets/); this module is for tests,
benchmarks and reuse without Dagster.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.atomic import remove_stale_temporaries
from pipeline.config import ConfigError, Layout, Settings
from pipeline.consolidate import consolidate
from pipeline.lock import warehouse_lock
from pipeline.incremental import changed_digests, remove_staged_digests, stage_digests, staged_state
from pipeline.publish import publish_candidates
from pipeline.staging import list_digest_files
from pipeline.warehouse_db import build_duckdb


def check_settings(settings: Settings) -> list[str]:
    """The digest files to build from; raises ConfigError with a one-line reason."""
    digests_dir = settings.digests_dir
    if not digests_dir.is_dir():
        raise ConfigError(f"digests directory not found: {digests_dir}")
    try:
        names = list_digest_files(digests_dir)
    except OSError as error:
        raise ConfigError(f"cannot list the digests directory {digests_dir}: {error.strerror}") from None
    if not names:
        raise ConfigError(f"no digest files in {digests_dir}")
    if "?" in str(settings.warehouse_dir):
        # DuckDB reads a '?' in a database path as the start of connection options.
        raise ConfigError(f"the warehouse path may not contain '?' (DuckDB cannot open a file there): {settings.warehouse_dir}")
    ensure_writable(settings.warehouse_dir)
    return names


def ensure_writable(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the warehouse directory {directory}: {error.strerror}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"the warehouse directory is not writable: {directory}")


@dataclass
class BuildResult:
    source_names: list[str]
    parsed: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    duckdb_path: Path | None = None


def stage_changed(settings: Settings, names: list[str], state: dict[str, dict]) -> list[str]:
    """Parse the digests that are new or changed since their staging; returns their names.

    `state` (the staging index) is updated in place.
    """
    layout = settings.layout
    parsed = changed_digests(settings, names, state)
    wanted = set(names)
    remove_staged_digests(layout, [name for name in state if name not in wanted], state)
    stage_digests(layout, settings.digests_dir, parsed, settings.year, index=state)
    return parsed


def build_warehouse(settings: Settings) -> BuildResult:
    names = check_settings(settings)
    layout: Layout = settings.layout
    with warehouse_lock(layout.root):
        remove_stale_temporaries(layout.written_dirs, (str(layout.duckdb_path),))
        result = BuildResult(source_names=names)
        state = staged_state(layout)
        result.parsed = stage_changed(settings, names, state)
        result.row_counts = consolidate(layout, names, state=state)
        publish_candidates(layout)
        result.duckdb_path = build_duckdb(layout)
    return result
