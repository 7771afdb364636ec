"""recurrence_by_day's rows in monthly parts, recomputed from the first month that changed.

A row of recurrence_by_day depends only on the appearances up to its day and on its
paper's title and first_seen_date. The published appearances are split by month of
digest_date and papers by month of first_seen_date (pipeline.table_parts), and a
snapshot hard-links the published files. So if, before month M, every appearances
part is the same file as in the previous snapshot and every papers part holds the
same (paper_id, title, first_seen_date), every row of recurrence_by_day before M is
the same too:
- the appearances before M are unchanged, and so are the running totals they sum to;
- a paper seen before M was first seen before M, so its title and first day are unchanged.
Those monthly parts are hard-linked from the previous snapshot, and only the rows from
M on are computed. At 10,000 digests over four years, adding the latest day's digest
computes one month of 49.

What is not known to be right is computed, never reused: with no previous manifest of
this version (query text, DuckDB version) or one naming a part that is not a month,
with copied snapshot files, a changed part that is not a month, or reused months
other than the appearances' months before M, every row is computed; an old part that
is gone or not the file its manifest describes (size, mtime, inode) moves M back to
its month.
"""

import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb

from pipeline.atomic import atomic_path, fsync_path, link_or_copy
from pipeline.sql import identifier, string_list_literal, string_literal
from pipeline.table_parts import file_signature
from pipeline.trends_sql import TREND_ROWS_COPY_OPTIONS, TREND_VIEWS, trend_table

VIEW = "recurrence_by_day"
# Written last, into the parts' directory: parts without it are never reused.
MANIFEST_NAME = "manifest.json"
# A part name is a month; "none" is the zero-row part of an empty view.
NO_ROWS_PART = "none"
_MONTH = re.compile(r"\d{4}-\d{2}")
# Raise to stop reusing parts computed by earlier code whose query text is unchanged.
ROWS_VERSION = 1
# The rows computed in this build, before they are written as parts.
_COMPUTED = f"_{VIEW}_computed"


def rows_version() -> str:
    """What the stored parts were computed by: the version, the query's text, DuckDB's version."""
    text = f"{ROWS_VERSION}\n{duckdb.__version__}\n{TREND_VIEWS[VIEW]}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _month_of(day: dt.date) -> str:
    """A day's part name, as DuckDB's strftime('%Y-%m') names the tables' parts.

    Not date.strftime: glibc writes the year 999 as "999", not "0999".
    """
    return f"{day.year:04d}-{day.month:02d}"


def _month_start(part: str) -> dt.date:
    return dt.date(int(part[:4]), int(part[5:7]), 1)


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _is_month(part: object) -> bool:
    if not isinstance(part, str) or not _MONTH.fullmatch(part):
        return False
    try:
        _month_start(part)
    except ValueError:  # month 13, year 0
        return False
    return True


def _manifest(directory: Path) -> dict | None:
    """The parts' manifest, if it is of this version and well-formed: part -> file signature."""
    try:
        value = json.loads((directory / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict) or value.get("version") != rows_version():
        return None
    parts = value.get("parts")
    if not isinstance(parts, dict) or not all(
        (_is_month(part) or part == NO_ROWS_PART) and isinstance(signature, list) for part, signature in parts.items()
    ):
        return None
    return value


def previous_snapshot(snapshots_dir: Path, current: Path, trends_dir_name: str) -> Path | None:
    """The newest snapshot, other than `current`, holding complete parts of this version."""
    candidates = sorted((path for path in snapshots_dir.iterdir() if path.is_dir() and path != current), reverse=True)
    for snapshot in candidates:
        if _manifest(snapshot / trends_dir_name / VIEW) is not None:
            return snapshot
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _changed_parts(old_dir: Path, new_files: list[Path]) -> dict[str, tuple[Path | None, Path | None]]:
    """part -> (old file, new file) of the parts whose file differs, either side None if absent."""
    new = {path.stem: path for path in new_files}
    old = {path.stem: path for path in old_dir.glob("*.parquet")} if old_dir.is_dir() else {}
    return {
        part: (old.get(part), new.get(part))
        for part in set(old) | set(new)
        if part not in old or part not in new or not _same_file(old[part], new[part])
    }


# The papers columns recurrence_by_day reads. A returning paper's papers row changes
# (last_seen_date) in the part of the month it was first seen, which is often years
# back: its rows there are unchanged unless these columns changed.
_PAPER_COLUMNS_DIFFER = """
    WITH old AS (SELECT paper_id, title, first_seen_date FROM read_parquet($old)),
    new AS (SELECT paper_id, title, first_seen_date FROM read_parquet($new))
    SELECT EXISTS (SELECT * FROM old EXCEPT ALL SELECT * FROM new)
        OR EXISTS (SELECT * FROM new EXCEPT ALL SELECT * FROM old)
"""


def _paper_columns_differ(con: duckdb.DuckDBPyConnection, old: Path, new: Path) -> bool:
    try:
        return con.execute(_PAPER_COLUMNS_DIFFER, {"old": str(old), "new": str(new)}).fetchone()[0]
    except duckdb.Error:  # a file that is no papers part (changed by hand): assume changed
        return True


def recompute_from(con: duckdb.DuckDBPyConnection, previous: Path, table_files: dict[str, list[Path]]) -> dt.date:
    """The first day of the earliest month whose inputs differ from `previous`'s.

    An appearances part differs if its file does; a papers part if its title or
    first_seen_date column does. dt.date.min when that cannot be told (a part that is
    not a month changed); dt.date.max when nothing differs.
    """
    changed = set(_changed_parts(previous / "appearances", table_files["appearances"]))
    for part, (old, new) in _changed_parts(previous / "papers", table_files["papers"]).items():
        if old is None or new is None or _paper_columns_differ(con, old, new):
            changed.add(part)
    if not changed:
        return dt.date.max
    if not all(_is_month(part) for part in changed):
        return dt.date.min
    return _month_start(min(changed))


def _reuse(old_dir: Path, directory: Path, parts: list[tuple[str, list[int]]], cutoff: dt.date) -> tuple[list[str], dt.date]:
    """Hard-link the old parts (name, signature), in month order; returns the ones linked and the cutoff.

    A part that is gone, or is not the file its manifest describes (replaced or changed
    by hand), is not reused: the cutoff moves back to its month.
    """
    reused = []
    for part, signature in parts:
        source, target = old_dir / f"{part}.parquet", directory / f"{part}.parquet"
        try:
            if file_signature(source) != signature:
                return reused, _month_start(part)
            link_or_copy(source, target)
        except OSError:
            return reused, _month_start(part)
        reused.append(part)
    return reused, cutoff


def _reusable(manifest: dict, table_files: dict[str, list[Path]], cutoff: dt.date) -> list[tuple[str, list[int]]]:
    """The old parts before `cutoff`, in month order; none unless they are the appearances' months there.

    The rows of a month exist exactly where its appearances do: a manifest that says
    otherwise describes other tables.
    """
    before = sorted((part, signature) for part, signature in manifest["parts"].items() if _is_month(part) and _month_start(part) < cutoff)
    months = sorted(path.stem for path in table_files["appearances"] if _is_month(path.stem) and _month_start(path.stem) < cutoff)
    return before if [part for part, _ in before] == months else []


def write_recurrence_parts(
    con: duckdb.DuckDBPyConnection, table_files: dict[str, list[Path]], trends_dir: Path, previous: Path | None
) -> list[Path]:
    """Write recurrence_by_day's parts under `trends_dir`; returns them in order.

    `con` has the table views; `previous` is a snapshot whose parts may be reused
    (previous_snapshot). Leaves the rows in trend_table(VIEW)'s place, as a view over
    every part, for the trend views computed after it.
    """
    directory = trends_dir / VIEW
    directory.mkdir()
    manifest = _manifest(previous / trends_dir.name / VIEW) if previous is not None else None
    cutoff, reused = dt.date.min, []
    if manifest is not None:
        cutoff = recompute_from(con, previous, table_files)
        reusable = _reusable(manifest, table_files, cutoff)
        if reusable:
            reused, cutoff = _reuse(previous / trends_dir.name / VIEW, directory, reusable, cutoff)
        else:
            cutoff = dt.date.min
    con.execute(f"CREATE TEMP TABLE {identifier(_COMPUTED)} AS {TREND_VIEWS[VIEW]}", {"cutoff": cutoff})
    days = con.execute(f"SELECT DISTINCT day FROM {identifier(_COMPUTED)}").fetchall()
    months = sorted({_month_of(day) for (day,) in days})
    for part in months:
        path = directory / f"{part}.parquet"
        start = _month_start(part)
        con.execute(
            f"COPY (SELECT * FROM {identifier(_COMPUTED)} WHERE day >= $start AND day < $end) TO {string_literal(str(path))} ({TREND_ROWS_COPY_OPTIONS})",
            {"start": start, "end": _next_month(start)},
        )
    if not reused and not months:
        # A view needs a file to read: one with the columns and no rows.
        months = [NO_ROWS_PART]
        con.execute(f"COPY {identifier(_COMPUTED)} TO {string_literal(str(directory / f'{NO_ROWS_PART}.parquet'))} ({TREND_ROWS_COPY_OPTIONS})")
    for part in months:
        fsync_path(directory / f"{part}.parquet")
    # Every part and its name durable before the manifest that vouches for them.
    fsync_path(directory)
    parts = sorted(reused + months)
    files = [directory / f"{part}.parquet" for part in parts]
    signatures = {part: file_signature(path) for part, path in zip(parts, files)}
    with atomic_path(directory / MANIFEST_NAME) as tmp:
        tmp.write_text(json.dumps({"version": rows_version(), "parts": signatures, "reused": reused}, indent=1))
    fsync_path(directory)
    con.execute(f"DROP TABLE {identifier(_COMPUTED)}")
    con.execute(f"CREATE TEMP VIEW {identifier(trend_table(VIEW))} AS SELECT * FROM read_parquet({string_list_literal([str(path) for path in files])})")
    return files
