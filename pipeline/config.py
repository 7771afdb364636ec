"""Where things live: settings from the environment and the warehouse layout."""

import os
import re
from dataclasses import dataclass
from pathlib import Path

from pipeline.schemas import TABLES


class ConfigError(ValueError):
    """A setting that cannot be used; the message says which and why."""


def _year_from_env(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        year = int(value)
    except ValueError:
        raise ConfigError(f"PAPERTRENDS_YEAR must be a year such as 2026, not {value!r}") from None
    if not 1900 <= year <= 2200:
        raise ConfigError(f"PAPERTRENDS_YEAR must be between 1900 and 2200, not {year}")
    return year


# A part of a published table: a month (YYYY-MM) or, for an unsplit table, part-0.
WHOLE_PART = "part-0"
_PART = re.compile(r"\d{4}-\d{2}|part-0")


def known_table(table: str) -> str:
    """Table names become directory names: only the published tables pass."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    return table


def part_file_name(part: str) -> str:
    """A part's file name; parts also come from manifests on disk, so never a path."""
    if not _PART.fullmatch(part):
        raise ValueError(f"not a table part: {part!r}")
    return f"{part}.parquet"


def parquet_files(directory: Path) -> list[Path]:
    """The Parquet files of a table directory, sorted; temporaries are hidden names, never listed."""
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.suffix == ".parquet" and not path.name.startswith("."))


@dataclass(frozen=True)
class Layout:
    """Paths inside one warehouse directory (all absolute)."""

    root: Path

    @property
    def parquet_dir(self) -> Path:
        """The published tables: a symbolic link to one directory of builds_dir, replaced whole at each publish."""
        return self.root / "parquet"

    @property
    def builds_dir(self) -> Path:
        """The directories of published tables, one per publish: parquet/ links to the current one."""
        return self.root / "parquet-builds"

    def table_dir(self, table: str) -> Path:
        return self.parquet_dir / known_table(table)

    def table_files(self, table: str) -> list[Path]:
        """The published files of a table, in name order (the table's row order holds across them)."""
        return parquet_files(self.table_dir(table))

    @property
    def staging_dir(self) -> Path:
        return self.root / "staging"

    @property
    def staging_db(self) -> Path:
        """The parse of every digest file, keyed by file name (pipeline.store.staging)."""
        return self.staging_dir / "staging.duckdb"

    @property
    def candidates_dir(self) -> Path:
        """Consolidated tables awaiting their checks, before they are published."""
        return self.staging_dir / "candidates"

    def candidate_dir(self, table: str) -> Path:
        return self.candidates_dir / known_table(table)

    @property
    def published_record(self) -> Path:
        """What the published tables were built from: in their directory, so published with them."""
        return self.parquet_dir / "published.json"

    @property
    def duckdb_path(self) -> Path:
        return self.root / "trends.duckdb"

    @property
    def replaced_in_root(self) -> list[Path]:
        """What a build replaces by a rename in the warehouse itself: their temporaries sit beside them."""
        return [self.duckdb_path, self.parquet_dir]

    @property
    def lock_path(self) -> Path:
        return self.root / ".papertrends.lock"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def validation_dir(self) -> Path:
        return self.root / "validation"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"

    @property
    def written_dirs(self) -> list[Path]:
        """The directories a build writes into (never the digests directory)."""
        return [self.builds_dir, self.staging_dir, self.validation_dir, self.report_dir]


@dataclass(frozen=True)
class Settings:
    warehouse_dir: Path
    digests_dir: Path
    year: int | None = None

    @property
    def layout(self) -> Layout:
        return Layout(self.warehouse_dir)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        warehouse = Path(env.get("PAPERTRENDS_WAREHOUSE_DIR") or "warehouse").expanduser().resolve()
        digests_value = env.get("PAPERTRENDS_DIGESTS_DIR")
        digests = Path(digests_value).expanduser().resolve() if digests_value else warehouse / "raw"
        return cls(warehouse, digests, _year_from_env(env.get("PAPERTRENDS_YEAR")))
