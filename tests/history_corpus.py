"""A hand-made history of digests, for oracles of what consolidation makes of them
(tests/test_oracles_history.py) and of the published files' schemas (tests/test_oracles_store.py).

Sixteen files over March and April 2026: byte-identical copies, a copy with CRLF line
endings, an undated copy of a file dated by its name, titles that normalize to one paper
sighted in several orders, JSON captures with arXiv ids and stars. Ids that are hashes are
computed here with hashlib from literal text (the normalized title, the file's text), never
with pipeline.read.identity.
"""

import datetime as dt
import hashlib
import json

import pyarrow.parquet as pq
import pytest

from pipeline.config import Settings
from tests.helpers import abstract, publish_unchecked, render


def _text(date_line: str | None, entries: list[tuple[str, str]], tail: tuple[str, ...] = ()) -> str:
    """The samples' layout (tests.helpers.render), then the blocks of `tail`."""
    return "\n\n".join([render(date_line, entries), *tail])


def _abstract(seed: str, link: str | None = None) -> str:
    text = f"{seed}. " + abstract(seed.lower())
    return text + (f" The code is at {link} for everyone." if link else "")


def _json(day: str, items: list[dict]) -> str:
    return json.dumps(
        [{"paper": {**item, "submittedOnDailyAt": f"{day}T00:00:00.000Z"}, "numComments": 0} for item in items],
        indent=1,
        ensure_ascii=False,
    )


# The abstracts, each of its own sighting.
G_M, G_Z, G_A = (
    _abstract("Graph M", "github.com/gn/lib"),
    _abstract("Graph Z", "http://github.com/gn/lib"),
    _abstract("Graph A", "https://GitHub.com/gn/lib/"),
)
K_UPPER, K_LOWER = _abstract("Kernel upper", "https://gitlab.com/kt/code/"), _abstract("Kernel lower", "gitlab.com/kt/code")
S_SAMPLE, S_JSON = _abstract("Sparse sample"), "Sparse things as the later JSON summary gives them, in one sentence of prose."
R_EARLY, R_LATER = (
    "Reward models early summary in the earlier list of the day before.",
    "Reward models later summary in the later list.",
)
F_ABS, D_ABS, N_ABS, U_ABS, APR_ABS = (_abstract(seed) for seed in ("Filler", "Duplicated", "Numbered", "Undated", "April"))
COPY_TEXT = _text("Mar 14", [("Duplicated Digest Paper", D_ABS)], ("Lonely Title Of The Copy",))
NUMBERS_TEXT = _text("Mar 15", [("Numbered Names Paper", N_ABS)], ("Lonely Title Of The Numbers",))
UNDATED_TEXT = _text(None, [("Undated Copy Paper", U_ABS)])

HISTORY = {
    "c-noid.txt": _text("Mar 10", [("Sparse Things", S_SAMPLE)]),
    "k-early.json": _json(
        "2026-03-11",
        [
            {
                "id": "2603.00001",
                "title": "Reward Models Are Calibrated",
                "summary": R_EARLY,
                "githubRepo": "https://github.com/calib/rm.git",
                "githubStars": 7,
            }
        ],
    ),
    "m-tie.txt": _text("Mar 11", [("Graph Nets: A Survey", G_M), ("Filler Paper One", F_ABS)]),
    "z-early.txt": _text("Mar 11", [("Graph nets: a survey!", G_Z)]),
    "Z-upper.txt": _text("Mar 12", [("KERNEL TRICKS REVISITED", K_UPPER)]),
    "a-lower.txt": _text("Mar 12", [("Kernel tricks, revisited", K_LOWER)]),
    "b-later.json": _json(
        "2026-03-12",
        [
            {
                "id": "2603.00002",
                "title": "reward models are calibrated",
                "summary": R_LATER,
                "githubRepo": "https://github.com/calib/rm",
                "githubStars": 10,
            },
            {"id": "2603.00003", "title": "Sparse things.", "summary": S_JSON},
        ],
    ),
    "a-late.txt": _text("Mar 13", [("GRAPH NETS -- A SURVEY", G_A)]),
    # Byte-identical copies: "digest (copy).txt" sorts first (" " is U+0020, "." U+002E).
    "digest.txt": COPY_TEXT,
    "digest (copy).txt": COPY_TEXT,
    # "10.txt" sorts before "9.txt"; "9-crlf.txt" is the same text with CRLF line endings.
    "9.txt": NUMBERS_TEXT,
    "10.txt": NUMBERS_TEXT,
    "9-crlf.txt": NUMBERS_TEXT.replace("\n", "\r\n"),
    # No date line: "2026-03-16.txt" is dated by its name; "0-undated.txt" sorts first but is undated.
    "2026-03-16.txt": UNDATED_TEXT,
    "0-undated.txt": UNDATED_TEXT,
    "apr.txt": _text("Apr 2", [("An April Paper", APR_ABS)]),
}


def hand_paper_id(normalized_title: str) -> str:
    """The contract's paper_id of a title normalized by hand (NFKC, casefold, punctuation runs as one space)."""
    return hashlib.sha256(normalized_title.encode()).hexdigest()[:16]


def hand_digest_id(name: str) -> str:
    """The files above are NFC, LF (but 9-crlf.txt), with no trailing whitespace: their LF text is the normalized text."""
    return hashlib.sha256(HISTORY[name].replace("\r\n", "\n").encode()).hexdigest()


G, K, S, R_ = (
    hand_paper_id("graph nets a survey"),
    hand_paper_id("kernel tricks revisited"),
    hand_paper_id("sparse things"),
    hand_paper_id("reward models are calibrated"),
)
F, DUP, NUM, UND, APR = (
    hand_paper_id(title)
    for title in ("filler paper one", "duplicated digest paper", "numbered names paper", "undated copy paper", "an april paper")
)
MAR = {day: dt.date(2026, 3, day) for day in range(10, 17)}
APR_2 = dt.date(2026, 4, 2)


# Counted by hand from the digests above (paper_terms: as many as the published files hold).
HISTORY_ROWS = {"digests": 16, "papers": 9, "appearances": 14, "repo_links": 3, "rejects": 2, "repo_stars": 2}


def history_rows(paper_terms_files) -> dict[str, int]:
    """HISTORY_ROWS with paper_terms counted from its files' own metadata (too many to count by hand)."""
    return {**HISTORY_ROWS, "paper_terms": sum(pq.read_metadata(path).num_rows for path in paper_terms_files)}


@pytest.fixture(scope="session")
def history(tmp_path_factory) -> Settings:
    """The digests above staged, consolidated and published through pipeline/ (read-only for the tests).

    The candidates are approved as a passing check approves them (record_check), without
    running the checks: these tests are about what consolidation makes of the digests, and
    stay fast enough for `make mutation`. test_oracles_history builds them with the checks too.
    """
    root = tmp_path_factory.mktemp("history")
    raw = root / "raw"
    raw.mkdir()
    for name, text in HISTORY.items():
        (raw / name).write_bytes(text.encode("utf-8"))
    settings = Settings(root / "warehouse", raw, None)
    publish_unchecked(settings)
    return settings
