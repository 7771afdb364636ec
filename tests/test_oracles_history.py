"""First versus last: what consolidation makes of a hand-made history, its tables written out by hand.

A paper's title, abstract, arxiv_id and raw link come from its first sighting in
(digest_date, source_name by code point, position) order; of byte-identical copies the
one whose source_name sorts first (by code point) is the digest. The history and its
hand-computed ids are in tests/history_corpus.py.
"""

import re
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.build import REQUIRED_CHECKS, build_warehouse
from pipeline.config import Settings
from pipeline.schemas import TABLES
from pipeline.serve.trends_db import built_from
from pipeline.store.consolidate import _runs_by_part
from pipeline.store.publish import published_record
from tests.helpers import UTC_SECONDS, publish_unchecked
from tests.history_corpus import (
    APR,
    APR_2,
    APR_ABS,
    D_ABS,
    DUP,
    F_ABS,
    G_M,
    HISTORY,
    K_UPPER,
    MAR,
    N_ABS,
    NUM,
    R_,
    R_EARLY,
    S_SAMPLE,
    U_ABS,
    UND,
    F,
    G,
    K,
    S,
    hand_digest_id,
    history_rows,
)


def _rows(settings: Settings, table: str) -> list[dict]:
    files = sorted((settings.warehouse_dir / "parquet" / table).glob("*.parquet"))
    return pa.concat_tables([pq.read_table(path) for path in files]).to_pylist()


def test_the_hand_ids_are_those_of_the_files():
    assert hand_digest_id("9-crlf.txt") == hand_digest_id("9.txt") == hand_digest_id("10.txt")
    assert HISTORY["digest.txt"].encode() == HISTORY["digest (copy).txt"].encode()
    assert HISTORY["9.txt"].encode() == HISTORY["10.txt"].encode() != HISTORY["9-crlf.txt"].encode()
    assert sorted(HISTORY) == [
        "0-undated.txt", "10.txt", "2026-03-16.txt", "9-crlf.txt", "9.txt", "Z-upper.txt", "a-late.txt", "a-lower.txt", "apr.txt",
        "b-later.json", "c-noid.txt", "digest (copy).txt", "digest.txt", "k-early.json", "m-tie.txt", "z-early.txt",
    ]  # fmt: skip


def test_of_copies_the_first_read_and_dated_by_code_point_is_the_digest(history):
    digests = [
        (row["source_name"], row["status"], row["duplicate_of"], row["digest_date"], row["digest_id"])
        for row in _rows(history, "digests")
    ]
    assert digests == [
        ("0-undated.txt", "undated", "2026-03-16.txt", None, hand_digest_id("2026-03-16.txt")),
        ("10.txt", "ok", None, MAR[15], hand_digest_id("10.txt")),
        ("2026-03-16.txt", "ok", None, MAR[16], hand_digest_id("2026-03-16.txt")),
        ("9-crlf.txt", "duplicate", "10.txt", MAR[15], hand_digest_id("10.txt")),
        ("9.txt", "duplicate", "10.txt", MAR[15], hand_digest_id("10.txt")),
        ("Z-upper.txt", "ok", None, MAR[12], hand_digest_id("Z-upper.txt")),
        ("a-late.txt", "ok", None, MAR[13], hand_digest_id("a-late.txt")),
        ("a-lower.txt", "ok", None, MAR[12], hand_digest_id("a-lower.txt")),
        ("apr.txt", "ok", None, APR_2, hand_digest_id("apr.txt")),
        ("b-later.json", "ok", None, MAR[12], hand_digest_id("b-later.json")),
        ("c-noid.txt", "ok", None, MAR[10], hand_digest_id("c-noid.txt")),
        ("digest (copy).txt", "ok", None, MAR[14], hand_digest_id("digest.txt")),
        ("digest.txt", "duplicate", "digest (copy).txt", MAR[14], hand_digest_id("digest.txt")),
        ("k-early.json", "ok", None, MAR[11], hand_digest_id("k-early.json")),
        ("m-tie.txt", "ok", None, MAR[11], hand_digest_id("m-tie.txt")),
        ("z-early.txt", "ok", None, MAR[11], hand_digest_id("z-early.txt")),
    ]


def test_the_rejects_of_copies_are_the_kept_copys(history):
    """A reject names its file: the copy kept is the one the contract names, and the other copies add none."""
    rejects = [
        (row["source_name"], row["digest_id"], row["line"], row["reason"], row["raw_text"]) for row in _rows(history, "rejects")
    ]
    # Header blocks on lines 1, 3, 5, 7; the date line 9; the title 11, its abstract 13; the lonely title 15.
    assert rejects == [
        ("10.txt", hand_digest_id("10.txt"), 15, "title_without_abstract", "Lonely Title Of The Numbers"),
        ("digest (copy).txt", hand_digest_id("digest.txt"), 15, "title_without_abstract", "Lonely Title Of The Copy"),
    ]


def test_copies_add_each_entry_once(history):
    appearances = [
        (row["paper_id"], row["digest_id"], row["digest_date"], row["position"], row["line"])
        for row in _rows(history, "appearances")
    ]
    # The title's line: 11 after four header blocks and a date line; 9 in the file without a date line.
    for paper_id, name, day, line in [
        (DUP, "digest.txt", MAR[14], 11),
        (NUM, "10.txt", MAR[15], 11),
        (UND, "2026-03-16.txt", MAR[16], 9),
    ]:
        assert [row for row in appearances if row[0] == paper_id] == [(paper_id, hand_digest_id(name), day, 1, line)]


def test_a_paper_is_its_first_sighting_by_digest_date_then_source_name_by_code_point(history):
    papers = {row["paper_id"]: row for row in _rows(history, "papers")}
    assert {
        paper_id: (row["title"], row["abstract"], row["arxiv_id"], row["first_seen_date"], row["last_seen_date"])
        for paper_id, row in papers.items()
    } == {
        # Mar 11 twice (m-tie.txt before z-early.txt), Mar 13 once (a-late.txt sorts first but is later).
        G: ("Graph Nets: A Survey", G_M, None, MAR[11], MAR[13]),
        F: ("Filler Paper One", F_ABS, None, MAR[11], MAR[11]),
        # Mar 12 twice: "Z-upper.txt" before "a-lower.txt" by code point (Z is U+005A, a U+0061).
        K: ("KERNEL TRICKS REVISITED", K_UPPER, None, MAR[12], MAR[12]),
        # k-early.json (Mar 11) before b-later.json (Mar 12, which sorts first): its title and its arXiv id.
        R_: ("Reward Models Are Calibrated", R_EARLY, "2603.00001", MAR[11], MAR[12]),
        # The first sighting (Mar 10, a sample) carries no arXiv id: the first one any sighting carries.
        S: ("Sparse Things", S_SAMPLE, "2603.00003", MAR[10], MAR[12]),
        DUP: ("Duplicated Digest Paper", D_ABS, None, MAR[14], MAR[14]),
        NUM: ("Numbered Names Paper", N_ABS, None, MAR[15], MAR[15]),
        UND: ("Undated Copy Paper", U_ABS, None, MAR[16], MAR[16]),
        APR: ("An April Paper", APR_ABS, None, APR_2, APR_2),
    }
    # Row order: first_seen_date, then paper_id.
    assert [row["paper_id"] for row in _rows(history, "papers")] == [
        S, *sorted([G, F, R_]), K, DUP, NUM, UND, APR
    ]  # fmt: skip


def test_a_link_keeps_its_first_sightings_raw_url(history):
    links = [
        (row["paper_id"], row["url"], row["raw_url"], row["host"], row["kind"], row["owner"], row["repo"], row["source"])
        for row in _rows(history, "repo_links")
    ]
    assert sorted(links) == sorted(
        [
            (G, "https://github.com/gn/lib", "github.com/gn/lib", "github.com", "github", "gn", "lib", "abstract"),
            (K, "https://gitlab.com/kt/code", "https://gitlab.com/kt/code/", "gitlab.com", "gitlab", "kt", "code", "abstract"),
            (R_, "https://github.com/calib/rm", "https://github.com/calib/rm.git", "github.com", "github", "calib", "rm", "card"),
        ]
    )


def test_stars_are_kept_per_repository_and_day(history):
    stars = [(row["url"], row["day"], row["stars"]) for row in _rows(history, "repo_stars")]
    assert stars == [("https://github.com/calib/rm", MAR[11], 7), ("https://github.com/calib/rm", MAR[12], 10)]


def test_each_sighting_keeps_its_own_arxiv_id_in_appearances(history):
    cards = sorted((row["digest_id"], row["arxiv_id"]) for row in _rows(history, "appearances") if row["paper_id"] in (R_, S))
    assert cards == sorted(
        [
            (hand_digest_id("k-early.json"), "2603.00001"),
            (hand_digest_id("b-later.json"), "2603.00002"),
            (hand_digest_id("b-later.json"), "2603.00003"),
            (hand_digest_id("c-noid.txt"), None),
        ]
    )


def test_a_rebuild_from_a_new_staging_keeps_each_digests_first_ingestion(history, tmp_path):
    """The staging parsed anew (new parse times), the published digests table keeps the times it had."""
    root = tmp_path / "warehouse"
    shutil.copytree(history.warehouse_dir, root, ignore=shutil.ignore_patterns(".papertrends.lock"), symlinks=True)
    shutil.rmtree(root / "staging")
    settings = Settings(root, history.digests_dir, None)
    publish_unchecked(settings)
    first = {row["source_name"]: row["ingested_at"] for row in _rows(history, "digests")}
    assert {row["source_name"]: row["ingested_at"] for row in _rows(settings, "digests")} == first


def _batches(parts: list[str], size: int) -> pa.RecordBatchReader:
    table = pa.table({"part": parts, "row": list(range(len(parts)))})
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=size))


@pytest.mark.parametrize("size", [1, 2, 3, 6])
def test_a_tables_rows_go_to_their_parts_in_order_whatever_the_batches(size):
    # Three parts in one batch (size 6), and runs cut across batches (sizes 1-3).
    runs = [(part, rows.to_pylist()) for part, rows in _runs_by_part(_batches(["a", "a", "b", "c", "c", "c"], size))]
    assert runs == [
        ("a", [{"row": 0}, {"row": 1}]),
        ("b", [{"row": 2}]),
        ("c", [{"row": 3}, {"row": 4}, {"row": 5}]),
    ]


@pytest.mark.whole_build
def test_the_history_built_with_its_checks_passes_them_and_gives_the_same_tables(history, tmp_path):
    """The fixture approves its candidates by hand; built whole, every check passes on them."""
    raw = tmp_path / "raw"
    shutil.copytree(history.digests_dir, raw)
    settings = Settings(tmp_path / "warehouse", raw, None)
    result = build_warehouse(settings)
    assert result.published
    assert {check.name for check in result.results if check.success} >= set(REQUIRED_CHECKS)
    for table in TABLES:
        whole, unchecked = _rows(settings, table), _rows(history, table)
        if table == "digests":  # the time of each warehouse's first ingestion
            whole = [{**row, "ingested_at": None} for row in whole]
            unchecked = [{**row, "ingested_at": None} for row in unchecked]
        assert whole == unchecked, table


def test_the_published_record_names_the_build_its_rows_and_when_in_utc(history):
    """Without the checks (the history fixture): what test_audit_gate asserts after a checked publish."""
    layout = history.layout
    record = published_record(layout)
    assert record.rows == history_rows(layout.table_files("paper_terms"))
    assert record.build_key == built_from(layout.root / "trends.duckdb")[0]
    assert re.fullmatch(UTC_SECONDS, record.published_at), record
