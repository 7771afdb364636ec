"""The warehouse as a Dagster resource: paths and settings shared by every asset."""

from pathlib import Path

import dagster as dg

from pipeline.config import Layout, Settings


class WarehouseResource(dg.ConfigurableResource):
    """Where the digests are read and the warehouse is written."""

    warehouse_dir: str
    digests_dir: str
    year: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "WarehouseResource":
        return cls(
            warehouse_dir=str(settings.warehouse_dir),
            digests_dir=str(settings.digests_dir),
            year=settings.year,
        )

    @property
    def settings(self) -> Settings:
        return Settings(Path(self.warehouse_dir), Path(self.digests_dir), self.year)

    @property
    def layout(self) -> Layout:
        return self.settings.layout
