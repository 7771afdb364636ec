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
import baseline_pandas  # noqa: E402
import bench  # noqa: E402
import check_time  # noqa: E402
import generate  # noqa: E402

SEED = 11
DIGESTS = 24  # above pipeline.incremental.PARALLEL_MIN_DIGESTS: the worker pool runs


@pytest.fixture(scope="module")
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
    abstracts = [block for block in blocks[5:][1::2]]
    assert all(generate.ABSTRACT_CHARS[0] <= len(block) <= generate.ABSTRACT_CHARS[1] for block in abstracts)


def test_the_warehouse_matches_the_manifest_and_one_more_digest_parses_alone(corpus, tmp_path):
    root, manifest = corpus
    digests = tmp_path / "digests"
    shutil.copytree(root / "digests", digests)
    settings = Settings(tmp_path / "warehouse", digests, None)
    result = build_warehouse(settings)
    assert len(result.parsed) == DIGESTS
    assert result.row_counts["appearances"] == manifest["appearances"]
    assert result.row_counts["papers"] == manifest["papers"]
    assert result.row_counts["repo_links"] == manifest["link_pairs"]
    assert result.row_counts["rejects"] == 0
    with duckdb.connect(str(result.duckdb_path), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT paper_id) FROM repo_links").fetchone()[0] == manifest["papers_with_links"]
        assert con.execute("SELECT count(DISTINCT digest_date) FROM digests").fetchone()[0] == manifest["days"]
        seen_twice = con.execute("SELECT count(*) FROM paper_recurrence WHERE days_seen >= 2").fetchone()[0]
        assert seen_twice == manifest["papers_seen_on_2_or_more_days"]

    (extra,) = (root / "extra").iterdir()
    shutil.copy2(extra, digests / extra.name)
    again = build_warehouse(settings)
    assert again.parsed == [extra.name]
    assert again.row_counts["digests"] == DIGESTS + 1


def test_the_pandas_baseline_reads_the_same_tables(corpus):
    root, manifest = corpus
    tables = baseline_pandas.parse(sorted(path for path in (root / "digests").iterdir() if not path.name.startswith(".")))
    assert len(tables["appearances"]) == manifest["appearances"]
    assert len(tables["papers"]) == manifest["papers"]
    assert len(tables["repo_links"]) == manifest["link_pairs"]


@pytest.mark.slow
def test_bench_runs_end_to_end(tmp_path):
    out = tmp_path / "RESULTS.md"
    size = 8  # the Dagster builds (two subprocesses) dominate the time, not the size
    assert bench.main(
        ["--sizes", str(size), "--seed", str(SEED), "--corpus", str(tmp_path / "corpus"),
         "--work", str(tmp_path / "work"), "--out", str(out), "--reader-size", str(size), "--repeats", "2"]
    ) == 0
    report = out.read_text(encoding="utf-8")
    manifest = json.loads((tmp_path / "corpus" / str(size) / generate.MANIFEST_NAME).read_text())
    assert f"| {size} | " in report and f"| {manifest['appearances']:,} |" in report
    # Two runs of each path: the fastest, then the other in parentheses, for pipeline/ and Dagster.
    assert len(re.findall(r"\| [0-9.]+ \([0-9.]+\) \|", report)) == 2
    # The ratio and what Dagster adds in seconds: a faster pipeline/ raises the one, not the other.
    assert re.search(r"\| [0-9.]+x \| [0-9.]+ s \|$", report, re.MULTILINE)
    assert "## Adding one digest" in report and "| Dagster (`papertrends build`) |" in report
    # One digest parsed by each incremental run: no other digest was re-parsed.
    assert "| 1 (BuildResult.parsed: 1) |" in report
    for view in ("daily_summary", "paper_recurrence", "recurrence_by_day", "repo_popularity"):
        assert f"| view {view} |" in report
    assert "error:" not in report
    assert "| floor: read each file" in report and "| pandas baseline" in report
    assert "| floor and the contract's two hashes only" in report


@pytest.mark.slow
def test_check_time_measures_builds_with_and_without_the_checks():
    without, with_checks = check_time.measure("without"), check_time.measure("with")
    # Wall and CPU seconds of a first build and of a rebuild, for each.
    assert len(without) == len(with_checks) == 4 and min(without + with_checks) > 0
    # The checks (and the GX import they need) cost CPU in the first build.
    assert with_checks[1] > without[1]
