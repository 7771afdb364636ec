"""A small run of the benchmark harness, so that it cannot rot (the real run is `make bench`)."""

import json
import re
import shutil
import sys

import duckdb
import pytest

from pipeline.build import build_warehouse
from pipeline.config import Settings
from tests.helpers import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import baseline_pandas
import bench
import generate

SEED = 11
DIGESTS = 8


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    manifest = generate.generate(SEED, DIGESTS, root / "digests", root / "extra")
    return root, manifest


def _files(directory):
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def test_generator_is_deterministic(corpus, tmp_path):
    root, manifest = corpus
    again = generate.generate(SEED, DIGESTS, tmp_path / "digests", tmp_path / "extra")
    assert again == manifest
    assert _files(tmp_path / "digests") == _files(root / "digests")
    assert _files(tmp_path / "extra") == _files(root / "extra")
    other = generate.generate(SEED + 1, 3, tmp_path / "other")
    assert other["appearances"] != generate.generate(SEED, 3, tmp_path / "same")["appearances"] or _files(
        tmp_path / "other"
    ) != _files(tmp_path / "same")


def test_generated_digests_have_the_promised_shape(corpus):
    root, manifest = corpus
    names = sorted(path.name for path in (root / "digests").iterdir() if not path.name.startswith("."))
    assert len(names) == DIGESTS == manifest["digests"]
    assert 62 * DIGESTS <= manifest["appearances"] <= 78 * DIGESTS
    assert len(manifest["digests_per_year"]) == 4  # dates over four years
    assert manifest["papers"] < manifest["appearances"]  # some papers recur
    assert manifest["most_days_seen"] >= 3
    text = (root / "digests" / names[0]).read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    assert blocks[:4] == list(generate.HEADER) and not text.endswith("\n")
    abstracts = list(blocks[5:][1::2])
    assert all(generate.ABSTRACT_CHARS[0] <= len(block) <= generate.ABSTRACT_CHARS[1] for block in abstracts)


@pytest.mark.slow
def test_the_warehouse_matches_the_manifest_and_one_more_digest_parses_alone(corpus, tmp_path):
    root, manifest = corpus
    digests = tmp_path / "digests"
    shutil.copytree(root / "digests", digests)
    settings = Settings(tmp_path / "warehouse", digests, None)
    result = build_warehouse(settings)
    assert len(result.stage.parsed) == DIGESTS
    with duckdb.connect(str(settings.layout.duckdb_path), read_only=True) as con:
        counts = {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in ("appearances", "papers", "repo_links", "rejects")}
        assert counts == {"appearances": manifest["appearances"], "papers": manifest["papers"], "repo_links": manifest["link_pairs"], "rejects": 0}
        assert con.execute("SELECT count(DISTINCT paper_id) FROM repo_links").fetchone()[0] == manifest["papers_with_links"]
        assert con.execute("SELECT count(DISTINCT digest_date) FROM digests").fetchone()[0] == manifest["days"]
        seen_twice = con.execute("SELECT count(*) FROM paper_recurrence WHERE days_seen >= 2").fetchone()[0]
        assert seen_twice == manifest["papers_seen_on_2_or_more_days"]

    (extra,) = (root / "extra").iterdir()
    shutil.copy2(extra, digests / extra.name)
    again = build_warehouse(settings)
    assert [row["source_name"] for row in again.stage.parsed] == [extra.name]
    with duckdb.connect(str(settings.layout.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM digests").fetchone()[0] == DIGESTS + 1


def test_the_pandas_baseline_reads_the_same_tables(corpus):
    root, manifest = corpus
    tables = baseline_pandas.parse(sorted(path for path in (root / "digests").iterdir() if not path.name.startswith(".")))
    assert len(tables["appearances"]) == manifest["appearances"]
    assert len(tables["papers"]) == manifest["papers"]
    assert len(tables["repo_links"]) == manifest["link_pairs"]


@pytest.mark.slow
def test_bench_runs_end_to_end(tmp_path):
    out = tmp_path / "RESULTS.md"
    size = 8
    # Without the Dagster path: `papertrends build` in a child, and what its rebuilds touch,
    # are tested in tests/test_dagster.py; here the harness itself.
    assert bench.main(
        ["--sizes", str(size), "--seed", str(SEED), "--corpus", str(tmp_path / "corpus"),
         "--work", str(tmp_path / "work"), "--out", str(out), "--reader-size", str(size), "--repeats", "1", "--skip-dagster",
         "--json-items", "1000"]
    ) == 0
    report = out.read_text(encoding="utf-8")
    manifest = json.loads((tmp_path / "corpus" / str(size) / generate.MANIFEST_NAME).read_text())
    assert f"| {size} | " in report and f"| {manifest['appearances']:,} |" in report
    assert "| not run |" in report  # the Dagster columns, skipped
    assert "## Rebuilding the 8-digest warehouse" in report
    # One digest parsed by each +1 run, none by a run with nothing new, which touches no file.
    path = "pipeline/ (`build_warehouse`)"
    assert re.search(rf"\| {re.escape(path)} \| \+1 digest \|( [0-9.,]+( MB)? \|){{3}} 1 \|", report)
    assert re.search(rf"\| {re.escape(path)} \| nothing new \|( [0-9.,]+( MB)? \|){{3}} 0 \| yes \|", report)
    for name in ("daily_summary", "paper_recurrence", "recurrence_by_day", "repo_popularity", "papers"):
        assert f"| table or view {name} |" in report
    assert "## Lines of code" in report
    assert "## Term extraction (paper_terms)" in report and "| 1,000 | " in report  # the JSON reader's smaller capture
    assert "error:" not in report
    assert "| floor: read each file" in report and "| pandas baseline" in report
    assert "| floor and the contract's two hashes only" in report
