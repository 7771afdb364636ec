"""The README documents what the code does: its data dictionary is the schemas'."""

import re

from pipeline.read.parsed import DIGEST_STATUSES, REJECT_REASONS
from pipeline.schemas import data_dictionary_markdown
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")
DOCS = REPO / "docs"


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "run"], ["make", "test"]]


def test_readme_is_a_front_page():
    assert len(README.encode("utf-8")) <= 15_000
    # Every document it links to exists.
    for target in re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)", README):
        assert (REPO / target).is_file(), target


def test_data_dictionary_is_generated_from_the_schemas():
    assert data_dictionary_markdown() in (DOCS / "data-dictionary.md").read_text(encoding="utf-8")


def test_every_reject_reason_and_status_is_documented():
    reading = (DOCS / "reading.md").read_text(encoding="utf-8")
    for word in (*REJECT_REASONS, *DIGEST_STATUSES):
        assert f"| `{word}` |" in reading, word


def test_no_measured_figure_outside_the_benchmarks():
    """Timings live in benchmarks/ only: a figure in prose or a comment goes stale."""
    # Measured-looking figures: fractional seconds, milliseconds, throughputs, speed-up ratios.
    timing = re.compile(r"\b\d+\.\d+\s?(?:s|seconds)\b|\b\d+(?:\.\d+)?\s?(?:ms|MB/s)\b|\b\d+(?:\.\d+)?x (?:faster|slower)")
    offenders = []
    for path in [REPO / "README.md", *DOCS.glob("*.md"), *(REPO / "pipeline").rglob("*.py"), *(REPO / "assets").rglob("*.py")]:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if timing.search(line):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()
