"""Tests that kill mutants `make mutation` found alive in pipeline/read/formats/markdown.py (benchmarks/MUTATION.md).

Every expected value is written out by hand from docs/reading.md and docs/formats.md,
never computed by the module under test. The pages are small: blocks joined by one blank
line, so a page's n-th one-line block starts on line 2n - 1.
"""

import datetime as dt

import pytest

from pipeline.read.reader import parse_digest

HF = "https://huggingface.co"
ABSTRACT = ("We study how a capture keeps its cards. " * 8).strip()  # 319 characters: abstract-shaped
HEADING = "# Daily Papers"


def page(*blocks: str) -> str:
    return "\n\n".join(blocks)


def card(title: str, paper: str, abstract: str = ABSTRACT, byline: str | None = "* 3 authors") -> str:
    """A daily page's card: the linked title, the abstract and (unless None) a byline, three blocks."""
    blocks = [f"### [{title}]({HF}/papers/{paper})", abstract]
    return page(*blocks, byline) if byline is not None else page(*blocks)


ALPHA = card("Alpha Routing", "2603.00001")
BETA = card("Beta Paging", "2603.00002")


def summary(text: str, name: str = "digest.md", config_year: int | None = None) -> tuple:
    """The whole reading of a page: what the digest says, its counted headers, its entries and its rejects."""
    parsed = parse_digest(text.encode("utf-8"), name, config_year)
    assert parsed.accounted_blocks == parsed.block_count, "a block is unaccounted for"
    return (
        (parsed.format, parsed.status, parsed.listing, parsed.error),
        (parsed.date_line, parsed.digest_date, parsed.date_source),
        parsed.header_block_count,
        [(entry.line, entry.title) for entry in parsed.entries],
        [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects],
    )


OK_DAILY = ("markdown", "ok", "daily", None)
EXTRA = "a digest has one date line"

# --- the date line ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        pytest.param(
            page(HEADING, "Mar 12", "Mar 13", ALPHA, BETA),
            "digest.md",
            (
                OK_DAILY,
                ("Mar 12", dt.date(2026, 3, 12), "reference_year"),
                1,
                [(7, "Alpha Routing"), (13, "Beta Paging")],
                [(5, "extra_date_line", EXTRA)],
            ),
            id="a second date line before the cards is rejected, the first is the digest's",
        ),
        pytest.param(
            # The date line comes before the first card: one after it is not the page's day.
            page(HEADING, ALPHA, "Mar 13", BETA),
            "2026-03-12.md",
            (
                ("markdown", "ok", "unknown", None),
                (None, dt.date(2026, 3, 12), "file_name"),
                1,
                [(3, "Alpha Routing"), (11, "Beta Paging")],
                [(9, "extra_date_line", EXTRA)],
            ),
            id="a date line after a card is rejected even with no date line before it",
        ),
        pytest.param(
            # After the extra date line, the stray abstract is still rejected and the chrome still counted.
            page(HEADING, "Mar 12", ALPHA, "Mar 13", ABSTRACT, "Sign up", BETA),
            "digest.md",
            (
                OK_DAILY,
                ("Mar 12", dt.date(2026, 3, 12), "reference_year"),
                2,
                [(5, "Alpha Routing"), (17, "Beta Paging")],
                [(11, "extra_date_line", EXTRA), (13, "abstract_without_title", "abstract-shaped block outside any card")],
            ),
            id="the blocks after an extra date line are still read",
        ),
        pytest.param(
            # Feb 30 in the file name's year: the reject says which date was tried.
            page(HEADING, "Feb 30", ALPHA),
            "2026-03-12.md",
            (
                ("markdown", "ok", "unknown", None),
                (None, dt.date(2026, 3, 12), "file_name"),
                1,
                [(5, "Alpha Routing")],
                [(3, "invalid_date", "no such date: 2026-02-30")],
            ),
            id="an impossible date line is rejected with the date it names",
        ),
    ],
)
def test_a_daily_page_has_one_date_line_before_its_cards(text, name, expected):
    assert summary(text, name) == expected


REF_PAGE = page(HEADING, "Mar 12", "### [Alpha Routing][1]", ABSTRACT, "* 3 authors", f"[1]: {HF}/papers/2603.00001")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            page(HEADING, "Mar 12", ALPHA),
            (OK_DAILY, ("Mar 12", dt.date(2024, 3, 12), "config"), 1, [(5, "Alpha Routing")], []),
            id="inline links",
        ),
        pytest.param(
            # The heading and the definitions are headers.
            REF_PAGE,
            (("markdown-ref", "ok", "daily", None), ("Mar 12", dt.date(2024, 3, 12), "config"), 2, [(5, "Alpha Routing")], []),
            id="reference links",
        ),
    ],
)
def test_the_configured_year_dates_a_date_line_without_a_year(text, expected):
    # No year in the line, no capture day, no ISO date in the file name: PAPERTRENDS_YEAR is next.
    assert summary(text, "digest.md", config_year=2024) == expected


def test_a_date_on_the_trending_page_is_chrome_not_its_date_line():
    # The trending page has no date line: a bare date there is page chrome, its day comes from the file name.
    text = page("# Trending Papers", "Mar 14", ALPHA)
    assert summary(text, "2026-03-14.md") == (
        ("trending", "ok", "trending", None),
        (None, dt.date(2026, 3, 14), "file_name"),
        2,
        [(5, "Alpha Routing")],
        [],
    )


def test_cards_without_any_date_are_rejected_as_undated():
    assert summary(page(HEADING, ALPHA, BETA), "digest.md") == (
        (
            "markdown",
            "undated",
            "unknown",
            "no valid date line, no capture day in the front matter and no ISO date in the file name",
        ),
        (None, None, None),
        1,
        [],
        [(line, "undated_digest", "the digest has no usable date") for line in (3, 5, 7, 9, 11, 13)],
    )


def test_markdown_without_a_card_is_refused_whole_with_its_reason():
    why = "markdown holding no paper card (no `### ` title): nothing to read"
    assert summary(page(HEADING, "Mar 12", f"[Hugging Face]({HF}/)")) == (
        ("unrecognized", "unrecognized", "unknown", why),
        (None, None, None),
        0,
        [],
        [(1, "unrecognized_format", why), (3, "unrecognized_format", why), (5, "unrecognized_format", why)],
    )


# --- cards that cannot be entries ---------------------------------------------------------

UNCLOSED = f"### [Gamma Cut Off ({HF}/papers/2603.00003"  # the title's link never closes
NEVER_CLOSED = "a link opened in the title is never closed"


@pytest.mark.parametrize(
    ("text", "header_blocks", "titles", "rejects"),
    [
        pytest.param(
            page(HEADING, "Mar 12", ALPHA, UNCLOSED),
            1,
            [(5, "Alpha Routing")],
            [(11, "truncated_entry", "the capture ends inside the last card's title")],
            id="the page's last block is a title left open: cut off",
        ),
        pytest.param(
            # Not the last card: the page went on, so the title is broken markup, not a cut.
            page(HEADING, "Mar 12", UNCLOSED, ABSTRACT, "* 3 authors", ALPHA),
            1,
            [(11, "Alpha Routing")],
            [(5, "markup_title", NEVER_CLOSED), (7, "markup_title", NEVER_CLOSED), (9, "markup_title", NEVER_CLOSED)],
            id="a title left open before another card is markup",
        ),
        pytest.param(
            # The last card, but a block follows it: the capture did not end inside it.
            page(HEADING, "Mar 12", ALPHA, UNCLOSED, ABSTRACT, "* 3 authors", "Sign up"),
            2,
            [(5, "Alpha Routing")],
            [(11, "markup_title", NEVER_CLOSED), (13, "markup_title", NEVER_CLOSED), (15, "markup_title", NEVER_CLOSED)],
            id="a last card's title left open before page chrome is markup",
        ),
        pytest.param(
            # The other card shows a byline; the last shows none and stops mid-sentence.
            page(
                HEADING,
                "Mar 12",
                ALPHA,
                card("Gamma Cut", "2603.00003", "We study how a capture keeps its cards and then the", byline=None),
            ),
            1,
            [(5, "Alpha Routing")],
            [
                (11, "truncated_entry", "the capture ends inside the last card"),
                (13, "truncated_entry", "the capture ends inside the last card"),
            ],
            id="a last card without its lines whose abstract stops mid-sentence is cut off",
        ),
    ],
)
def test_a_card_that_cannot_be_an_entry_is_rejected_with_its_reason(text, header_blocks, titles, rejects):
    assert summary(text) == (OK_DAILY, ("Mar 12", dt.date(2026, 3, 12), "reference_year"), header_blocks, titles, rejects)


# --- blocks outside the cards -------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "header_blocks", "title_line", "rejects"),
    [
        pytest.param(
            f"[![thumbnail](https://cdn.example.org/t.png)]({HF}/papers/2603.00009)",
            2,
            7,
            [],
            id="a thumbnail linking to a paper is chrome",
        ),
        pytest.param(
            f"[A short paper\nlink on two lines]({HF}/papers/2603.00009)",
            1,
            8,
            [(5, "abstract_without_title", "a paper's abstract outside any card")],
            id="a paper link whose text has two lines is an abstract",
        ),
        pytest.param(
            ABSTRACT + " See [our site](https://example.org/about).",
            2,
            7,
            [],
            id="a long block holding an inline link is chrome",
        ),
        pytest.param(
            ABSTRACT + " See [our site][9].",
            2,
            7,
            [],
            id="a long block holding a reference link is chrome",
        ),
    ],
)
def test_a_block_before_the_cards_is_chrome_or_a_lost_card(block, header_blocks, title_line, rejects):
    text = page(HEADING, "Mar 12", block, ALPHA)
    assert summary(text) == (
        OK_DAILY,
        ("Mar 12", dt.date(2026, 3, 12), "reference_year"),
        header_blocks,
        [(title_line, "Alpha Routing")],
        rejects,
    )


# --- headers and the listing --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        pytest.param(
            # A blank line inside the front matter: two blocks, both headers, and the heading.
            page(f"---\nurl: {HF}/papers/date/2026-03-12", "retrieved: 2026-03-12T08:00:00Z\n---", HEADING, ALPHA),
            "digest.md",
            (OK_DAILY, (None, dt.date(2026, 3, 12), "capture"), 3, [(9, "Alpha Routing")], []),
            id="front matter over two blocks",
        ),
        pytest.param(
            # Front matter, the heading and the definitions block.
            page(
                f"---\nurl: {HF}/papers/date/2026-03-12\n---",
                HEADING,
                "### [Alpha Routing][1]",
                ABSTRACT,
                "* 3 authors",
                f"[1]: {HF}/papers/2603.00001",
            ),
            "digest.md",
            (("markdown-ref", "ok", "daily", None), (None, dt.date(2026, 3, 12), "capture"), 3, [(7, "Alpha Routing")], []),
            id="front matter and link definitions",
        ),
        pytest.param(
            # The front matter's URL is of no papers page: the heading names the page, read as trending.
            page("---\nurl: https://example.org/capture\nretrieved: 2026-03-14\n---", "# Trending Papers", ALPHA),
            "digest.md",
            (("trending", "ok", "trending", None), (None, dt.date(2026, 3, 14), "capture"), 2, [(8, "Alpha Routing")], []),
            id="a trending heading names the page when the front matter's URL is of no papers page",
        ),
        pytest.param(
            # Read as the trending page (its first page heading), listed as trending whatever the heading's level.
            page("## Trending Papers", ALPHA),
            "2026-03-14.md",
            (("trending", "ok", "trending", None), (None, dt.date(2026, 3, 14), "file_name"), 1, [(3, "Alpha Routing")], []),
            id="the trending page is listed as trending",
        ),
    ],
)
def test_headers_are_counted_and_the_listing_is_named(text, name, expected):
    assert summary(text, name) == expected


def test_a_trending_heading_lists_a_page_read_as_markdown():
    # The front matter's URL is the bare papers page: read as markdown, and naming no listing,
    # so the page's heading names it (read case-insensitively).
    text = page("---\nurl: https://huggingface.co/papers\nretrieved: 2026-03-14\n---", "# Trending Papers", ALPHA)
    assert summary(text) == (
        ("markdown", "ok", "trending", None),
        (None, dt.date(2026, 3, 14), "capture"),
        2,
        [(8, "Alpha Routing")],
        [],
    )
