"""Where things live: settings from the environment and the warehouse layout."""

import os
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


@dataclass(frozen=True)
class Layout:
    """Paths inside one warehouse directory (all absolute)."""

    root: Path

    @property
    def parquet_dir(self) -> Path:
        return self.root / "parquet"

    def table_dir(self, table: str) -> Path:
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}")
        return self.parquet_dir / table

    def table_file(self, table: str) -> Path:
        return self.table_dir(table) / "part-0.parquet"

    def table_glob(self, table: str) -> str:
        return str(self.table_dir(table) / "**" / "*.parquet")

    @property
    def staging_dir(self) -> Path:
        return self.root / "staging"

    def candidate_file(self, table: str) -> Path:
        """A consolidated table awaiting its checks, before it is published."""
        if table not in TABLES:
            raise ValueError(f"unknown table {table!r}")
        return self.staging_dir / "tables" / f"{table}.parquet"

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
