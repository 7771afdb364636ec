"""The README documents what the code does: its data dictionary is the schemas'."""

import re

from pipeline.read.reader import DIGEST_STATUSES, REJECT_REASONS
from pipeline.schemas import data_dictionary_markdown
from tests.helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    assert [line.split()[:2] for line in first_block.strip().splitlines()] == [["make", "run"], ["make", "test"]]


def test_data_dictionary_is_generated_from_the_schemas():
    assert data_dictionary_markdown() in README


def test_every_reject_reason_and_status_is_documented():
    for word in (*REJECT_REASONS, *DIGEST_STATUSES):
        assert f"`{word}`" in README, word


def test_ci_runs_the_readme_test_command():
    assert "make test" in (REPO / ".ci" / "run").read_text()
