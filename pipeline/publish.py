"""Publishing: checked candidate tables move into warehouse/parquet in one rename each.

A check that passes records which candidate files it validated (size, mtime, inode)
under staging/approvals/; publishing refuses a candidate that a required check has
not passed as it is now. So a failed check keeps its candidates out of
warehouse/parquet even when a later run publishes without re-running the checks.
"""

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from pipeline.atomic import atomic_path, fsync_dir
from pipeline.config import Layout
from pipeline.schemas import TABLES
from pipeline.sql import identifier


class UncheckedCandidates(RuntimeError):
    """Candidate tables that a required check has not passed in their current state."""


def _signature(path: Path) -> list[int]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def approval_file(layout: Layout, check: str) -> Path:
    return layout.staging_dir / "approvals" / f"{identifier(check)}.json"


def record_check(layout: Layout, check: str, files: Mapping[str, Path], passed: bool) -> None:
    """Remember that `check` passed on these files (table -> file), or forget it."""
    path = approval_file(layout, check)
    if not passed:
        path.unlink(missing_ok=True)
        return
    checked = {table: {"path": str(file), "signature": _signature(file)} for table, file in files.items()}
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(checked, sort_keys=True))


def unchecked_candidates(layout: Layout, checks: Sequence[str]) -> list[str]:
    """Why the candidates may not be published under `checks` (empty when they may)."""
    problems = []
    for check in checks:
        try:
            checked = json.loads(approval_file(layout, check).read_text())
        except (OSError, ValueError):
            problems.append(f"{check} has not passed")
            continue
        for table, item in checked.items():
            candidate = layout.candidate_file(table)
            if item["path"] != str(candidate) or not candidate.exists() or _signature(candidate) != item["signature"]:
                problems.append(f"{check} did not pass on the current {table} candidate")
    return problems


def publish_candidates(layout: Layout, required_checks: Sequence[str] = ()) -> list[str]:
    """Move every candidate table into place; returns the tables published.

    With no candidate at all there is nothing new to publish ([]). All five are
    written before any moves, so readers see old and new tables mixed only for the
    few microseconds between renames.
    """
    present = [table for table in TABLES if layout.candidate_file(table).exists()]
    if not present:
        return []
    missing = sorted(set(TABLES) - set(present))
    if missing:
        raise FileNotFoundError(f"no candidate for table(s) {', '.join(missing)}: materialize the tables first")
    problems = unchecked_candidates(layout, required_checks)
    if problems:
        raise UncheckedCandidates("refusing to publish: " + "; ".join(problems))
    for table in TABLES:
        layout.table_dir(table).mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        os.replace(layout.candidate_file(table), layout.table_file(table))
    for table in TABLES:
        fsync_dir(layout.table_dir(table))
    for check in required_checks:
        approval_file(layout, check).unlink(missing_ok=True)
    return list(TABLES)
