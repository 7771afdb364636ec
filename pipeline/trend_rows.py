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
M on are computed (adding the latest day's digest to 10,000: one month of 49).

Anything unexpected (no complete previous parts, another query, a copied snapshot
file, a part that is not a month) falls back to computing every row.
"""

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import duckdb

from pipeline.atomic import atomic_path, fsync_path
from pipeline.sql import identifier, string_list_literal, string_literal
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
    """What the stored parts were computed by: the version and the query's text."""
    text = f"{ROWS_VERSION}\n{TREND_VIEWS[VIEW]}"
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


def _manifest(directory: Path) -> dict | None:
    try:
        value = json.loads((directory / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(value, dict) or value.get("version") != rows_version() or not isinstance(value.get("parts"), list):
        return None
    return value


def previous_snapshot(snapshots_dir: Path, trends_dir: Path) -> Path | None:
    """The newest snapshot, other than `trends_dir`'s own, holding complete parts of this version."""
    current = trends_dir.parent
    candidates = sorted((path for path in snapshots_dir.iterdir() if path.is_dir() and path != current), reverse=True)
    for snapshot in candidates:
        if _manifest(snapshot / trends_dir.name / VIEW) is not None:
            return snapshot
    return None


def _same_file(a: Path, b: Path) -> bool:
    try:
        first, second = a.stat(), b.stat()
    except OSError:
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


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


def first_changed_month(con: duckdb.DuckDBPyConnection, previous: Path, table_files: dict[str, list[Path]]) -> dt.date | None:
    """The first day of the earliest month whose inputs differ from `previous`'s.

    An appearances part differs if its file does; a papers part if its title or
    first_seen_date column does. dt.date.min when that cannot be told (a part that
    is not a month changed); None when nothing differs.
    """
    changed = set(_changed_parts(previous / "appearances", table_files["appearances"]))
    for part, (old, new) in _changed_parts(previous / "papers", table_files["papers"]).items():
        if old is None or new is None or _paper_columns_differ(con, old, new):
            changed.add(part)
    if not changed:
        return None
    if not all(_MONTH.fullmatch(part) for part in changed):
        return dt.date.min
    return _month_start(min(changed))


def _reuse(old_dir: Path, directory: Path, parts: list[str], cutoff: dt.date) -> tuple[list[str], dt.date]:
    """Hard-link the old parts before `cutoff`; returns them, and the cutoff for the rest.

    A part that can be neither linked nor copied (gone) moves the cutoff back to its month.
    """
    reused = []
    for part in sorted(part for part in parts if _MONTH.fullmatch(part) and _month_start(part) < cutoff):
        source, target = old_dir / f"{part}.parquet", directory / f"{part}.parquet"
        try:
            try:
                os.link(source, target)
            except OSError:
                shutil.copyfile(source, target)
                fsync_path(target)
        except OSError:
            return reused, _month_start(part)
        reused.append(part)
    return reused, cutoff


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
    old_dir = previous / trends_dir.name / VIEW if previous is not None else None
    manifest = _manifest(old_dir) if old_dir is not None else None
    cutoff, reused = dt.date.min, []
    if manifest is not None:
        changed = first_changed_month(con, previous, table_files)
        reused, cutoff = _reuse(old_dir, directory, manifest["parts"], dt.date.max if changed is None else changed)
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
    for part in months:  # the reused parts are durable already
        fsync_path(directory / f"{part}.parquet")
    parts = sorted(reused + months)
    with atomic_path(directory / MANIFEST_NAME) as tmp:
        tmp.write_text(json.dumps({"version": rows_version(), "parts": parts, "reused": reused}, indent=1))
    fsync_path(directory)
    files = [directory / f"{part}.parquet" for part in parts]
    con.execute(f"DROP TABLE {identifier(_COMPUTED)}")
    con.execute(f"CREATE TEMP VIEW {identifier(trend_table(VIEW))} AS SELECT * FROM read_parquet({string_list_literal([str(path) for path in files])})")
    return files
