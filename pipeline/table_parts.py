"""Published tables in parts, and the plan saying which parts a build rewrites.

papers, appearances and repo_links are split by month: appearances by digest_date,
papers by first_seen_date, repo_links by its paper's first_seen_date. A new digest
changes the parts of its own month and of the months its returning papers were
first seen in, not the whole table: at 10,000 digests that is a few MB written
instead of a gigabyte. digests and rejects are one part each (part-0).

Each part has a fingerprint of what it is consolidated from: the row count and a
hash over its rows without title and abstract, and for papers the staged batch
holding each title and abstract. The published manifest keeps, per published part,
its fingerprint and its file's signature; consolidation writes only the parts whose
fingerprint changed or whose file is not the one published, and the plan says
which parts the candidates write and which published files they remove.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.atomic import atomic_path
from pipeline.config import Layout
from pipeline.schemas import PUBLISHED_SCHEMAS, TABLES

SPLIT_TABLES = ("papers", "appearances", "repo_links")
WHOLE_PART = "part-0"
# Part of every fingerprint: raise it when the consolidation computes a part's rows, or
# its fingerprint, differently from the same staged rows, so every published part is
# rewritten once. 2: row hashes hashed again (pipeline.consolidate, _FINGERPRINT_SQL).
FINGERPRINT_VERSION = 2
# A part that is always written (digests and rejects are small: no fingerprint).
ALWAYS = "always"


def file_signature(path: Path) -> list[int] | None:
    """Size, mtime and inode of a published or candidate part.

    Not pipeline.staging.file_signature: that one holds the ctime, which every build's
    snapshot hard link changes, so each part would look replaced at the next build.
    """
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


@dataclass
class TablePlan:
    parts: dict[str, str]  # every part of the new table -> its fingerprint
    write: list[str] = field(default_factory=list)  # parts the candidates hold
    remove: list[str] = field(default_factory=list)  # published parts to delete


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_json(path: Path, value: dict) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(value, sort_keys=True, indent=1))


def read_plan(layout: Layout) -> dict[str, TablePlan] | None:
    raw = _read_json(layout.plan_path)
    if raw is None or set(raw) != set(TABLES):
        return None
    return {table: TablePlan(**raw[table]) for table in TABLES}


def write_plan(layout: Layout, plan: dict[str, TablePlan]) -> None:
    _write_json(layout.plan_path, {table: plan[table].__dict__ for table in TABLES})


def read_manifest(layout: Layout) -> dict[str, dict[str, dict]]:
    """table -> part -> {"fingerprint", "signature"} of the published parts; {} when unknown."""
    raw = _read_json(layout.published_manifest_path)
    return raw if raw is not None else {}


def write_manifest(layout: Layout, plan: dict[str, TablePlan]) -> None:
    manifest = {
        table: {
            part: {"fingerprint": fingerprint, "signature": file_signature(layout.table_file(table, part))}
            for part, fingerprint in plan[table].parts.items()
        }
        for table in TABLES
    }
    _write_json(layout.published_manifest_path, manifest)


def plan_table(layout: Layout, table: str, parts: dict[str, str], manifest: dict[str, dict[str, dict]]) -> TablePlan:
    """Which parts to write: those whose fingerprint or published file changed; which to remove."""
    published = manifest.get(table, {})
    write = []
    for part, fingerprint in sorted(parts.items()):
        known = published.get(part)
        signature = file_signature(layout.table_file(table, part))
        unchanged = (
            fingerprint != ALWAYS
            and known is not None
            and known.get("fingerprint") == fingerprint
            and signature is not None  # a missing file is never the published one
            and known.get("signature") == signature
        )
        if not unchanged:
            write.append(part)
    on_disk = {path.stem for path in layout.table_files(table)}
    return TablePlan(parts=dict(sorted(parts.items())), write=write, remove=sorted(on_disk - set(parts)))


def candidate_table_files(layout: Layout, table: str, plan: dict[str, TablePlan] | None = None) -> list[Path]:
    """The files of a table as it would be published: candidates where written, else published files."""
    plan = read_plan(layout) if plan is None else plan
    if plan is None:
        return layout.table_files(table)
    written = set(plan[table].write)
    return [
        layout.candidate_file(table, part) if part in written else layout.table_file(table, part)
        for part in sorted(plan[table].parts)
    ]


def written_files(layout: Layout, plan: dict[str, TablePlan]) -> dict[str, list[Path]]:
    """The candidate files a plan writes, by table."""
    return {table: [layout.candidate_file(table, part) for part in plan[table].write] for table in TABLES}


def read_parts(files: list[Path], table: str) -> pa.Table:
    """Several files of one table as one Arrow table, in the order given."""
    schema = PUBLISHED_SCHEMAS[table]
    if not files:
        return schema.empty_table()
    return pa.concat_tables([pq.read_table(path, schema=schema) for path in files])


def read_published(layout: Layout, table: str) -> pa.Table:
    """A whole published table, its parts in order."""
    return read_parts(layout.table_files(table), table)


def describe_files(paths: Path | list[Path]) -> str:
    """Files for a person: the path of one, or how many and where."""
    if isinstance(paths, Path):
        return str(paths)
    if not paths:
        return "no files (no part written)"
    return str(paths[0]) if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"


def count_rows(files: list[Path]) -> int:
    return sum(pq.ParquetFile(path).metadata.num_rows for path in files)


def remove_candidates(layout: Layout) -> None:
    """Forget every candidate (a new consolidation starts from none)."""
    layout.plan_path.unlink(missing_ok=True)
    for table in TABLES:
        directory = layout.candidates_dir / table
        if directory.is_dir():
            for path in directory.iterdir():
                path.unlink(missing_ok=True)
    os.makedirs(layout.candidates_dir, exist_ok=True)
