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


_PART = re.compile(r"\d{4}-\d{2}|part-0")


def _known_table(table: str) -> str:
    # Table names become directory names: only the five tables.
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    return table


def _part_file_name(part: str) -> str:
    # Parts come from dates, but also from plan and manifest files on disk: never a path.
    if not _PART.fullmatch(part):
        raise ValueError(f"not a table part: {part!r}")
    return f"{part}.parquet"


@dataclass(frozen=True)
class Layout:
    """Paths inside one warehouse directory (all absolute)."""

    root: Path

    @property
    def parquet_dir(self) -> Path:
        return self.root / "parquet"

    def table_dir(self, table: str) -> Path:
        return self.parquet_dir / _known_table(table)

    def table_file(self, table: str, part: str) -> Path:
        """One published file of a table: `part` is a month (YYYY-MM) or, for an unsplit table, part-0."""
        return self.table_dir(table) / _part_file_name(part)

    def table_files(self, table: str) -> list[Path]:
        """The published files of a table, sorted (temporaries are hidden names, never listed)."""
        directory = self.table_dir(table)
        if not directory.is_dir():
            return []
        return sorted(path for path in directory.iterdir() if path.suffix == ".parquet" and not path.name.startswith("."))

    def table_glob(self, table: str) -> str:
        return str(self.table_dir(table) / "**" / "*.parquet")

    @property
    def staging_dir(self) -> Path:
        return self.root / "staging"

    @property
    def candidates_dir(self) -> Path:
        """Consolidated table files awaiting their checks, before they are published."""
        return self.staging_dir / "tables"

    def candidate_file(self, table: str, part: str) -> Path:
        return self.candidates_dir / _known_table(table) / _part_file_name(part)

    @property
    def plan_path(self) -> Path:
        """What the candidates change: every part of every table, and which are written or removed."""
        return self.candidates_dir / "plan.json"

    @property
    def published_manifest_path(self) -> Path:
        """The fingerprint of each published part (what was consolidated into it), by table."""
        return self.staging_dir / "published.json"

    @property
    def snapshots_dir(self) -> Path:
        """Hard-linked copies of the published tables that trends.duckdb's views read."""
        return self.root / "snapshots"

    @property
    def written_dirs(self) -> list[Path]:
        """The directories a build writes (never the digests directory)."""
        return [self.parquet_dir, self.staging_dir, self.snapshots_dir, self.validation_dir, self.report_dir]

    @property
    def duckdb_path(self) -> Path:
        return self.root / "trends.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def validation_dir(self) -> Path:
        return self.root / "validation"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"


@dataclass(frozen=True)
class Settings:
    warehouse_dir: Path
    digests_dir: Path
    year: int | None

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
