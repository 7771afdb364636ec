"""A digests directory holding one capture of each format builds into the tables.

The oracles are tests/captures/EXPECTED.md (checked by hand) and the sample's facts
(DESIGN.md: 000_5909103161d329a2.txt lists 81 papers of Mar 12, none of them in the
captures). The samples alone still give exactly the old tables: tests/test_samples.py.
"""

import datetime as dt
import shutil

import duckdb
import pytest

from pipeline.build import build_warehouse
from pipeline.config import Settings
from tests.helpers import REPO, SAMPLES

CAPTURES = ("markdown.md", "markdown_ref.md", "text_export.txt", "trending.md", "daily_papers.json", "page.html")
SAMPLE = "000_5909103161d329a2.txt"
MAR = {day: dt.date(2026, 3, day) for day in (9, 12, 14)}
FEB_27 = dt.date(2026, 2, 27)

# source_name: (format, listing, status, digest_date, date_source, entry_count)
DIGESTS = {
    SAMPLE: ("sample", "daily", "ok", MAR[12], "reference_year", 81),
    "daily_papers.json": ("daily-papers-json", "daily", "ok", MAR[9], "capture", 3),
    "markdown.md": ("markdown", "daily", "ok", MAR[12], "capture", 4),
    "markdown_ref.md": ("markdown-ref", "daily", "ok", FEB_27, "date_line", 3),
    "page.html": ("unrecognized", "unknown", "unrecognized", None, None, 0),
    "text_export.txt": ("text-export", "daily", "ok", MAR[12], "capture", 4),
    "trending.md": ("trending", "trending", "ok", MAR[14], "capture", 4),
}
# title: arXiv id, the paper's first day seen (EXPECTED.md).
PAPERS = {
    "Sparse_MoE at Scale: Routing *Every* Token Through [MASK] Experts": ("2603.08817", MAR[12]),
    "λ-Agents: Typed Tool Use for Language Models via Δ-Calculus": ("2603.09102", MAR[12]),
    "Méthodes Über Alles: Cross-Lingual Retrieval for Low-Resource Languages": ("2603.07754", MAR[12]),
    "When \\cite Breaks: Robust Parsing of LaTeX-Heavy Abstracts": ("2603.06021", MAR[12]),
    "Tables Without Borders: Reading Scanned Spreadsheets with [Row] and [Col] Tokens": (None, FEB_27),
    "Ω-Diffusion: Sampling Images in 4 Steps with Consistency Trajectories": ("2602.21490", FEB_27),
    "Do Small Models Dream of Long Contexts?": ("2602.20733", FEB_27),
    "OpenCourt: A Multi-Agent Framework for Legal Reasoning": ("2603.01188", MAR[14]),
    "Serving 70B Models from a Laptop SSD with Predictive Paging": ("2603.02577", MAR[14]),
    "Ἀρχή: Pre-Training on Ancient Greek Papyri with Noisy OCR": ("2603.03340", MAR[14]),
    "VoxelWorld: Learning 3D Scene Dynamics from Monocular Video": ("2603.04412", MAR[14]),
    "Reward Models Are Secretly Calibrated: A Study of 40 Preference Datasets": ("2603.05501", MAR[9]),
    "Speech_Tokens: Discrete Units for Spoken Dialogue in 1,000 Languages": ("2603.05873", MAR[9]),
    "Können Sprachmodelle rechnen? Arithmetic Errors in German Word Problems": ("2603.06690", MAR[9]),
}
# (source_name, position): (upvotes, comments), for the cards that show either.
CARD_COUNTS = {
    ("markdown.md", 1): (57, 3), ("markdown.md", 2): (None, None), ("markdown.md", 3): (12, None), ("markdown.md", 4): (8, 1),
    ("text_export.txt", 1): (57, 3), ("text_export.txt", 2): (None, None), ("text_export.txt", 3): (12, None), ("text_export.txt", 4): (8, 1),
    ("markdown_ref.md", 1): (4, None), ("markdown_ref.md", 2): (131, 12), ("markdown_ref.md", 3): (None, None),
    ("trending.md", 1): (412, None), ("trending.md", 2): (96, None), ("trending.md", 3): (88, None), ("trending.md", 4): (23, None),
    ("daily_papers.json", 1): (64, 7), ("daily_papers.json", 2): (0, None), ("daily_papers.json", 3): (19, 2),
}  # fmt: skip
REPO_STARS = [
    ("https://github.com/calib-rm/harness", MAR[9], 1324),
    ("https://github.com/laptop-llm/predictive-paging", MAR[14], 3290),
    ("https://github.com/mlir-lab/uber-alles", MAR[12], 950),
    ("https://github.com/omega-diff/omega_diffusion", FEB_27, 12500),
    ("https://github.com/opencourt/opencourt", MAR[14], 110000),
    ("https://github.com/sparse-moe-lab/sparse_moe", MAR[12], 1320),
    ("https://github.com/voxelworld/voxelworld", MAR[14], 843),
]


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    digests = root / "raw"
    digests.mkdir()
    for name in CAPTURES:
        shutil.copyfile(REPO / "tests" / "captures" / name, digests / name)
    shutil.copyfile(SAMPLES / SAMPLE, digests / SAMPLE)
    settings = Settings(root / "warehouse", digests, None)
    result = build_warehouse(settings)
    assert result.published and all(check.success for check in result.results)
    with duckdb.connect(str(settings.layout.duckdb_path), read_only=True) as con:
        yield con


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_each_capture_is_read_in_its_format_with_its_listing_and_day(warehouse):
    got = _rows(warehouse, "SELECT source_name, format, listing, status, digest_date, date_source, entry_count FROM digests")
    assert {row[0]: row[1:] for row in got} == DIGESTS
    # Every block is accounted for, in every format.
    unaccounted = """
        SELECT source_name FROM digests
        WHERE header_block_count + (date_line IS NOT NULL)::INT + entry_block_count + reject_count <> block_count
    """
    assert _rows(warehouse, unaccounted) == []


def test_the_html_page_is_refused_not_read(warehouse):
    reasons = _rows(warehouse, "SELECT DISTINCT reason FROM rejects WHERE source_name = 'page.html'")
    assert reasons == [("unrecognized_format",)]
    assert _rows(warehouse, "SELECT count(*) FROM rejects WHERE source_name <> 'page.html'") == [(0,)]


def test_each_paper_of_each_capture_is_in_papers_once_with_its_arxiv_id(warehouse):
    assert _rows(warehouse, "SELECT count(*), count(DISTINCT paper_id) FROM papers") == [(81 + 14, 81 + 14)]
    got = _rows(warehouse, "SELECT title, arxiv_id, first_seen_date FROM papers WHERE arxiv_id IS NOT NULL OR first_seen_date <> DATE '2026-03-12'")
    assert {title: (arxiv_id, day) for title, arxiv_id, day in got} == {
        title: fact for title, fact in PAPERS.items() if fact[0] is not None or fact[1] != MAR[12]
    }
    titles = {title for (title,) in _rows(warehouse, "SELECT title FROM papers")}
    assert set(PAPERS) <= titles
    # The same four papers in markdown.md and text_export.txt: two appearances, one paper.
    twice = _rows(warehouse, "SELECT p.title FROM appearances a JOIN papers p USING (paper_id) GROUP BY ALL HAVING count(*) = 2")
    assert sorted(title for (title,) in twice) == sorted(list(PAPERS)[:4])


def test_abstracts_are_unescaped_and_as_long_as_the_capture_has_them(warehouse):
    abstracts = dict(_rows(warehouse, "SELECT title, abstract FROM papers"))
    assert abstracts["Sparse_MoE at Scale: Routing *Every* Token Through [MASK] Experts"].endswith(
        "https://github.com/sparse-moe-lab/sparse_moe."
    )
    assert "$O(n \\log n)$" in abstracts["When \\cite Breaks: Robust Parsing of LaTeX-Heavy Abstracts"]
    assert "[Row] and [Col]" in abstracts["Tables Without Borders: Reading Scanned Spreadsheets with [Row] and [Col] Tokens"]
    greek = abstracts["Ἀρχή: Pre-Training on Ancient Greek Papyri with Noisy OCR"]
    assert greek.endswith("restor…") and len(greek) == 201  # cut on the trending page
    assert "\n" not in abstracts["Reward Models Are Secretly Calibrated: A Study of 40 Preference Datasets"]


def test_cards_give_upvotes_comments_authors_and_keywords(warehouse):
    got = _rows(warehouse, "SELECT d.source_name, a.position, a.upvotes, a.comments FROM appearances a JOIN digests d USING (digest_id) WHERE d.format <> 'sample'")
    assert {(source, position): (upvotes, comments) for source, position, upvotes, comments in got} == CARD_COUNTS
    people = dict(_rows(warehouse, "SELECT title, authors FROM papers WHERE title LIKE 'Reward Models%' OR title LIKE 'Können%'"))
    assert people["Reward Models Are Secretly Calibrated: A Study of 40 Preference Datasets"] == [
        "Iris Chang", "Mateo Gómez", "Nadia Haddad", "Kwame Boateng",
    ]  # fmt: skip
    assert people["Können Sprachmodelle rechnen? Arithmetic Errors in German Word Problems"] is None  # no authors key
    keywords = _rows(warehouse, "SELECT keywords FROM papers WHERE title LIKE 'Reward Models%'")
    assert keywords == [(["reward modeling", "calibration", "RLHF"],)]


def test_repo_stars_and_card_links(warehouse):
    assert _rows(warehouse, "SELECT url, day, stars FROM repo_stars") == REPO_STARS
    card = _rows(warehouse, "SELECT url FROM repo_links WHERE source = 'card' ORDER BY url")
    # The other badges' repositories are in their abstracts too, and the abstract's link is kept.
    assert card == [("https://github.com/laptop-llm/predictive-paging",), ("https://github.com/mlir-lab/uber-alles",)]


def test_trend_views_count_daily_listings_only(warehouse):
    days = _rows(warehouse, "SELECT day, digests, appearances, distinct_papers, new_papers FROM daily_summary")
    assert days == [(FEB_27, 1, 3, 3, 3), (MAR[9], 1, 3, 3, 3), (MAR[12], 3, 81 + 4 + 4, 81 + 4, 81 + 4)]
    trending_only = _rows(warehouse, "SELECT count(*) FROM paper_recurrence WHERE title LIKE 'OpenCourt%'")
    assert trending_only == [(0,)]  # seen on the trending page only: on no day's list
    # Upvotes are read from captures of every listing.
    top = _rows(warehouse, "SELECT rank, title, upvotes FROM top_upvoted('2026-01-01', '2026-12-31', 3)")
    assert top == [
        (1, "OpenCourt: A Multi-Agent Framework for Legal Reasoning", 412),
        (2, "Ω-Diffusion: Sampling Images in 4 Steps with Consistency Trajectories", 131),
        (3, "Serving 70B Models from a Laptop SSD with Predictive Paging", 96),
    ]
    upvoted = _rows(warehouse, "SELECT max_upvotes, latest_upvotes FROM paper_recurrence WHERE title LIKE 'Sparse_MoE%'")
    assert upvoted == [(57, 57)]
