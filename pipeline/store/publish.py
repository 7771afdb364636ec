"""Publishing: checked candidate files become warehouse/parquet, switched in one rename.

Write-audit-publish. A check that passes records an approval of the candidates'
manifest (its sha256); the manifest names every candidate file with its signature.
Publishing refuses candidates that a required check has not approved as they are
now: a file changed after its check, a manifest rewritten, a check that failed.
The published tables are one directory per publish, with published.json recording what
they were built from (so a build with nothing new can tell that they are current and
leave them untouched); parquet/ is a symbolic link to the current one.
"""

import datetime as dt
import hashlib
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import Layout, parquet_files, part_file_name
from pipeline.schemas import TABLES
from pipeline.sql import identifier
from pipeline.store.atomic import fsync_path, temporary_path, write_text
from pipeline.store.consolidate import MANIFEST_NAME, signature

APPROVALS_DIR = "approvals"


class UncheckedCandidates(RuntimeError):
    """Candidates that a required check has not approved in their current state."""


def manifest_path(layout: Layout) -> Path:
    return layout.candidates_dir / MANIFEST_NAME


def approval_path(layout: Layout, check: str) -> Path:
    return layout.candidates_dir / APPROVALS_DIR / f"{identifier(check)}.json"


def _manifest_bytes(layout: Layout) -> bytes | None:
    try:
        return manifest_path(layout).read_bytes()
    except OSError:
        return None


@dataclass(frozen=True)
class Manifest:
    build_key: str
    rows: dict[str, int]
    files: dict[str, dict[str, list[int]]]  # table -> file name -> signature
    sha256: str

    def paths(self, layout: Layout) -> dict[str, list[Path]]:
        """Each table's candidate files, in name order."""
        return {table: [layout.candidate_dir(table) / name for name in sorted(self.files[table])] for table in TABLES}


def read_manifest(layout: Layout) -> Manifest | None:
    """The candidates' manifest, or None when there are no candidates (or it is unreadable)."""
    raw = _manifest_bytes(layout)
    if raw is None:
        return None
    try:
        value = json.loads(raw)
        files = {table: {_part_file(name): list(sig) for name, sig in value["files"][table].items()} for table in TABLES}
        return Manifest(str(value["build_key"]), dict(value["rows"]), files, hashlib.sha256(raw).hexdigest())
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def _part_file(name: str) -> str:
    """A file name from the manifest, refused unless it is a part's (never a path)."""
    if part_file_name(name.removesuffix(".parquet")) != name:
        raise ValueError(f"not a part file: {name!r}")
    return name


def record_check(layout: Layout, check: str, manifest_sha256: str | None) -> None:
    """Approve, for `check`, the candidates' manifest of this sha256, or withdraw the approval (None).

    A manifest replaced since the check read it is not approved: the check never saw its files.
    """
    path = approval_path(layout, check)
    raw = _manifest_bytes(layout)
    if manifest_sha256 is None or raw is None or hashlib.sha256(raw).hexdigest() != manifest_sha256:
        path.unlink(missing_ok=True)
        return
    approval = {"manifest_sha256": manifest_sha256, "approved_at": _now()}
    write_text(path, json.dumps(approval, sort_keys=True))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def unapproved(layout: Layout, checks: Sequence[str]) -> list[str]:
    """Why the candidates may not be published (empty when every check approved them as they are)."""
    manifest = read_manifest(layout)
    if manifest is None:
        return ["there are no candidate tables (or their manifest is unreadable): consolidate first"]
    problems = []
    for table, paths in manifest.paths(layout).items():
        for path in paths:
            try:
                current = signature(path)
            except OSError:
                current = None
            if current != manifest.files[table][path.name]:
                problems.append(f"candidate {table}/{path.name} changed after it was written")
    for check in checks:
        try:
            approval = json.loads(approval_path(layout, check).read_text())
        except (OSError, ValueError):
            problems.append(f"{check} has not passed")
            continue
        if not isinstance(approval, dict) or approval.get("manifest_sha256") != manifest.sha256:
            problems.append(f"{check} did not pass on the current candidates")
    return problems


def check_publishable(layout: Layout, checks: Sequence[str]) -> Manifest:
    """The manifest of candidates every check approved; raises UncheckedCandidates otherwise."""
    problems = unapproved(layout, checks)
    manifest = read_manifest(layout)
    if problems or manifest is None:
        raise UncheckedCandidates("refusing to publish: " + "; ".join(problems))
    return manifest


def move_into_place(layout: Layout, manifest: Manifest) -> None:
    """Publish the candidates whole: into a new directory of builds_dir, then parquet/ switched to it in one rename.

    The candidate files and the record of what they were built from go into the new
    directory first; then parquet/, a symbolic link, is replaced by one to it. Readers,
    and a build killed at any point, see every table of one build, never some of each.
    That rename is the last step: once this returns, the tables are published.
    """
    build_dir = layout.builds_dir / _now_compact()
    build_dir.mkdir(parents=True)
    for table, paths in manifest.paths(layout).items():
        directory = build_dir / table
        directory.mkdir()
        for path in paths:
            os.replace(path, directory / path.name)
        fsync_path(directory)
    record = {
        "build_key": manifest.build_key,
        "published_at": _now(),
        "rows": manifest.rows,
        "files": {table: {path.name: signature(path) for path in parquet_files(build_dir / table)} for table in TABLES},
    }
    write_text(build_dir / layout.published_record.name, json.dumps(record, indent=1, sort_keys=True))
    fsync_path(layout.builds_dir)
    _link_parquet_to(layout, build_dir)


def settle_published(layout: Layout) -> None:
    """After move_into_place: make the switch durable, and delete the directories of earlier builds."""
    fsync_path(layout.root)
    remove_unpublished_builds(layout)


def _now_compact() -> str:
    # Microseconds: two publishes (under the warehouse lock) never share a name.
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


def _link_parquet_to(layout: Layout, build_dir: Path) -> None:
    """Replace parquet/ by a link to build_dir, relative so that the warehouse can move."""
    link = layout.parquet_dir
    if link.is_dir() and not link.is_symlink():
        # A warehouse of an earlier version, where parquet/ was a directory: a rename
        # cannot replace a directory by a link, so it moves aside first (once).
        os.replace(link, layout.builds_dir / "earlier-layout")
    tmp = temporary_path(link)
    try:
        os.symlink(build_dir.relative_to(layout.root), tmp)
        os.replace(tmp, link)
    finally:
        tmp.unlink(missing_ok=True)


def remove_unpublished_builds(layout: Layout) -> None:
    """Delete every directory of builds_dir but the one parquet/ links to (earlier publishes, a killed one)."""
    if not layout.builds_dir.is_dir():
        return
    current = layout.root / os.readlink(layout.parquet_dir) if layout.parquet_dir.is_symlink() else None
    for entry in layout.builds_dir.iterdir():
        if entry != current:
            _remove(entry)


def _remove(entry: Path) -> None:
    """A directory with all it holds; a link itself, never its target. One that cannot be
    deleted (after parquet/ was switched: the tables are published) waits for the next publish."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


@dataclass(frozen=True)
class PublishedRecord:
    build_key: str
    published_at: str
    rows: dict[str, int]


def published_record(layout: Layout) -> PublishedRecord | None:
    """What the published tables were built from, if they are exactly the files it names."""
    try:
        value = json.loads(layout.published_record.read_text())
        files = value["files"]
        for table in TABLES:
            on_disk = {path.name: signature(path) for path in layout.table_files(table)}
            if on_disk != {name: list(sig) for name, sig in files[table].items()}:
                return None
        return PublishedRecord(str(value["build_key"]), str(value["published_at"]), dict(value["rows"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
