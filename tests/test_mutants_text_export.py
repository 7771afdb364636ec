"""Tests that kill mutants `make mutation` found alive in the text-export reader, the readers' shared
helpers (formats/common.py) and the daily-papers JSON reader (benchmarks/MUTATION.md).

Every expected value is written out by hand from docs/formats.md and the layout in
pipeline/read/formats/text_export.py's docstring, never computed by the module under test.
Most inputs are one-line blocks, so the block at index k (from 0) sits on line 2k + 1.
"""

import datetime as dt
import json
import signal
from contextlib import contextmanager

import pytest

from pipeline.read.formats.common import front_matter
from pipeline.read.parsed import Block, ParsedDigest
from pipeline.read.reader import parse_digest

PAPER = "https://huggingface.co/papers/"


def export(*blocks: str) -> bytes:
    return "\n\n".join(blocks).encode("utf-8")


def card(arxiv_id: str, title: str, abstract: str = "An abstract.") -> list[str]:
    """A whole card of the text-export layout: upvote button, login link, title, URL, abstract, URL, byline (7 blocks)."""
    return [" [-] 5", f"https://huggingface.co/login?next=%2Fpapers%2F{arxiv_id}", title, PAPER + arxiv_id, abstract, PAPER + arxiv_id, "3 authors"]


def parse(raw: bytes, name: str = "capture.txt", config_year: int | None = None) -> ParsedDigest:
    parsed = parse_digest(raw, name, config_year)
    assert parsed.accounted_blocks == parsed.block_count, "a block is unaccounted for"
    return parsed


def rejects(parsed: ParsedDigest) -> list[tuple[int, str, str, str]]:
    return [(reject.line, reject.reason, reject.raw_text, reject.detail) for reject in parsed.rejects]


def titles(parsed: ParsedDigest) -> list[str]:
    return [entry.title for entry in parsed.entries]


def counts(parsed: ParsedDigest) -> tuple[int, int, int, int]:
    """Where the blocks went: all, header, entry, rejected."""
    return parsed.block_count, parsed.header_block_count, parsed.entry_block_count, len(parsed.rejects)


@contextmanager
def within(seconds: float):
    """Fail instead of hanging: a reader must end on every input."""

    def expire(signum, frame):
        raise TimeoutError(f"still reading after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# --- front matter (formats/common.py) -----------------------------------------------------------


@pytest.mark.parametrize(
    "blocks, expected",
    [
        # Quotes around a value are dropped, and only quotes: an X at either end stays.
        ([Block(1, "---\ntitle: \"Xenon Papers X\"\nurl: 'https://example.org/X'\n---")], ({"title": "Xenon Papers X", "url": "https://example.org/X"}, 1)),
        # A `---` line further down opens nothing: front matter opens the text.
        ([Block(1, "title: Trending Papers\n---"), Block(4, "Mar 12")], ({}, 0)),
        # Never closed: no front matter, and no block taken.
        ([Block(1, "---\ntitle: Trending Papers"), Block(4, "Mar 12")], ({}, 0)),
        ([], ({}, 0)),
    ],
    ids=["quoted-values", "no-opening-line", "never-closed", "no-blocks"],
)
def test_front_matter_values_and_blocks_taken(blocks, expected):
    assert front_matter(blocks) == expected


def test_a_quoted_front_matter_title_names_the_listing():
    raw = export('---\ntitle: "Trending Papers"\n---', *card("2603.00001", "Title A"))
    parsed = parse(raw, "2026-03-02.txt")
    assert (parsed.listing, parsed.digest_date, parsed.date_source) == ("trending", dt.date(2026, 3, 2), "file_name")
    assert titles(parsed) == ["Title A"]


def test_a_damaged_front_matter_is_rejected_not_counted_as_a_header():
    raw = export("---\ntitle: Daily \x01Papers\n---", "Mar 12", *card("2603.00001", "Title A"))
    parsed = parse(raw)
    assert rejects(parsed) == [(1, "control_characters", "---\ntitle: Daily \x01Papers\n---", "holds NUL or other control characters")]
    assert counts(parsed) == (9, 0, 7, 1)
    assert titles(parsed) == ["Title A"]


def test_a_block_with_bytes_the_encoding_cannot_read_is_rejected_with_the_encoding_named():
    # Two clean UTF-8 lines with accents outweigh the one broken line: the file is UTF-8.
    raw = export("Mar 12", *card("2603.00001", "Café Title A", "Naïve abstract."), *card("2603.00002", "Title B"))
    raw = raw.replace(b"An abstract.", b"An \xe9 abstract.")
    parsed = parse(raw)
    assert parsed.encoding == "utf-8"
    assert titles(parsed) == ["Café Title A"]
    assert rejects(parsed) == [
        (17, "title_without_abstract", " [-] 5", "the card's abstract is damaged"),
        (19, "title_without_abstract", "https://huggingface.co/login?next=%2Fpapers%2F2603.00002", "the card's abstract is damaged"),
        (21, "title_without_abstract", "Title B", "the card's abstract is damaged"),
        (23, "title_without_abstract", "https://huggingface.co/papers/2603.00002", "the card's abstract is damaged"),
        (25, "undecodable_bytes", "An \ufffd abstract.", "holds bytes that are not utf-8 (shown as U+FFFD)"),
        (27, "title_without_abstract", "https://huggingface.co/papers/2603.00002", "the card's abstract is damaged"),
        (29, "title_without_abstract", "3 authors", "the card's abstract is damaged"),
    ]


# --- what makes a card no entry (text_export._problem) --------------------------------------------


def test_an_upvote_button_ending_the_file_is_a_truncated_entry():
    parsed = parse(export("Mar 12", *card("2603.00001", "Title A"), " [-] 7"))
    assert titles(parsed) == ["Title A"]
    assert rejects(parsed) == [(17, "truncated_entry", " [-] 7", "the file ends after an upvote button")]


def test_a_card_with_no_title_is_rejected_whole():
    untitled = [" [-] 5", "https://huggingface.co/login?next=%2Fpapers%2F2603.00001", PAPER + "2603.00001", "An abstract.", PAPER + "2603.00001"]
    parsed = parse(export("Mar 12", *untitled, *card("2603.00002", "Title B")))
    assert titles(parsed) == ["Title B"]
    assert rejects(parsed) == [
        (3, "abstract_without_title", " [-] 5", "a card with no title"),
        (5, "abstract_without_title", "https://huggingface.co/login?next=%2Fpapers%2F2603.00001", "a card with no title"),
        (7, "abstract_without_title", "https://huggingface.co/papers/2603.00001", "a card with no title"),
        (9, "abstract_without_title", "An abstract.", "a card with no title"),
        (11, "abstract_without_title", "https://huggingface.co/papers/2603.00001", "a card with no title"),
    ]


def test_a_card_whose_title_holds_a_control_character_is_rejected_whole():
    parsed = parse(export("Mar 12", *card("2603.00001", "Title A"), *card("2603.00002", "Title\x01 B")))
    assert titles(parsed) == ["Title A"]
    assert rejects(parsed) == [
        (17, "abstract_without_title", " [-] 5", "the card's title block is damaged"),
        (19, "abstract_without_title", "https://huggingface.co/login?next=%2Fpapers%2F2603.00002", "the card's title block is damaged"),
        (21, "control_characters", "Title\x01 B", "holds NUL or other control characters"),
        (23, "abstract_without_title", "https://huggingface.co/papers/2603.00002", "the card's title block is damaged"),
        (25, "abstract_without_title", "An abstract.", "the card's title block is damaged"),
        (27, "abstract_without_title", "https://huggingface.co/papers/2603.00002", "the card's title block is damaged"),
        (29, "abstract_without_title", "3 authors", "the card's title block is damaged"),
    ]


def test_an_abstract_not_closed_by_the_paper_url_before_the_next_card_is_no_entry():
    # The byline comes where the paper's URL again should: the abstract is not closed. The
    # card is not the last, so nothing was cut off. Its project page goes with its blocks.
    unclosed = [" [-] 5", "Title A", PAPER + "2603.00001", "An abstract.", "3 authors", "Project page", "https://example.org/a"]
    parsed = parse(export("Mar 12", *unclosed, *card("2603.00002", "Title B")))
    assert titles(parsed) == ["Title B"]
    detail = "no abstract closed by the paper's URL again (or by the byline)"
    assert rejects(parsed) == [
        (3, "title_without_abstract", " [-] 5", detail),
        (5, "title_without_abstract", "Title A", detail),
        (7, "title_without_abstract", "https://huggingface.co/papers/2603.00001", detail),
        (9, "title_without_abstract", "An abstract.", detail),
        (11, "title_without_abstract", "3 authors", detail),
        (13, "title_without_abstract", "Project page", detail),
        (15, "title_without_abstract", "https://example.org/a", detail),
    ]


@pytest.mark.parametrize(
    "tail, expected",
    [
        # The last card's abstract runs into its byline: not closed, though the file goes on.
        (["Title B", PAPER + "2603.00002", "An abstract.", "3 authors"], [
            (17, "title_without_abstract", "Title B", "no abstract closed by the paper's URL again (or by the byline)"),
            (19, "title_without_abstract", "https://huggingface.co/papers/2603.00002", "no abstract closed by the paper's URL again (or by the byline)"),
            (21, "title_without_abstract", "An abstract.", "no abstract closed by the paper's URL again (or by the byline)"),
            (23, "title_without_abstract", "3 authors", "no abstract closed by the paper's URL again (or by the byline)"),
        ]),
        # The file ends at the last card's paper URL: no abstract at all, so nothing was cut inside one.
        (["Title B", PAPER + "2603.00002"], [
            (17, "title_without_abstract", "Title B", "no abstract closed by the paper's URL again (or by the byline)"),
            (19, "title_without_abstract", "https://huggingface.co/papers/2603.00002", "no abstract closed by the paper's URL again (or by the byline)"),
        ]),
        # The file ends inside the last card's abstract: a capture cut off.
        (["Title B", PAPER + "2603.00002", "An abstract."], [
            (17, "truncated_entry", "Title B", "the last card ends inside its abstract: a capture cut off"),
            (19, "truncated_entry", "https://huggingface.co/papers/2603.00002", "the last card ends inside its abstract: a capture cut off"),
            (21, "truncated_entry", "An abstract.", "the last card ends inside its abstract: a capture cut off"),
        ]),
    ],
    ids=["runs-into-byline", "ends-at-paper-url", "ends-in-abstract"],
)
def test_the_last_card_unclosed(tail, expected):
    parsed = parse(export("Mar 12", *card("2603.00001", "Title A"), *tail))
    assert titles(parsed) == ["Title A"]
    assert rejects(parsed) == expected


# --- a card's parts (text_export._read_card, _split_cards, _add_card) --------------------------------


def test_an_abstract_of_several_paragraphs_keeps_them_apart():
    blocks = [" [-] 5", "Title A", PAPER + "2603.00001", "First paragraph.", "Second paragraph.", PAPER + "2603.00001", "3 authors"]
    parsed = parse(export("Mar 12", *blocks, *card("2603.00002", "Title B")))
    assert [(entry.title, entry.abstract) for entry in parsed.entries] == [
        ("Title A", "First paragraph.\n\nSecond paragraph."),
        ("Title B", "An abstract."),
    ]


@pytest.mark.parametrize(
    "card_lines, expected",
    [
        # The sample layout's order: GitHub badge and repository, then comments and the community link.
        (["GitHub 12", "https://github.com/o/r", "3", PAPER + "2603.00001#community"], (3, 12, ["https://github.com/o/r"])),
        # A project page with its URL is a card link too.
        (["Project page", "https://example.org/project"], (None, None, ["https://example.org/project"])),
        # Comments before the GitHub badge: the badge is still read.
        (["3", "GitHub 12", "https://github.com/o/r"], (3, 12, ["https://github.com/o/r"])),
        # The community link first, then its count, then the badge.
        ([PAPER + "2603.00001#community", "3", "GitHub 12", "https://github.com/o/r"], (3, 12, ["https://github.com/o/r"])),
        # The first count is the comments: a later number does not replace it.
        (["3", PAPER + "2603.00001#community", "7"], (3, None, [])),
    ],
    ids=["sample-order", "project-page", "comments-first", "community-link-first", "second-number"],
)
def test_card_values_after_the_abstract(card_lines, expected):
    blocks = [" [-] 5", "Title A", PAPER + "2603.00001", "An abstract.", PAPER + "2603.00001", "3 authors", *card_lines]
    parsed = parse(export("Mar 12", *blocks, *card("2603.00002", "Title B")))
    assert [(entry.title, entry.comments, entry.stars, [link.url for link in entry.card_links]) for entry in parsed.entries] == [
        ("Title A", *expected),
        ("Title B", None, None, []),
    ]


def test_an_unreadable_comment_count_before_the_community_link_is_left_out():
    # "1." looks like a number but is no count.
    blocks = [" [-] 5", "Title A", PAPER + "2603.00001", "An abstract.", PAPER + "2603.00001", "1.", PAPER + "2603.00001#community"]
    with within(5):
        parsed = parse(export("Mar 12", *blocks, *card("2603.00002", "Title B")))
    assert [(entry.title, entry.comments) for entry in parsed.entries] == [("Title A", None), ("Title B", None)]
    assert counts(parsed) == (15, 0, 14, 0)


@pytest.mark.parametrize(
    "last_lines, expected_counts",
    [
        # blocks, headers (the footer), entry blocks, rejects; the date line is the one block left.
        (["3 authors"], (10, 2, 7, 0)),
        (["3 authors", "GitHub 12", "https://github.com/o/r"], (12, 2, 9, 0)),
        (["3 authors", PAPER + "2603.00001#community"], (11, 2, 8, 0)),
        (["3 authors", "3", PAPER + "2603.00001#community"], (12, 2, 9, 0)),
    ],
    ids=["byline", "github", "community-link", "comments"],
)
def test_after_the_last_card_its_last_recognised_part_ends_it_and_the_rest_is_footer(last_lines, expected_counts):
    blocks = [" [-] 5", "https://huggingface.co/login?next=%2Fpapers%2F2603.00001", "Title A", PAPER + "2603.00001", "An abstract.", PAPER + "2603.00001"]
    parsed = parse(export("Mar 12", *blocks, *last_lines, "System theme", "https://huggingface.co/privacy"))
    assert titles(parsed) == ["Title A"]
    assert counts(parsed) == expected_counts


def test_a_title_and_paper_url_ending_the_file_start_a_last_card():
    parsed = parse(export("Mar 12", *card("2603.00001", "Title A"), "Title B", PAPER + "2603.00002"))
    assert titles(parsed) == ["Title A"]
    assert rejects(parsed) == [
        (17, "title_without_abstract", "Title B", "no abstract closed by the paper's URL again (or by the byline)"),
        (19, "title_without_abstract", "https://huggingface.co/papers/2603.00002", "no abstract closed by the paper's URL again (or by the byline)"),
    ]


def test_a_link_to_the_next_paper_inside_a_card_does_not_hide_that_papers_card():
    # The first card ends with a bare link to paper B; B's card, with no upvote button, still
    # starts at its title: B is another paper than the card being read (A).
    first = [*card("2603.00001", "Title A"), PAPER + "2603.00002"]
    second = ["Title B", PAPER + "2603.00002", "Another abstract.", PAPER + "2603.00002", "2 authors"]
    parsed = parse(export("Mar 12", *first, *second))
    assert titles(parsed) == ["Title A", "Title B"]
    assert counts(parsed) == (14, 0, 13, 0)  # a card before the last keeps every block up to the next



def test_a_paper_url_in_the_page_chrome_does_not_hide_that_papers_card():
    # A bare link to paper A before any card is chrome (a header block); A's card, with no
    # upvote button, still starts at its title. It was once read as chrome too: lost silently.
    first = ["Title A", PAPER + "2603.00001", "An abstract.", PAPER + "2603.00001", "3 authors"]
    parsed = parse(export("Mar 12", PAPER + "2603.00001", *first, *card("2603.00002", "Title B")))
    assert titles(parsed) == ["Title A", "Title B"]
    assert rejects(parsed) == []
    assert counts(parsed) == (14, 1, 12, 0)  # the date line is neither a header nor an entry block

# --- the page: chrome, date line, listing (text_export._read_preamble, _listing, read_text_export) -----


def test_a_paragraph_before_the_first_card_is_rejected_and_one_line_chrome_is_a_header():
    parsed = parse(export("Daily Papers", "Featured today\nand yesterday", "Mar 12", *card("2603.00001", "Title A")))
    assert rejects(parsed) == [(3, "abstract_without_title", "Featured today\nand yesterday", "a paragraph before the first card")]
    assert counts(parsed) == (10, 1, 7, 1)
    assert (parsed.date_line, parsed.digest_date) == ("Mar 12", dt.date(2026, 3, 12))


def test_a_second_date_line_is_rejected():
    parsed = parse(export("Mar 12", "Mar 13", *card("2603.00001", "Title A")))
    assert rejects(parsed) == [(3, "extra_date_line", "Mar 13", "a digest has one date line")]
    assert (parsed.date_line, parsed.digest_date, parsed.date_source) == ("Mar 12", dt.date(2026, 3, 12), "reference_year")


def test_an_impossible_date_line_is_rejected_and_the_file_name_dates_the_digest():
    parsed = parse(export("Feb 30", *card("2603.00001", "Title A")), "2025-03-01.txt")
    assert rejects(parsed) == [(1, "invalid_date", "Feb 30", "no such date: 2025-02-30")]
    assert (parsed.date_line, parsed.digest_date, parsed.date_source) == (None, dt.date(2025, 3, 1), "file_name")
    assert titles(parsed) == ["Title A"]


def test_the_configured_year_completes_a_date_line_without_one():
    parsed = parse(export("Mar 12", *card("2603.00001", "Title A")), "capture.txt", config_year=2024)
    assert (parsed.date_line, parsed.digest_date, parsed.date_source) == ("Mar 12", dt.date(2024, 3, 12), "config")


@pytest.mark.parametrize(
    "chrome, expected",
    [
        (["# Week 9 of 2026"], "weekly"),
        (["Week 9: the best papers"], "weekly"),
        (["Weekly Papers"], "unknown"),
        (["# Trending Papers"], "trending"),
        (["Daily Papers"], "unknown"),
    ],
)
def test_with_no_date_line_the_page_heading_names_the_listing(chrome, expected):
    parsed = parse(export(*chrome, *card("2603.00001", "Title A")), "2026-03-02.txt")
    assert (parsed.listing, parsed.date_line, parsed.digest_date, parsed.date_source) == (expected, None, dt.date(2026, 3, 2), "file_name")
    assert titles(parsed) == ["Title A"]


def test_with_no_date_anywhere_the_digest_is_undated_and_its_cards_rejected():
    # Each block of a card is rejected, a project page's too.
    parsed = parse(export("Daily Papers", *card("2603.00001", "Title A"), "Project page", "https://example.org/a"), "capture.txt")
    assert (parsed.status, parsed.digest_date, parsed.date_source) == ("undated", None, None)
    assert parsed.error == "no valid date line, no date in the capture's front matter and no ISO date in the file name"
    assert parsed.entries == []
    detail = "the digest has no usable date"
    assert rejects(parsed) == [
        (3, "undated_digest", " [-] 5", detail),
        (5, "undated_digest", "https://huggingface.co/login?next=%2Fpapers%2F2603.00001", detail),
        (7, "undated_digest", "Title A", detail),
        (9, "undated_digest", "https://huggingface.co/papers/2603.00001", detail),
        (11, "undated_digest", "An abstract.", detail),
        (13, "undated_digest", "https://huggingface.co/papers/2603.00001", detail),
        (15, "undated_digest", "3 authors", detail),
        (17, "undated_digest", "Project page", detail),
        (19, "undated_digest", "https://example.org/a", detail),
    ]
    assert counts(parsed) == (10, 1, 0, 9)


def test_paper_urls_with_no_card_make_an_unrecognized_file():
    parsed = parse(export("Mar 12", PAPER + "2603.00001", PAPER + "2603.00002"), "2026-03-12.txt", config_year=2024)
    why = "a text export with no paper card: front matter or page chrome only"
    assert (parsed.format, parsed.status, parsed.error, parsed.listing, parsed.digest_date) == ("unrecognized", "unrecognized", why, "unknown", None)
    assert rejects(parsed) == [
        (1, "unrecognized_format", "Mar 12", why),
        (3, "unrecognized_format", "https://huggingface.co/papers/2603.00001", why),
        (5, "unrecognized_format", "https://huggingface.co/papers/2603.00002", why),
    ]


# --- daily-papers JSON ----------------------------------------------------------------------------


def item(arxiv_id: object, **paper: object) -> dict:
    return {"paper": {"id": arxiv_id, "title": "Title A", "summary": "An abstract.", "submittedOnDailyAt": "2026-03-09T03:00:00.000Z", **paper}}


def test_a_long_paper_id_is_shown_cut_at_forty_characters():
    parsed = parse(json.dumps([item("2603.00002"), item("abcdefghij" * 5)]).encode(), "daily.json")
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (2, "invalid_item", "`paper.id` 'abcdefghijabcdefghijabcdefghijabcdefghij' is not an arXiv id (NNNN.NNNNN, ASCII digits)")
    ]
    assert titles(parsed) == ["Title A"]


def test_a_card_link_with_a_space_is_no_link():
    raw = json.dumps([item("2603.00001", githubRepo="https://github.com/o/r and more", projectPage="https://example.org/p")]).encode()
    parsed = parse(raw, "daily.json")
    assert [[link.url for link in entry.card_links] for entry in parsed.entries] == [["https://example.org/p"]]
