"""Publishing: checked candidate tables move into warehouse/parquet in one rename each."""

import os

from pipeline.atomic import fsync_dir
from pipeline.config import Layout
from pipeline.schemas import TABLES


def publish_candidates(layout: Layout) -> list[str]:
    """Move every candidate table into place; returns the tables published.

    All five are written before any moves, so readers see old and new tables mixed
    only for the few microseconds between renames.
    """
    missing = [table for table in TABLES if not layout.candidate_file(table).exists()]
    if missing:
        raise FileNotFoundError(f"no candidate for table(s) {', '.join(missing)}: materialize the tables first")
    for table in TABLES:
        layout.table_dir(table).mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        os.replace(layout.candidate_file(table), layout.table_file(table))
    for table in TABLES:
        fsync_dir(layout.table_dir(table))
    return list(TABLES)
