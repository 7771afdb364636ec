"""Publishing: checked candidate parts move into warehouse/parquet, one rename each.

A check that passes records the candidates it validated (the plan and the
signature of each written part: size, mtime, inode) under staging/approvals/;
publishing refuses candidates that a required check has not passed as they are now.
So a failed check keeps its candidates out of warehouse/parquet even when a later
run publishes without re-running the checks.
"""

import json
import os
from collections.abc import Sequence
from pathlib import Path

from pipeline.atomic import atomic_path, fsync_path
from pipeline.config import Layout
from pipeline.schemas import TABLES
from pipeline.sql import identifier
from pipeline.table_parts import file_signature, read_plan, write_manifest, written_files


class UncheckedCandidates(RuntimeError):
    """Candidate tables that a required check has not passed in their current state."""


class UnfinishedPublish(RuntimeError):
    """The last publish stopped between its renames: the published parts mix two builds."""


def approval_file(layout: Layout, check: str) -> Path:
    return layout.staging_dir / "approvals" / f"{identifier(check)}.json"


def candidates_signature(layout: Layout) -> dict | None:
    """What the candidates are right now: the plan and each written part's file signature."""
    plan = read_plan(layout)
    if plan is None:
        return None
    return {
        "plan": file_signature(layout.plan_path),
        "files": {str(path): file_signature(path) for paths in written_files(layout, plan).values() for path in paths},
    }


def record_check(layout: Layout, check: str, passed: bool) -> None:
    """Remember that `check` passed on the current candidates, or forget it."""
    path = approval_file(layout, check)
    # A failure forgets without reading the candidates: it must work when they cannot be read.
    signature = candidates_signature(layout) if passed else None
    if signature is None:
        path.unlink(missing_ok=True)
        return
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(signature, sort_keys=True))


def unchecked_candidates(layout: Layout, checks: Sequence[str]) -> list[str]:
    """Why the candidates may not be published under `checks` (empty when they may)."""
    current = candidates_signature(layout)
    problems = []
    for check in checks:
        try:
            checked = json.loads(approval_file(layout, check).read_text())
        except (OSError, ValueError):
            problems.append(f"{check} has not passed")
            continue
        if checked != current:
            problems.append(f"{check} did not pass on the current candidates")
    return problems


def publish_candidates(layout: Layout, required_checks: Sequence[str] = ()) -> list[str]:
    """Move every candidate part into place and delete the parts no longer in the tables.

    Returns the tables published ([] when there are no candidates). Every written
    part replaces its published file in one rename, one part after another, so a
    reader of the Parquet files during a publish may see a paper whose month moved
    in both parts or in neither; readers through trends.duckdb never do (they read a
    snapshot). The manifest is removed before the first rename and written after the
    last removal: its absence beside published parts marks a publish that did not
    finish, and nothing is built on those parts until a consolidation rewrites them all.
    """
    plan = read_plan(layout)
    if plan is None:
        if not layout.published_manifest_path.exists() and any(layout.table_files(table) for table in TABLES):
            raise UnfinishedPublish(
                "the last publish did not finish (staging/published.json is missing), so the published "
                "parts may mix two builds: rebuild the tables (papertrends build, or materialize "
                "consolidated_tables and its checks) before trends_duckdb"
            )
        return []
    missing = [str(path) for paths in written_files(layout, plan).values() for path in paths if not path.exists()]
    if missing:
        raise FileNotFoundError(
            f"candidate part missing: {missing[0]}: rebuild the tables (papertrends build, or materialize "
            "consolidated_tables and its checks) first"
        )
    problems = unchecked_candidates(layout, required_checks)
    if problems:
        raise UncheckedCandidates("refusing to publish: " + "; ".join(problems))
    # While parts move, the manifest would describe files that are no longer there.
    layout.published_manifest_path.unlink(missing_ok=True)
    for table in TABLES:
        layout.table_dir(table).mkdir(parents=True, exist_ok=True)
        for part in plan[table].write:
            os.replace(layout.candidate_file(table, part), layout.table_file(table, part))
    for table in TABLES:
        for part in plan[table].remove:
            layout.table_file(table, part).unlink(missing_ok=True)
        fsync_path(layout.table_dir(table))
    write_manifest(layout, plan)
    layout.plan_path.unlink(missing_ok=True)
    for check in required_checks:
        approval_file(layout, check).unlink(missing_ok=True)
    return list(TABLES)
