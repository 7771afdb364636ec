"""Tests that kill mutants `make mutation` found alive in pipeline/read (benchmarks/MUTATION.md).

Every expected value is written out by hand from docs/contract.md and docs/reading.md,
never computed by the module under test.
"""

import codecs
import hashlib

import pytest

from pipeline.read.dates import ResolvedDate, parse_date_line, resolve_date
from pipeline.read.decoding import NotText, decode_digest
from pipeline.read.identity import normalize_title
from pipeline.read.links import canonicalize, extract_links, names_repository
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


def test_a_byte_windows_1252_leaves_undefined_is_read_as_latin_1():
    decoded = decode_digest(b"Title \x81\xe9")  # 0x81 has no character in Windows-1252
    assert (decoded.text, decoded.encoding, decoded.replaced_bytes, decoded.has_control_characters) == ("Title \x81é", "latin-1", False, True)


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
