"""Tests that kill mutants `make mutation` found alive in pipeline/read/formats/markdown_cards.py (benchmarks/MUTATION.md).

Every expected value is written out by hand from docs/formats.md ("markdown, markdown-ref and
trending"), never computed by the module under test. Each test reads a small page: the page
heading, the date line (daily pages), then the blocks it names, one blank line apart, so the
first named block is on line 5 (line 3 on a trending page).
"""

import pytest

from pipeline.read.parsed import ParsedDigest
from pipeline.read.reader import parse_digest

DAILY = ("# Daily Papers", "Mar 12")
TRENDING = ("# Trending Papers",)
ABSTRACT = "We study how a capture keeps its cards across two pages."
OTHER_ABSTRACT = "A second study of how captures lose their cards."
PAPER = "https://huggingface.co/papers/2603.01234"
LOGIN = "https://huggingface.co/login?next=%2Fpapers%2F2603.01234"


def read(*blocks: str, head: tuple[str, ...] = DAILY, name: str = "2026-03-12.md") -> ParsedDigest:
    parsed = parse_digest(("\n\n".join([*head, *blocks]) + "\n").encode("utf-8"), name)
    assert parsed.accounted_blocks == parsed.block_count, "a block is unaccounted for"
    return parsed


def rows(parsed: ParsedDigest) -> list[tuple]:
    """(title, abstract, arXiv id, upvotes, comments, stars, card link URLs) per entry."""
    return [
        (entry.title, entry.abstract, entry.arxiv_id, entry.upvotes, entry.comments, entry.stars, [link.url for link in entry.card_links])
        for entry in parsed.entries
    ]


def rejects(parsed: ParsedDigest) -> list[tuple[int, str, str]]:
    return [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects]


# --- card lines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "arxiv_id", "comments", "stars", "card_links"),
    [
        # A plain comment count, and one in a badge: thousands separators dropped.
        (["1,234 comments"], None, 1234, None, []),
        ([f"[1,234 comments]({PAPER}#community)"], None, 1234, None, []),
        # The arXiv badge names the paper when the title and abstract link nowhere.
        (["[arXiv Page](https://arxiv.org/abs/2603.01234)"], "2603.01234", None, None, []),
        # ... and a later card line does not lose it.
        (["[arXiv Page](https://arxiv.org/abs/2603.01234)", "Published on Mar 11"], "2603.01234", None, None, []),
        (["[Project Page](https://proj.github.io/x)"], None, None, None, ["https://proj.github.io/x"]),
        # A badge whose reference has no definition: a card line with no link.
        (["[Website][9]"], None, None, None, []),
        # The comment count of an earlier line survives a later line without one.
        ([f"[3 comments]({PAPER}#community)", "[GitHub 5](https://github.com/a/b)"], None, 3, 5, ["https://github.com/a/b"]),
        # A GitHub badge without a star count: the repository, no stars.
        (["[GitHub](https://github.com/a/b)"], None, None, None, ["https://github.com/a/b"]),
    ],
)
def test_card_line_values_reach_the_entry(lines, arxiv_id, comments, stars, card_links):
    parsed = read("### A Title", ABSTRACT, *lines)
    assert rows(parsed) == [("A Title", ABSTRACT, arxiv_id, None, comments, stars, card_links)]
    assert rejects(parsed) == []


def test_a_block_of_two_lines_of_badges_is_two_card_lines():
    # No blank line between them: one markdown paragraph, read as the two lines it holds.
    parsed = read("### A Title", ABSTRACT, f"[GitHub 5](https://github.com/a/b)\n[2 comments]({PAPER}#community)")
    assert rows(parsed) == [("A Title", ABSTRACT, None, None, 2, 5, ["https://github.com/a/b"])]
    assert (rejects(parsed), parsed.header_block_count, parsed.entry_block_count) == ([], 1, 3)


def test_a_block_of_a_byline_and_a_badge_is_two_card_lines():
    parsed = read("### A Title", ABSTRACT, "Published on Mar 11\n[GitHub 5](https://github.com/a/b)")
    assert rows(parsed) == [("A Title", ABSTRACT, None, None, None, 5, ["https://github.com/a/b"])]
    assert (rejects(parsed), parsed.header_block_count, parsed.entry_block_count) == ([], 1, 3)


def test_a_block_of_a_badge_and_a_line_of_text_is_no_card_line():
    # One line that is no card line makes the block none: it ends the card and is page chrome.
    parsed = read("### A Title", ABSTRACT, "[GitHub 5](https://github.com/a/b)\nSee you next week")
    assert rows(parsed) == [("A Title", ABSTRACT, None, None, None, None, [])]
    assert (rejects(parsed), parsed.header_block_count, parsed.entry_block_count) == ([], 2, 2)


@pytest.mark.parametrize(
    ("line", "comments"),
    [
        ("Published on Mar 11", 3),
        ("4 authors · Mar 13", 3),  # a date after the authors count is a byline on a daily page too
        # One part that is no count or date makes the line no byline: it ends the card,
        # and the comment count after it is chrome.
        ("5 authors · Garbage", None),
        ("Published on Mar 11 · Garbage", None),
        ("Mar 11 · Garbage", None),
    ],
)
def test_a_byline_is_read_part_by_part(line, comments):
    parsed = read("### A Title", ABSTRACT, line, "3 comments")
    assert rows(parsed) == [("A Title", ABSTRACT, None, None, comments, None, [])]
    assert rejects(parsed) == []


# --- upvote links ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "arxiv_id", "upvotes", "found_rejects"),
    [
        (f"[12]({LOGIN})", "2603.01234", 12, []),
        (f"[12]({PAPER})", "2603.01234", 12, []),  # a count linking to the paper itself
        # A count linking to a paper's #community, or to any other page, is no upvote button.
        (f"[12]({PAPER}#community)", None, None, [(5, "markup_title", "a link to a paper outside any card's heading")]),
        ("[12](https://example.com/)", None, None, []),
        # A count over two lines is no button's label.
        (f"[12\n]({LOGIN})", None, None, []),
    ],
)
def test_an_upvote_link_before_a_title_is_the_cards(block, arxiv_id, upvotes, found_rejects):
    parsed = read(block, "### A Title", ABSTRACT)
    assert rows(parsed) == [("A Title", ABSTRACT, arxiv_id, upvotes, None, None, [])]
    assert rejects(parsed) == found_rejects


def test_an_upvote_link_no_title_follows_is_chrome():
    # It names another paper, so it waits for the next card; a chrome block comes first.
    parsed = read(f"### [A Title]({PAPER})", ABSTRACT, "[57](https://huggingface.co/login?next=%2Fpapers%2F2603.09999)", "System theme", "### Second Title", OTHER_ABSTRACT)
    assert rows(parsed) == [
        ("A Title", ABSTRACT, "2603.01234", None, None, None, []),
        ("Second Title", OTHER_ABSTRACT, None, None, None, None, []),
    ]
    assert (rejects(parsed), parsed.header_block_count, parsed.entry_block_count) == ([], 3, 4)


def test_an_upvote_link_ending_the_page_is_chrome():
    parsed = read(f"### [A Title]({PAPER})", ABSTRACT, "[57](https://huggingface.co/login?next=%2Fpapers%2F2603.09999)")
    assert rows(parsed) == [("A Title", ABSTRACT, "2603.01234", None, None, None, [])]
    assert (rejects(parsed), parsed.header_block_count, parsed.entry_block_count) == ([], 2, 2)


@pytest.mark.parametrize(
    ("upvote", "first", "second"),
    [
        # Naming no paper, it follows the open card's byline: that card's.
        ("[5](https://huggingface.co/login)", (None, 5), (None, None)),
        # Naming another paper: the next card's.
        ("[7](https://huggingface.co/login?next=%2Fpapers%2F2603.00002)", (None, None), ("2603.00002", 7)),
    ],
)
def test_a_trending_upvote_link_after_the_byline(upvote, first, second):
    blocks = ["### First Title", ABSTRACT, "4 authors · Mar 13", upvote, "### Second Title", OTHER_ABSTRACT, "2 authors · Mar 12"]
    parsed = read(*blocks, head=TRENDING, name="2026-03-14-trending.md")
    assert parsed.format == "trending"
    assert rows(parsed) == [
        ("First Title", ABSTRACT, *first, None, None, []),
        ("Second Title", OTHER_ABSTRACT, *second, None, None, []),
    ]
    assert rejects(parsed) == []


# --- titles and abstracts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("blocks", "title", "abstract", "arxiv_id"),
    [
        # `[Title]`: a shortcut reference whose definition is lost.
        (["### [A Shortcut Title]", ABSTRACT], "A Shortcut Title", ABSTRACT, None),
        # A title opening with a bracketed word, inside the link.
        ([f"### [[MASK] Tokens Are Not Free]({PAPER})", ABSTRACT], "[MASK] Tokens Are Not Free", ABSTRACT, "2603.01234"),
        # Hard-wrapped lines are joined by one space; spaces inside a line are kept.
        (["### A  Title", "We study  how a capture\nkeeps its cards."], "A  Title", "We study  how a capture keeps its cards.", None),
        # No blank line between the heading and the abstract.
        ([f"### [A Title]({PAPER})\nWe study how a capture\nkeeps its cards."], "A Title", "We study how a capture keeps its cards.", "2603.01234"),
        (["### [A Title][1]\n[We study how a capture\nkeeps its cards.][1]", f"[1]: {PAPER}"], "A Title", "We study how a capture keeps its cards.", "2603.01234"),
        # The abstract's link names the paper, here or after a title whose reference is lost.
        (["### A Title", f"[We study how a capture keeps its cards.]({PAPER})"], "A Title", "We study how a capture keeps its cards.", "2603.01234"),
        (["### [A Title][7]", f"[We study how a capture keeps its cards.]({PAPER})"], "A Title", "We study how a capture keeps its cards.", "2603.01234"),
    ],
)
def test_title_and_abstract_forms(blocks, title, abstract, arxiv_id):
    parsed = read(*blocks)
    assert rows(parsed) == [(title, abstract, arxiv_id, None, None, None, [])]
    assert rejects(parsed) == []


@pytest.mark.parametrize(
    ("blocks", "found_rows", "found_rejects"),
    [
        # A `[` opened in the title or the abstract and never closed (an inner pair closes).
        (
            ["### [[1] A Survey of Things", ABSTRACT],
            [],
            [(5, "truncated_entry", "the capture ends inside the last card's title"), (7, "truncated_entry", "the capture ends inside the last card's title")],
        ),
        (
            ["### [[1] A Survey of Things", ABSTRACT, "### Second Title", OTHER_ABSTRACT],
            [("Second Title", OTHER_ABSTRACT, None, None, None, None, [])],
            [(5, "markup_title", "a link opened in the title is never closed"), (7, "markup_title", "a link opened in the title is never closed")],
        ),
        (
            ["### A Title", "[[1] We study how a capture keeps its cards."],
            [],
            [(5, "truncated_entry", "the capture ends inside the last card's abstract"), (7, "truncated_entry", "the capture ends inside the last card's abstract")],
        ),
        # A bare date as the heading is a card line (the trending page's mobile byline).
        (
            ["### Mar 11", ABSTRACT],
            [],
            [
                (5, "markup_title", "the heading is a card line (a count, a byline, a badge), not a title"),
                (7, "markup_title", "the heading is a card line (a count, a byline, a badge), not a title"),
            ],
        ),
        # A card takes one abstract: a second paragraph ends it, and the byline after is chrome.
        (
            ["### A Title", ABSTRACT, "A second paragraph that is no card line.", "* 5 authors"],
            [("A Title", ABSTRACT, None, None, None, None, [])],
            [],
        ),
        # A heading or a date line is never an abstract: the card has none.
        (["### A Title", "## Related Work", ABSTRACT], [], [(5, "title_without_abstract", "an entry with no abstract")]),
        (
            ["### A Title", "Mar 13", ABSTRACT],
            [],
            [(5, "title_without_abstract", "an entry with no abstract"), (7, "extra_date_line", "a digest has one date line")],
        ),
    ],
)
def test_cards_that_lose_their_title_or_abstract(blocks, found_rows, found_rejects):
    parsed = read(*blocks)
    assert rows(parsed) == found_rows
    assert rejects(parsed) == found_rejects


# --- a card written in one block; links with unbalanced brackets -----------------------------


@pytest.mark.parametrize(
    ("block", "title"),
    [
        # The title link wraps onto a second line, and the abstract follows on the next line.
        (f"### [A Wrapped\nTitle]({PAPER})\n{ABSTRACT}", "A Wrapped Title"),
        # Its first line closes an inner pair but not the link: the link still runs to `](`.
        (f"### [Title with [x] part\ncontinued]({PAPER})\n{ABSTRACT}", "Title with [x] part continued"),
    ],
)
def test_a_wrapped_title_link_ends_where_its_target_does_and_the_abstract_follows(block, title):
    parsed = read(block)
    assert rows(parsed) == [(title, ABSTRACT, "2603.01234", None, None, None, [])]
    assert rejects(parsed) == []


def test_a_plain_title_keeps_the_abstract_link_on_its_next_line():
    # A plain heading is one line: the abstract link below it is no wrapped title.
    parsed = read(f"### A Title\n[{ABSTRACT}]({PAPER})")
    assert rows(parsed) == [("A Title", ABSTRACT, "2603.01234", None, None, None, [])]
    assert rejects(parsed) == []


def test_a_reference_badge_ending_the_heading_block_is_resolved():
    # markdown-ref: the badge's reference is looked up in the definitions even inside the card's block.
    parsed = read(f"### [A Title][1]\n{ABSTRACT}\n[GitHub 5][2]", f"[1]: {PAPER}\n[2]: https://github.com/a/b")
    assert parsed.format == "markdown-ref"
    assert rows(parsed) == [("A Title", ABSTRACT, "2603.01234", None, None, 5, ["https://github.com/a/b"])]
    assert rejects(parsed) == []


def test_a_bare_date_ending_a_trending_heading_block_is_the_byline_not_abstract():
    # On the trending page a date alone is the mobile card's byline, so it is cut from the abstract.
    parsed = read(f"### A Title\n{ABSTRACT}\nMar 13", head=TRENDING, name="2026-03-14-trending.md")
    assert parsed.format == "trending"
    assert rows(parsed) == [("A Title", ABSTRACT, None, None, None, None, [])]
    assert rejects(parsed) == []


def test_a_last_card_whose_byline_shares_its_block_is_not_cut_off():
    # Its abstract stops without a full stop, but the byline after it shows the card is whole.
    parsed = read("### A Title", ABSTRACT, "* 3 authors", "### Second Title\nA second study of how captures lose their cards\n* 2 authors")
    assert rows(parsed) == [
        ("A Title", ABSTRACT, None, None, None, None, []),
        ("Second Title", "A second study of how captures lose their cards", None, None, None, None, []),
    ]
    assert rejects(parsed) == []


@pytest.mark.parametrize(
    ("blocks", "abstract"),
    [
        # `[0, 1)` is never closed; the abstract runs to the last `](`, past an inner link.
        (
            [f"[We map t in [0, 1) to [a grid](https://example.com/grid) of cells.]({PAPER})"],
            "We map t in [0, 1) to [a grid](https://example.com/grid) of cells.",
        ),
        # ... and by reference, to the last `][`.
        (
            ["[We map t in [0, 1) to [a grid][3] of cells.][1]", f"[1]: {PAPER}\n[3]: https://example.com/grid"],
            "We map t in [0, 1) to [a grid][3] of cells.",
        ),
    ],
)
def test_an_unbalanced_abstract_link_runs_to_the_last_target(blocks, abstract):
    parsed = read("### A Title", *blocks)
    assert rows(parsed) == [("A Title", abstract, "2603.01234", None, None, None, [])]
    assert rejects(parsed) == []


def test_a_shortcut_reference_title_is_not_resolved_by_a_definition_of_its_text():
    # Only `[text][n]` and `[text][]` are resolved (docs/formats.md): `[A Title]` is plain text,
    # so its paper stays unknown even with a `[a title]: url` definition (a header block).
    parsed = read("### [A Title]", ABSTRACT, f"[a title]: {PAPER}")
    assert rows(parsed) == [("A Title", ABSTRACT, None, None, None, None, [])]
    assert (rejects(parsed), parsed.header_block_count, parsed.entry_block_count) == ([], 2, 2)


def test_a_bracket_escaped_shut_is_no_badge_but_chrome():
    # `[GitHub 5\]` never closes its `[`: no link, so no card line; it ends the card as chrome.
    parsed = read("### A Title", ABSTRACT, "[GitHub 5\\]")
    assert rows(parsed) == [("A Title", ABSTRACT, None, None, None, None, [])]
    assert (rejects(parsed), parsed.header_block_count, parsed.entry_block_count) == ([], 2, 2)


def test_a_block_is_card_lines_only_when_every_line_is_one():
    from pipeline.read.formats.markdown_cards import CardLine, card_line

    assert card_line("* 3 authors\n12 comments", {}, False) == CardLine(comments=12)
    # A paragraph ending with a byline is no card line: its prose would be lost as one.
    assert card_line("We study captures.\n12 comments", {}, False) is None
    assert card_line("12 comments\nWe study captures.", {}, False) is None
