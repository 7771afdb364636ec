"""Random histories: digests added, removed, rewritten and copied, a rebuild after each edit.

After every step, the published tables and every table of trends.duckdb equal a
from-scratch build of the same inputs, and the trend views equal the plain-Python
reference computed from the published tables.
"""

import random
import shutil

import pytest

from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.schemas import TABLES
from pipeline.serve.trends_db import STORED, VIEWS, connect_readonly
from tests.helpers import read_table, render
from tests.trend_corpus import PAPERS, YEAR, write_corpus
from tests.trend_reference import EXPECTED_VIEWS, Tables

MONTHS = {"Jan": 31, "Feb": 28, "Mar": 31, "Apr": 30}
LETTERS = "ABCHPSX"


def _random_digest(rng: random.Random) -> str:
    month = rng.choice(list(MONTHS))
    papers = [PAPERS[letter] for letter in rng.sample(LETTERS, rng.randint(1, 4))]
    if rng.random() < 0.3:  # a title spelled otherwise: the same paper id
        title, text = papers[0]
        papers[0] = (title.lower(), text)
    return render(f"{month} {rng.randint(1, MONTHS[month])}", papers)


def _edit(directory, rng: random.Random, step: int) -> str:
    names = sorted(path.name for path in directory.iterdir())
    edit = rng.choice(["add", "add", "remove", "rewrite", "copy"])
    if edit == "add" or len(names) < 3:
        (directory / f"r{step}.txt").write_text(_random_digest(rng))
    elif edit == "remove":
        (directory / rng.choice(names)).unlink()
    elif edit == "rewrite":
        (directory / rng.choice(names)).write_text(_random_digest(rng))
    else:
        (directory / f"copy{step}.txt").write_bytes((directory / rng.choice(names)).read_bytes())
    return edit


def _published(settings: Settings) -> dict:
    # ingested_at is when a warehouse first saw the content: it differs between warehouses.
    return {table: read_table(settings.layout, table).drop_columns(["ingested_at"] if table == "digests" else []) for table in TABLES}


def _trends_db(settings: Settings) -> dict:
    with connect_readonly(settings.layout.duckdb_path) as con:
        contents = {}
        for name in (*STORED, *VIEWS):
            table = con.sql(f"SELECT * FROM {name}").to_arrow_table()
            contents[name] = table.drop_columns(["ingested_at"]) if name == "digests" else table
        return contents


def _assert_views_match_reference(settings: Settings) -> None:
    tables = Tables.load(settings)
    with connect_readonly(settings.layout.duckdb_path) as con:
        for view, expected in EXPECTED_VIEWS.items():
            cursor = con.execute(f"SELECT * FROM {view}")
            names = [column[0] for column in cursor.description]
            assert [dict(zip(names, row, strict=False)) for row in cursor.fetchall()] == expected(tables), view


@pytest.mark.slow
@pytest.mark.parametrize("seed", [20261203])
def test_every_step_equals_a_build_from_scratch(tmp_path, seed):
    rng = random.Random(seed)
    settings = Settings(tmp_path / "warehouse", tmp_path / "raw", YEAR)
    write_corpus(settings.digests_dir)
    build_warehouse(settings)
    for step in range(3):
        edit = _edit(settings.digests_dir, rng, step)
        build_warehouse(settings)
        scratch = Settings(tmp_path / f"scratch-{step}", settings.digests_dir, YEAR)
        build_warehouse(scratch)
        assert _published(settings) == _published(scratch), (step, edit)
        assert _trends_db(settings) == _trends_db(scratch), (step, edit)
        _assert_views_match_reference(settings)
        shutil.rmtree(scratch.warehouse_dir)
