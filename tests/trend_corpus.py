"""A small corpus written for the trend views: streaks, spans, shared days, copies.

Reference year 2026 (not a leap year: Feb 28 and Mar 1 are consecutive days).
"""

from pathlib import Path

import pytest

from pipeline.build import build_warehouse
from pipeline.config import Settings
from tests.helpers import abstract, render

YEAR = 2026
SCRIPT_TITLE = "<script>alert(1)</script> Escaping Titles in Reports"

PAPERS = {
    # Links that name no repository: a GitHub profile and a Hugging Face paper page.
    "A": (
        "Alpha: Streaks Across Four Days",
        abstract("alpha") + " Team: https://github.com/alpha-lab; see https://huggingface.co/papers/2602.01234.",
    ),
    "B": ("Beta: A Paper With Code on GitLab", abstract("beta") + " Code: gitlab.com/beta/code and https://github.com/shared/tool."),
    "C": ("Crossing the Month Boundary", abstract("crossing")),
    "H": ("Hugging Face Only", abstract("hugging") + " Data: https://huggingface.co/datasets/hf/only."),
    "P": ("Project Page Only", abstract("project") + " See https://proj.github.io/ for videos."),
    "S": ("Single Sighting", abstract("single")),
    "U": ("Undated Only", abstract("undated")),
    "X": (SCRIPT_TITLE, abstract("script") + " Code: https://github.com/evil/repo and github.com/shared/tool"),
}

# file name -> (date line, papers in digest order); None: no date line.
DIGESTS = {
    "01_feb27.txt": ("Feb 27", "C"),
    "02_feb28.txt": ("Feb 28", "C"),
    "03_mar01.txt": ("Mar 1", "ABC"),
    "04_mar02_morning.txt": ("Mar 2", "AP"),
    "05_mar02_evening.txt": ("Mar 2", "A"),
    "06_mar03.txt": ("Mar 3", "ABX"),
    "08_mar04_no_entries.txt": ("Mar 4", ""),
    "09_mar05.txt": ("Mar 5", "AHXS"),
    "10_undated.txt": (None, "U"),
}
# A byte-identical copy of a digest: a duplicate, which adds no appearances.
COPIES = {"07_mar03_copy.txt": "06_mar03.txt"}


def write_corpus(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, (date_line, letters) in DIGESTS.items():
        text = render(date_line, [PAPERS[letter] for letter in letters])
        (directory / name).write_text(text, encoding="utf-8")
    for copy, original in COPIES.items():
        (directory / copy).write_bytes((directory / original).read_bytes())


def build_corpus(root: Path) -> Settings:
    settings = Settings(root / "warehouse", root / "raw", YEAR)
    write_corpus(settings.digests_dir)
    build_warehouse(settings)
    return settings


@pytest.fixture(scope="session")
def small_settings(tmp_path_factory) -> Settings:
    """The corpus built through pipeline/ (import the fixture into a test module)."""
    return build_corpus(tmp_path_factory.mktemp("trend-corpus"))
