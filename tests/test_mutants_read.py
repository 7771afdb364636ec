"""Tests that kill mutants `make mutation` found alive in pipeline/read (benchmarks/MUTATION.md).

Every expected value is written out by hand from docs/contract.md and docs/reading.md,
never computed by the module under test.
"""

import codecs
import datetime as dt
import hashlib
import json
import re

import pytest

from pipeline.read.dates import ResolvedDate, parse_date_line, resolve_date
from pipeline.read.decoding import NotText, decode_digest
from pipeline.read.formats import detect_format
from pipeline.read.formats.common import capture_day, count_of, listing_of
from pipeline.read.identity import normalize_title
from pipeline.read.links import canonicalize, extract_links, names_repository
from pipeline.read.parsed import ParsedDigest
from pipeline.read.reader import parse_digest

# --- decoding ------------------------------------------------------------------------------------


def test_a_clean_file_with_a_bom_has_no_replaced_bytes():
    decoded = decode_digest(codecs.BOM_UTF8 + b"March 12\n\nA Title\n\nAn abstract.")
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("March 12\n\nA Title\n\nAn abstract.", "utf-8-bom", False)


def test_a_utf16_file_with_a_stray_byte_keeps_its_utf16_text():
    # A BOM, 30 characters in UTF-16-LE, then one byte too many: one U+FFFD at the end
    # (1 in 31 characters replaced, under the 5 % that makes a file binary).
    raw = b"\xff\xfe" + "".join(char + "\x00" for char in "A longer title of thirty chars").encode("ascii") + b"A"
    decoded = decode_digest(raw)
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("A longer title of thirty chars\ufffd", "utf-16-le-bom", True)


def test_a_clean_utf8_file_has_no_replaced_bytes():
    decoded = decode_digest("March 12\n\nCafé title".encode())
    assert (decoded.encoding, decoded.replaced_bytes, decoded.has_control_characters) == ("utf-8", False, False)


def test_broken_utf8_is_counted_by_lines_not_words():
    # One valid UTF-8 line, one broken line of two words: a line against a line, so UTF-8.
    decoded = decode_digest("café\n".encode() + b"d\xe9j\xe0 vu \xe9t\xe9")
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("café\nd\ufffdj\ufffd vu \ufffdt\ufffd", "utf-8", True)


def test_two_valid_utf8_lines_outweigh_two_broken_ones():
    decoded = decode_digest("café\nnaïve\n".encode() + b"\xe9t\xe9\nd\xe9j\xe0")
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("café\nnaïve\n\ufffdt\ufffd\nd\ufffdj\ufffd", "utf-8", True)


def test_more_broken_lines_than_valid_ones_is_windows_1252():
    decoded = decode_digest("café\n".encode() + b"\xe9t\xe9\nd\xe9j\xe0")
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("cafÃ©\nété\ndéjà", "cp1252", False)


def test_a_byte_windows_1252_leaves_undefined_is_replaced():
    decoded = decode_digest(b"A title about caf\xe9s \x81")  # 0x81 has no character in Windows-1252; 1 of 21 is under 5%
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes, decoded.has_control_characters) == ("A title about cafés \ufffd", "cp1252", True, False)


def test_four_bytes_of_utf16_without_a_bom_are_utf16():
    decoded = decode_digest(b"A\x00B\x00")
    assert (decoded.text, decoded.encoding) == ("AB", "utf-16-le")


# UTF-16 with no BOM: a NUL in more than 30 % of the odd bytes and in under 5 % of the even ones
# (little-endian), counted over the byte pairs of the first 4096 bytes.
def test_utf16_le_without_a_bom_at_the_pair_count_of_an_odd_length():
    # 23 pairs and a stray byte: 7 of 23 odd bytes NUL (30.4 %, over 30 %) even though 7/23.5 is not.
    raw = "abcdefg".encode("utf-16-le") + "中".encode("utf-16-le") * 16 + b"!"
    decoded = decode_digest(raw)
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes) == ("abcdefg" + "中" * 16 + "\ufffd", "utf-16-le", True)


def test_one_even_nul_in_thirty_pairs_is_still_utf16_le():
    # U+0100 is the bytes 00 01: one even NUL in 30 pairs (3.3 %, under 5 %).
    raw = ("Ā" + "abcdefghijklmnopqrstuvwxyz123").encode("utf-16-le")
    decoded = decode_digest(raw)
    assert (decoded.text, decoded.encoding) == ("Āabcdefghijklmnopqrstuvwxyz123", "utf-16-le")


@pytest.mark.parametrize(
    "raw",
    [
        "abc".encode("utf-16-le") + "中".encode("utf-16-le") * 7,  # odd NULs exactly 30 %: not over it
        ("Ā" + "abcdefghijklmnopqrs").encode("utf-16-le"),  # even NULs exactly 5 %: not under it
        "abc".encode("utf-16-be") + "中".encode("utf-16-be") * 7,  # even NULs exactly 30 %
        ("Ā" + "abcdefghijklmnopqrs").encode("utf-16-be"),  # odd NULs exactly 5 %
        bytes(100),  # NULs in every byte: neither UTF-16
    ],
)
def test_utf16_without_a_bom_needs_strictly_more_than_30_and_under_5_percent(raw):
    decoded = decode_digest(raw)
    assert (decoded.reason, decoded.detail) == ("binary", f"not text in any known encoding ({len(raw)} bytes)")


def test_text_that_normalizes_to_nothing_is_empty():
    raw = "\u00a0\u2003\n".encode()  # no ASCII whitespace to bytes.strip(), yet only whitespace
    assert decode_digest(raw) == NotText("empty", "only whitespace (6 bytes)", hashlib.sha256(raw).hexdigest())


# --- reader: a binary file's one reject -----------------------------------------------------------


def test_a_binary_files_reject_says_how_many_bytes_it_shows():
    raw = b"\x89PNG\r\n\x1a\n" + bytes(5000)
    reject = parse_digest(raw, "2026-03-12.md").rejects[0]
    assert reject.detail == "first 4096 of 5008 bytes, as Latin-1"
    assert reject.raw_text == "\x89PNG\r\n\x1a\n" + "\x00" * 4088


def test_a_short_binary_files_reject_shows_all_of_it():
    reject = parse_digest(b"%PDF-1.4 \x00\x01", "x.md").rejects[0]
    assert (reject.detail, reject.raw_text) == ("first 11 of 11 bytes, as Latin-1", "%PDF-1.4 \x00\x01")


def test_an_html_page_is_refused_whole():
    parsed = parse_digest(b"<html><body>\n\nMarch 12\n\nA Title\n\nAn abstract.</body></html>", "2026-03-12.html", 2025)
    assert (parsed.format, parsed.status, parsed.entries, parsed.block_count) == ("unrecognized", "unrecognized", [], 4)
    assert [(reject.line, reject.reason) for reject in parsed.rejects] == [
        (1, "unrecognized_format"),
        (3, "unrecognized_format"),
        (5, "unrecognized_format"),
        (7, "unrecognized_format"),
    ]


# --- dates ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("block", ["March\n12", "12\nMarch", "Mar 12\n2026"])
def test_a_date_split_over_lines_is_no_date_line(block):
    assert parse_date_line(block) is None


def test_no_date_line_and_no_date_in_the_name_says_so():
    assert resolve_date(None, "notes.md", 2025) == ResolvedDate(None, None, "no date line and no ISO date in the file name")


# --- identity ------------------------------------------------------------------------------------


def test_a_combining_mark_before_a_space_stays_with_its_word():
    # म ि (U+093F, a spacing mark) then a space: the run "ि " is the mark and one space.
    assert normalize_title("\u092e\u093f \u092e\u0942") == "\u092e\u093f \u092e\u0942"
    assert normalize_title("\u092e\u093f -- \u092e\u0942!") == "\u092e\u093f \u092e\u0942"


# --- links ---------------------------------------------------------------------------------------


def test_a_link_at_the_very_start_of_the_text_is_found():
    # "www." at position 0 is the only hint (.eu is no bare top-level domain).
    assert [link.url for link in extract_links("www.example.eu/x is the page")] == ["https://www.example.eu/x"]
    assert [link.url for link in extract_links("www.example.org/x is the page")] == ["https://www.example.org/x"]


def test_an_unbalanced_parenthesis_before_a_trailing_slash_is_dropped():
    link = canonicalize("https://github.com/owner/repo)/")
    assert (link.url, link.owner, link.repo) == ("https://github.com/owner/repo", "owner", "repo")
    assert canonicalize("https://example.org/a_(b)/").url == "https://example.org/a_(b)"


@pytest.mark.parametrize("section", ["papers", "docs", "blog", "collections", "models", "organizations"])
def test_huggingface_site_sections_name_no_owner(section):
    link = canonicalize(f"https://huggingface.co/{section}/transformers")
    assert (link.kind, link.owner, link.repo) == ("huggingface", None, None)


@pytest.mark.parametrize(
    ("url", "owner", "repo"),
    [
        ("https://huggingface.co/spaces/owner", "owner", None),
        ("https://huggingface.co/datasets/owner/name/tree/main", "owner", "name"),
        ("https://hf.co/spaces/owner/demo", "owner", "demo"),
        ("https://huggingface.co/owner/model", "owner", "model"),
    ],
)
def test_huggingface_datasets_and_spaces_are_owner_then_name(url, owner, repo):
    link = canonicalize(url)
    assert (link.kind, link.owner, link.repo) == ("huggingface", owner, repo)


@pytest.mark.parametrize(
    ("raw", "url"),
    [
        ("https://example.org)", "https://example.org"),  # "(see https://example.org)"
        ("https://example.org.", "https://example.org"),
        ("https://example.org/a).", "https://example.org/a"),
        ("https://example.org/a_(b))", "https://example.org/a_(b)"),
        ("https://example.org/a(b(c))))", "https://example.org/a(b(c))"),
        ("https://example.org/a_(b).", "https://example.org/a_(b)"),
    ],
)
def test_trailing_parentheses_are_dropped_until_they_balance(raw, url):
    assert canonicalize(raw).url == url


def test_links_are_found_when_lower_case_lengthens_the_text():
    # "İ".lower() is two characters: positions in the lower-cased text are past the link's.
    assert [link.url for link in extract_links("İİİİİ a.io")] == ["https://a.io"]
    assert [link.url for link in extract_links("İ (see https://example.org).")] == ["https://example.org"]


def test_every_scheme_is_a_hint_not_only_the_first_and_last():
    # .eu is no bare top-level domain: "://" is the only hint of each link.
    text = "https://a.eu/1 and https://b.eu/2 and https://c.eu/3"
    assert [link.url for link in extract_links(text)] == ["https://a.eu/1", "https://b.eu/2", "https://c.eu/3"]


# --- links: names_repository (shared with the repo_links suite) ----------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/owner/repo", True),
        ("https://gitlab.com/group/project", True),
        ("https://bitbucket.org/team/tool", True),
        ("https://gitee.com/mindspore/models", True),
        ("https://github.com/owner", False),  # an owner, no repo
        ("https://huggingface.co/datasets/owner/name", False),  # owner and repo, but no repository host
        ("https://example.org/a/b", False),
        ("https://owner.github.io/repo", False),
        ("not a link", False),
    ],
)
def test_names_repository(url, expected):
    assert names_repository(url) is expected


# --- telling the format ----------------------------------------------------------------------------


def test_a_page_heading_alone_on_the_only_line_is_markdown():
    assert detect_format("# Daily Papers") == "markdown"
    assert detect_format("# Trending Papers") == "trending"


# docs/reading.md: HTML or XML markup in the first 4,096 characters makes a file unrecognized.
@pytest.mark.parametrize(
    "padding, expected",
    [
        (4090, "unrecognized"),  # `<html` at 4090..4094: inside
        (4091, "unrecognized"),  # `<html` at 4091..4095: its last character is the 4,096th
        (4092, "sample"),  # `<html` at 4092..4096: cut at `<htm`, not markup
    ],
)
def test_markup_is_looked_for_in_the_first_4096_characters(padding, expected):
    assert detect_format("x" * padding + "<html><body>A Title</body></html>\n") == expected


# --- the sample reader's rejects, with the detail each gives (rejects.detail) ----------------------


def test_each_reject_of_the_sample_layout_says_why():
    text = "\n\n".join(
        [
            "Mar 12",  # line 1
            "Mar 13",  # line 3: a second date line among the header blocks
            "An abstract-shaped block first\nwhere a title was due.",  # line 5
            "Title Alone",  # line 8: followed by a title, then an abstract
            "Title Two",  # line 10
            "The abstract of title two\non two lines.",  # line 12
            "Mar 14",  # line 15: a date line among the entries
            "Last Title",  # line 17
            "short",  # line 19: a title-shaped block, and the last one
        ]
    )
    parsed = parse_digest(text.encode(), "digest.txt", 2026)
    assert (parsed.format, parsed.listing, parsed.status) == ("sample", "daily", "ok")
    assert [(entry.title, entry.abstract) for entry in parsed.entries] == [("Title Two", "The abstract of title two\non two lines.")]
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (3, "extra_date_line", "a digest has one date line"),
        (5, "abstract_without_title", "abstract-shaped block where a title was due"),
        (8, "title_without_abstract", "followed by another title"),
        (15, "extra_date_line", "a digest has one date line"),
        (17, "truncated_entry", "the last title is followed only by a short block"),
        (19, "truncated_entry", "the last title is followed only by a short block"),
    ]


def test_a_title_as_the_last_block_says_so():
    parsed = parse_digest(b"Mar 12\n\nA Title\n\nIts abstract\non two lines.\n\nThe Last Title", "digest.txt", 2026)
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (8, "title_without_abstract", "last block: a title with no abstract")
    ]


def test_a_title_or_abstract_with_no_letter_or_digit_is_no_entry():
    text = "\n\n".join(
        [
            "Mar 12",  # line 1
            "\u200b\u2060",  # line 3: zero-width characters only
            "Its abstract\non two lines.",  # line 5
            "?!",  # line 8: punctuation only
            "An abstract\nof two lines.",  # line 10
            "A",  # line 13: one letter is a title
            "Its abstract\nhere.",  # line 15
            "A Title",  # line 18
            "\u2026\n\u2014 \u00b7",  # line 20: an abstract of punctuation
            "\u56fe",  # line 23: one CJK character is a title
            "Its real abstract\nends here.",  # line 25
        ]
    )
    parsed = parse_digest(text.encode(), "digest.txt", 2026)
    assert [(entry.line, entry.title) for entry in parsed.entries] == [(13, "A"), (23, "\u56fe")]
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (3, "abstract_without_title", "a title with no letter or digit"),
        (5, "abstract_without_title", "a title with no letter or digit"),
        (8, "abstract_without_title", "a title with no letter or digit"),
        (10, "abstract_without_title", "a title with no letter or digit"),
        (18, "title_without_abstract", "an abstract with no letter or digit"),
        (20, "title_without_abstract", "an abstract with no letter or digit"),
    ]


def test_a_json_item_titled_with_invisible_characters_is_no_entry():
    def item(number: int, title: str, summary: str) -> str:
        paper = {"id": f"2603.0000{number}", "title": title, "summary": summary, "submittedOnDailyAt": "2026-03-09T03:00:00.000Z"}
        return json.dumps({"paper": paper})

    items = [item(1, "\u200b", "S."), item(2, "A Good Title", "\u2026"), item(3, "7", "S.")]
    parsed = parse_digest(f"[{', '.join(items)}]".encode(), "daily.json", 2026)
    assert [entry.title for entry in parsed.entries] == ["7"]
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (1, "abstract_without_title", "a title with no letter or digit"),
        (2, "title_without_abstract", "an abstract with no letter or digit"),
    ]


# --- refusals and the daily-papers JSON's invalid items, with their texts ---------------------------


def test_a_file_in_no_format_says_so_in_its_error_and_each_reject():
    parsed = parse_digest(b"<html><body>A page</body></html>\n\n<p>More</p>", "page.html")
    message = "in no format papertrends reads (docs/reading.md lists them)"
    assert (parsed.status, parsed.error) == ("unrecognized", message)
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (1, "unrecognized_format", message),
        (3, "unrecognized_format", message),
    ]


def test_the_apis_error_object_is_quoted_up_to_200_characters():
    parsed = parse_digest(('{"error": "' + "e" * 199 + "fg" + '"}').encode(), "api.json")
    assert parsed.error == "the API's error object, not the array of papers: '" + "e" * 199 + "f'"


_GOOD_ITEM = '{"paper": {"id": "2603.00001", "title": "A Good Paper", "summary": "Its summary.", "submittedOnDailyAt": "2026-03-09T03:00:00.000Z"}}'


@pytest.mark.parametrize(
    ("item", "raw_text", "detail"),
    [
        ("true", "true", "a boolean, not an object"),
        ("1.5", "1.5", "a number, not an object"),
        ("7", "7", "a number, not an object"),
        ('"café"', '"café"', "a string, not an object"),  # shown as written, not as \\u00e9
        ("null", "null", "null, not an object"),
        ('{"paper": [1]}', '{"paper": [1]}', "`paper` is an array, not an object"),
        ('{"paper": {"id": "2603.00002", "title": false}}', '{"paper": {"id": "2603.00002", "title": false}}', "`paper.title` is a boolean, not a string"),
        ('{"paper": {"id": "2603.00002", "title": "T", "summary": 2.5}}', '{"paper": {"id": "2603.00002", "title": "T", "summary": 2.5}}', "`paper.summary` is a number, not a string"),
    ],
)
def test_an_invalid_item_is_shown_as_json_with_what_it_is(item, raw_text, detail):
    parsed = parse_digest(f"[{_GOOD_ITEM}, {item}]".encode(), "daily.json", 2026)
    assert [entry.title for entry in parsed.entries] == ["A Good Paper"]
    assert [(reject.reason, reject.raw_text, reject.detail) for reject in parsed.rejects] == [("invalid_item", raw_text, detail)]


# --- the trending page's copies of a card ----------------------------------------------------------

_HF_PAPER = "https://huggingface.co/papers/2603.00001"


def _trending(*blocks: str) -> ParsedDigest:
    return parse_digest("\n\n".join(["# Trending Papers", *blocks]).encode(), "2026-03-14-trending.md", 2026)


def test_copies_whose_titles_link_the_paper_give_its_id_and_the_first_of_equally_long_abstracts():
    parsed = _trending(
        f"### [Alpha Paper]({_HF_PAPER})", "Abstract one.", "3 authors · Mar 13",
        f"### [Alpha Paper]({_HF_PAPER})", "Abstract two.", "3 authors · Mar 13",
    )  # fmt: skip
    assert [(entry.title, entry.arxiv_id, entry.abstract) for entry in parsed.entries] == [("Alpha Paper", "2603.00001", "Abstract one.")]
    assert parsed.rejects == []


def test_copies_that_are_all_refused_stay_refused():
    parsed = _trending(
        "### [Beta Paper](https://huggingface.co/papers/2603.00002)", "An abstract.", "3 authors · Mar 13",
        "### 57", "Abstract one.", "3 authors · Mar 13",
        "### 57", "Abstract two.", "3 authors · Mar 13",
    )  # fmt: skip
    assert [entry.title for entry in parsed.entries] == ["Beta Paper"]
    card_line = "the heading is a card line (a count, a byline, a badge), not a title"
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (line, "markup_title", card_line) for line in (9, 11, 13, 15, 17, 19)
    ]


# --- the markdown page's blocks outside cards, and its rejects with their texts -----------------------


def test_each_reject_of_a_markdown_page_says_why():
    parsed = parse_digest(
        "\n\n".join(
            [
                "# Daily Papers",  # line 1: page chrome
                "Mar 12",  # line 3: the date line
                "[A Lost Title](https://huggingface.co/papers/2603.00009)",  # line 5: a paper link, no heading
                "A lost abstract\nspanning two lines.",  # lines 7-8: prose outside any card
                "### [Alpha Paper](https://huggingface.co/papers/2603.00001)",  # line 10
                "Alpha's abstract.",  # line 12
                "5 authors · Published on Mar 12",  # line 14
                "Mar 13",  # line 16: a date line after a card
                "### 10 authors",  # line 18: a card line as a heading, with its abstract (line 20)
                "Some abstract.",
                "### Beta Paper",  # line 22: no abstract
                "### Gamma Paper",  # line 24: the last card, cut inside its abstract (line 26)
                "[An abstract that never closes its bracket",
            ]
        ).encode(),
        "2026-03-12.md",
        2026,
    )
    assert (parsed.format, parsed.status, parsed.listing, parsed.digest_date) == ("markdown", "ok", "daily", dt.date(2026, 3, 12))
    assert [(entry.title, entry.arxiv_id) for entry in parsed.entries] == [("Alpha Paper", "2603.00001")]
    card_line = "the heading is a card line (a count, a byline, a badge), not a title"
    cut = "the capture ends inside the last card's abstract"
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (5, "markup_title", "a link to a paper outside any card's heading"),
        (7, "abstract_without_title", "abstract-shaped block outside any card"),
        (16, "extra_date_line", "a digest has one date line"),
        (18, "markup_title", card_line),
        (20, "markup_title", card_line),
        (22, "title_without_abstract", "an entry with no abstract"),
        (24, "truncated_entry", cut),
        (26, "truncated_entry", cut),
    ]


_CARD = "### [Alpha Paper](https://huggingface.co/papers/2603.00001)\n\nAn abstract.\n\n5 authors · Mar 12"


@pytest.mark.parametrize(
    ("heading", "listing"),
    [("Week 11, 2026", "weekly"), ("Week 11 2026", "weekly"), ("March 2026", "monthly"), ("Papers of the week", "unknown")],
)
def test_an_undated_markdown_page_is_listed_by_its_heading(heading, listing):
    parsed = parse_digest(f"{heading}\n\n{_CARD}".encode(), "2026-03-12.md", 2026)
    assert (parsed.format, parsed.listing, parsed.date_line) == ("markdown", listing, None)


def test_a_markdown_pages_front_matter_url_names_its_listing():
    front = "---\nurl: https://huggingface.co/papers/week/2026-W11\n---"
    parsed = parse_digest(f"{front}\n\n{_CARD}".encode(), "2026-03-12.md", 2026)
    assert (parsed.format, parsed.listing) == ("markdown", "weekly")


# --- the text export's listing and its cut last card -----------------------------------------------


def _export_card(number: int, title: str, abstract: str) -> list[str]:
    url = f"https://huggingface.co/papers/2603.{number:05d}"
    return [title, url, abstract, url, "3 authors"]


_EXPORT_CARDS = [*_export_card(1, "Alpha Paper", "Alpha's abstract."), *_export_card(2, "Beta Paper", "Beta's abstract.")]


@pytest.mark.parametrize(
    ("preamble", "listing"),
    [
        (["Mar 12"], "daily"),
        (["---\ntitle: Trending Papers\n---"], "trending"),  # the front matter's title
        (["Trending Papers"], "trending"),
        (["# Week 11 of 2026"], "weekly"),
        (["# Week eleven"], "unknown"),  # "week " and no digit
        (["Papers"], "unknown"),
    ],
)
def test_a_text_export_is_listed_by_its_date_line_title_or_heading(preamble, listing):
    parsed = parse_digest("\n\n".join([*preamble, *_EXPORT_CARDS]).encode(), "2026-03-12.txt", 2026)
    assert (parsed.format, parsed.status, parsed.listing) == ("text-export", "ok", listing)
    assert [(entry.title, entry.arxiv_id) for entry in parsed.entries] == [("Alpha Paper", "2603.00001"), ("Beta Paper", "2603.00002")]


def test_a_text_export_cut_inside_its_last_abstract_keeps_the_cards_before():
    blocks = ["Mar 12", *_EXPORT_CARDS, "Gamma Paper", "https://huggingface.co/papers/2603.00003", "Gamma's abstract that never"]
    parsed = parse_digest("\n\n".join(blocks).encode(), "export.txt", 2026)
    assert [entry.title for entry in parsed.entries] == ["Alpha Paper", "Beta Paper"]
    cut = "the last card ends inside its abstract: a capture cut off"
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [(23, "truncated_entry", cut), (25, "truncated_entry", cut), (27, "truncated_entry", cut)]


@pytest.mark.parametrize(
    ("length", "shown"),
    [
        (3_999, '"' + "x" * 3_997 + '"'),
        (4_000, '"' + "x" * 3_998 + '"'),  # at the bound: whole
        (4_001, '"' + "x" * 3_999 + "… (4,001 characters in all)"),  # one past it: cut at 4,000
    ],
)
def test_an_invalid_items_json_is_shown_up_to_4000_characters(length, shown):
    item = '"' + "x" * (length - 2) + '"'
    parsed = parse_digest(f"[{_GOOD_ITEM}, {item}]".encode(), "daily.json", 2026)
    assert [(reject.reason, reject.raw_text) for reject in parsed.rejects] == [("invalid_item", shown)]


def test_a_trending_page_cut_inside_the_last_copys_title_keeps_the_first_copy():
    parsed = _trending(f"### [Alpha Paper]({_HF_PAPER})", "Abstract one.", "3 authors · Mar 13", "### [Alpha Paper")
    assert [(entry.title, entry.arxiv_id) for entry in parsed.entries] == [("Alpha Paper", "2603.00001")]
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (9, "truncated_entry", "the capture ends inside the last card's title")
    ]
    assert parsed.entry_block_count == 3


def test_an_undated_sample_digest_says_why_in_its_error_and_each_reject():
    parsed = parse_digest(b"A Title\n\nIts abstract\non two lines.", "digest.txt", 2026)
    assert (parsed.status, parsed.error) == ("undated", "no valid date line before the first entry and no ISO date in the file name")
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (1, "undated_digest", "the digest has no usable date"),
        (3, "undated_digest", "the digest has no usable date"),
    ]


def test_a_date_line_after_the_first_entry_dates_nothing_and_is_kept_as_a_reject():
    text = b"new\n\nA First Title\n\nIts abstract\non two lines.\n\nMar 9\n\nA Second Title\n\nAnother abstract\non two lines."
    parsed = parse_digest(text, "digest.txt", 2026)
    assert (parsed.status, parsed.digest_date, parsed.date_line, parsed.entries) == ("undated", None, None, [])
    assert parsed.error == "no valid date line before the first entry and no ISO date in the file name"
    assert [(reject.line, reject.reason) for reject in parsed.rejects] == [
        (3, "undated_digest"), (5, "undated_digest"), (8, "undated_digest"), (10, "undated_digest"), (12, "undated_digest"),
    ]


def test_an_item_with_an_empty_or_markup_title_is_refused_with_why():
    def item(number: int, title: str) -> str:
        return json.dumps({"paper": {"id": f"2603.0000{number}", "title": title, "summary": "S.", "submittedOnDailyAt": "2026-03-09T03:00:00.000Z"}})

    parsed = parse_digest(f"[{item(1, '')}, {item(2, '[x](https://a.b)')}, {item(3, 'A Good Title')}]".encode(), "daily.json", 2026)
    assert [entry.title for entry in parsed.entries] == ["A Good Title"]
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (1, "abstract_without_title", "an entry with no title"),
        (2, "markup_title", "the title is markup or a link, not a title"),
    ]


# --- values the formats share (pipeline/read/formats/common.py) ------------------------------------


@pytest.mark.parametrize(
    ("url", "listing"),
    [
        ("https://huggingface.co/papers?q=diffusion", "search"),
        ("https://huggingface.co/papers?date=2026-03-12&q=agents", "search"),
        ("https://huggingface.co/papers/search", "search"),
        ("https://huggingface.co/papers/date/2026-03-12", "daily"),
        ("https://huggingface.co/papers/week/2026-W11", "weekly"),
        ("https://huggingface.co/papers/month/2026-03", "monthly"),
        ("https://huggingface.co/papers/trending", "trending"),
        ("https://huggingface.co/papers", None),
        ("", None),
        (None, None),
    ],
)
def test_the_listing_a_papers_url_names(url, listing):
    assert listing_of(url) == listing


@pytest.mark.parametrize(
    ("values", "day"),
    [
        ({"url": "https://huggingface.co/papers/date/2026-03-12", "retrieved": "2026-03-14T09:30:00Z"}, dt.date(2026, 3, 12)),
        ({"url": "https://huggingface.co/papers/date/2026-02-30", "retrieved": "2026-03-14T09:30:00Z"}, dt.date(2026, 3, 14)),
        ({"url": "https://huggingface.co/papers/trending", "retrieved": "2026-03-14T09:30:00Z"}, dt.date(2026, 3, 14)),
        ({"retrieved": "2026-02-30, then 2026-03-01"}, dt.date(2026, 3, 1)),  # the first real day
        ({"url": "https://huggingface.co/papers/trending"}, None),
        ({}, None),
    ],
)
def test_the_day_a_capture_states(values, day):
    assert capture_day(values) == day


@pytest.mark.parametrize(("text", "count"), [("950", 950), ("1,320", 1320), ("1.32k", 1320), ("2.5M", 2_500_000), ("12 authors", None)])
def test_counts_as_a_page_shows_them(text, count):
    assert count_of(text) == count


def test_a_block_with_a_control_character_is_rejected_with_why():
    parsed = parse_digest(b"Mar 12\n\nA Title\n\nAn abstract\x00 with a NUL.", "digest.txt", 2026)
    # The damaged abstract is set aside, so its title is the last block.
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (3, "title_without_abstract", "last block: a title with no abstract"),
        (5, "control_characters", "holds NUL or other control characters"),
    ]


# --- the daily-papers JSON: damaged items, nesting, line breaks, no day -------------------------------


def _dated_item(number: int, title: str, summary: str) -> str:
    return json.dumps({"paper": {"id": f"2603.{number:05d}", "title": title, "summary": summary, "submittedOnDailyAt": "2026-03-09T03:00:00.000Z"}}, ensure_ascii=False)


def test_an_item_with_an_escaped_nul_is_rejected_with_why():
    escaped_nul = _dated_item(2, "A NUL\x00 here", "S.")  # json.dumps escapes the NUL as a six-character sequence
    assert "\\u0000" in escaped_nul
    parsed = parse_digest(f"[{_GOOD_ITEM}, {escaped_nul}]".encode(), "daily.json", 2026)
    assert [entry.title for entry in parsed.entries] == ["A Good Paper"]
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (2, "control_characters", "title or summary holds NUL or other control characters")
    ]


def test_an_item_with_bytes_the_encoding_cannot_read_is_rejected_with_why():
    # Two good lines of UTF-8 against one broken line: the file is UTF-8, the broken byte U+FFFD.
    lines = [f"[{_dated_item(1, 'Café Paper', 'Résumé.')},", f"{_dated_item(3, 'Naïve Paper', 'Über.')},"]
    broken = _dated_item(2, "Bad BYTE byte", "S.").encode().replace(b"BYTE", b"\xff")
    raw = "\n".join(lines).encode() + b"\n" + broken + b"\n]"
    parsed = parse_digest(raw, "daily.json", 2026)
    assert (parsed.encoding, [entry.title for entry in parsed.entries]) == ("utf-8", ["Café Paper", "Naïve Paper"])
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [
        (3, "undecodable_bytes", "title or summary holds bytes the file's encoding cannot read (shown as U+FFFD)")
    ]


def test_a_summary_with_raw_line_breaks_is_read_as_one_line():
    # A line break written as is inside a JSON string (not as \\n): not strict JSON, read all the same.
    raw = "[" + _GOOD_ITEM.replace("Its summary.", "Its summary\non two lines.") + "]"
    parsed = parse_digest(raw.encode(), "daily.json", 2026)
    assert [(entry.title, entry.abstract) for entry in parsed.entries] == [("A Good Paper", "Its summary on two lines.")]


def test_a_json_list_with_no_day_says_why():
    parsed = parse_digest(b'[{"paper": {"id": "2603.00001", "title": "A", "summary": "S."}}]', "daily.json", 2026)
    assert (parsed.status, parsed.error) == ("undated", "no submittedOnDailyAt in any item and no ISO date in the file name")
    assert [(reject.line, reject.reason, reject.detail) for reject in parsed.rejects] == [(1, "undated_digest", "the digest has no usable date")]


def test_a_sample_of_only_the_page_header_and_a_date_line_is_a_dated_digest_with_no_entries():
    text = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\nMar 12"
    parsed = parse_digest(text.encode(), "2026-03-12.txt")
    assert (parsed.format, parsed.status, parsed.digest_date) == ("sample", "ok", dt.date(2026, 3, 12))
    assert (parsed.entries, parsed.rejects, parsed.header_block_count, parsed.block_count) == ([], [], 4, 5)


def test_links_are_found_after_text_that_lower_case_lengthens():
    # "İ" (U+0130) lower-cases to two code points: 60 of them move every later offset of
    # the lower-cased text by 60, so the link search cannot take positions from it.
    sentences = " Each sentence shows a clear and repeatable effect." * 8  # abstract-shaped: over 300 characters
    first = "About İ" + " İ" * 60 + "." + sentences
    second = "About links." + sentences + " Code at https://github.com/a/b today."
    text = f"new\n\nSubscribe\n\nMar 12\n\nİstanbul Models\n\n{first}\n\nSecond Paper\n\n{second}"
    parsed = parse_digest(text.encode(), "2026-03-12.txt")
    assert [(entry.title, [link.url for link in entry.links]) for entry in parsed.entries] == [
        ("İstanbul Models", []),
        ("Second Paper", ["https://github.com/a/b"]),
    ]


def test_an_array_with_a_raw_control_character_in_a_string_is_detected_as_json():
    # The JSON reader reads a raw tab inside a string (not strict JSON), so detection must
    # call it JSON too: the file is then refused by the JSON reader, saying why.
    assert detect_format('["a\tb"]') == "daily-papers-json"
    parsed = parse_digest(b'["a\tb"]', "daily.json", 2026)
    assert (parsed.status, parsed.error) == ("unrecognized", "a JSON array with no daily-papers item (no object with a `paper` object)")


def test_the_link_character_class_keeps_exactly_url_characters_and_unicode_letters_marks_numbers():
    # Called directly: link_pattern() caches the compiled class once per process.
    from pipeline.read.links import _url_char_class

    url_char = re.compile(_url_char_class())  # the class as written, without link_pattern's IGNORECASE
    # Printable ASCII only: a block holding an ASCII control character is rejected before any link search.
    kept_ascii = "".join(char for char in map(chr, range(0x20, 0x7F)) if url_char.fullmatch(char))
    # Every printable ASCII character except space and <>"'{}\|^`[] (never left unescaped in a URL).
    assert kept_ascii == "!#$%&()*+,-./0123456789:;=?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~"
    # Non-ASCII: letters (L*), marks (M*) and numbers (N*) only.
    kept = "\u00e9\u00c0\u00aa\u9879\u0301\u0663\u00b2\U00020000"  # é À ª 项, a combining acute, Arabic-Indic 3, ², a CJK Ext. B letter
    ends = "\u0080\u00a0\u00ab\u00bf\u2014\u2026\u201d\u200b\U0001f600"  # a C1 control, NBSP, « ¿ — … ”, zero-width space, an emoji
    assert [char for char in kept if not url_char.fullmatch(char)] == []
    assert [char for char in ends if url_char.fullmatch(char)] == []
