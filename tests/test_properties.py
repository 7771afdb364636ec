"""Property-based tests (hypothesis): the reader round-trips entries and never raises."""

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.read import dates
from pipeline.read.decoding import normalize_text
from pipeline.read.formats.sample import HEADER_LINES
from pipeline.read.identity import find_arxiv_id, normalize_title, paper_id
from pipeline.read.links import extract_links
from pipeline.read.parsed import DIGEST_STATUSES, REJECT_REASONS, TITLE_MAX_CHARS, is_markup_title, split_blocks
from pipeline.read.reader import parse_digest
from tests.helpers import links_by_definition, render

# Any character but surrogates and C0/C1 controls (controls are rejected on purpose:
# see test_hostile_input); line breaks are placed by the strategies themselves.
_CHARACTERS = st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85")
_FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _line(min_size: int = 1, max_size: int = 80):
    """One line as the reader stores it: NFC, no surrounding whitespace, not blank."""
    return (
        st.text(_CHARACTERS, min_size=min_size, max_size=max_size)
        .map(lambda text: unicodedata.normalize("NFC", text).strip())
        .filter(bool)
    )


# A title and an abstract hold a letter or a digit (docs/reading.md): re's \w but "_".
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def has_letter_or_digit(text: str) -> bool:
    return _LETTER_OR_DIGIT.search(text) is not None


titles = _line(max_size=120).filter(
    lambda title: len(title) <= TITLE_MAX_CHARS
    and title.casefold() not in HEADER_LINES
    and dates.parse_date_line(title) is None  # a title shaped like a date is a date line
    and not is_markup_title(title)  # rejected as markup_title (test_reader)
    and has_letter_or_digit(title)  # else no title (test_mutants_read)
)
# An abstract is what a title cannot be: several lines, or one line over TITLE_MAX_CHARS.
abstracts = st.one_of(
    st.lists(_line(), min_size=2, max_size=6).map("\n".join),
    _line(min_size=TITLE_MAX_CHARS + 1, max_size=TITLE_MAX_CHARS + 200).filter(lambda text: len(text) > TITLE_MAX_CHARS),
).filter(has_letter_or_digit)
entry_lists = st.lists(st.tuples(titles, abstracts), max_size=8, unique_by=lambda entry: paper_id(entry[0]))


@_FAST
@given(entry_lists)
def test_rendered_entries_read_back_the_same(entries):
    parsed = parse_digest(render("Mar 12", entries).encode("utf-8"), "property.txt")
    assert parsed.status == "ok"
    assert parsed.rejects == []
    assert [(entry.title, entry.abstract) for entry in parsed.entries] == entries
    assert [entry.position for entry in parsed.entries] == list(range(1, len(entries) + 1))
    assert parsed.accounted_blocks == parsed.block_count


@_FAST
@given(entry_lists, st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_line_endings_and_bom_do_not_change_the_entries(entries, newline, bom):
    text = render("Mar 12", entries).replace("\n", newline)
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    parsed = parse_digest(raw, "property.txt")
    assert [(entry.title, entry.abstract) for entry in parsed.entries] == entries


# Fragments of real captures and of known troublemakers, so that random files reach
# deep into the reader, not only its "binary" exit.
_FRAGMENTS = [
    b"\n", b"\n\n", b"\r\n", b"\r", b"\n\n\n\n\n", b" ", b"\t", b"\x00", b"\x0c", b"\x1b",
    b"new", b"Subscribe", b"Mar 12", b"Feb 30", b"2026-03-12", b"12 March, 2025", b"Mar 12, 2026",
    b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x89PNG\r\n\x1a\n", b"\xe9", b"\x93quoted\x94",
    "caf\u00e9 \U0001f680 \u202e".encode(), b"A short title", b"x" * 400,
    b"https://github.com/a/b.git", b"http://x.com:99999/a", b"http://[::1", b"www.", b"a.io/)" + b")" * 50,
    b"arXiv:2303.12345v2", b"'; DROP TABLE papers; --", b"<script>alert(1)</script>",
]
hostile_bytes = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.binary(max_size=20)), max_size=60).map(b"".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_bytes, st.sampled_from(["x.txt", "2026-03-12.txt", "\u00e9 -- ..txt"]), st.sampled_from([None, 2024]))
def test_the_reader_never_raises_and_accounts_for_every_block(raw, name, year):
    parsed = parse_digest(raw, name, year)
    assert parsed.status in DIGEST_STATUSES
    assert {reject.reason for reject in parsed.rejects} <= set(REJECT_REASONS)
    assert parsed.accounted_blocks == parsed.block_count
    assert parsed.byte_size == len(raw)
    if parsed.status == "ok":
        assert parsed.digest_date is not None


@_FAST
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_normalization_is_idempotent(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


_URL_PIECES = list("ab.:/()[]@-_?#%!,;'\"") + ["http://", "https://", "www.", ".git", ".io", ":99999", "github.com/"]
_URLISH = st.lists(st.sampled_from(_URL_PIECES), max_size=30).map("".join)


@_FAST
@given(st.lists(st.one_of(_URLISH, st.text(max_size=10)), max_size=8).map(" ".join))
def test_link_extraction_never_raises_and_gives_https_links(text):
    for link in extract_links(text):
        assert link.url.startswith("https://")
        assert link.host == link.host.lower() and "." in link.host


# Text where links, arXiv ids and the characters lower() lengthens (U+0130) meet.
_LINKY_WORDS = st.one_of(
    _URLISH,
    st.sampled_from(["İstanbul", "İ", "ß", "ΣΑΣ", "arXiv:2401.12345", "ARXIV.ORG/abs/2402.00001v3", "vid.github.io", "e.g.", "Fig.3"]),
    st.text(_CHARACTERS, max_size=8),
)
_LINKY_LINES = st.lists(_LINKY_WORDS, min_size=1, max_size=40).map(" ".join).map(lambda line: line.strip()).filter(bool)
_LINKY_ENTRIES = st.lists(
    st.tuples(
        titles,
        # Leading whitespace moves an abstract's text away from its block's offset.
        st.tuples(st.sampled_from(["", " ", "\t  ", "\u3000", " " * 12]), st.lists(_LINKY_LINES, min_size=2, max_size=4).map("\n".join)).map("".join),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda entry: paper_id(entry[0]),
)


@_FAST
@given(_LINKY_ENTRIES)
def test_the_readers_links_and_arxiv_ids_are_those_of_each_entry_alone(entries):
    """The reader finds link and arXiv hints in one scan of the whole digest; an entry
    must get what extract_links and find_arxiv_id give for its own text."""
    parsed = parse_digest(render("Mar 12", entries).encode("utf-8"), "property.txt")
    assert parsed.entries, entries
    for entry in parsed.entries:
        assert list(entry.links) == extract_links(entry.abstract)
        assert entry.arxiv_id == find_arxiv_id(entry.title, entry.abstract)


@_FAST
@given(st.text(st.characters(max_codepoint=127), max_size=60))
def test_ascii_titles_normalize_as_the_general_rule_says(title):
    general = re.sub(r"[\W_]+", " ", unicodedata.normalize("NFKC", title).casefold()).strip()
    assert normalize_title(title) == general


@_FAST
@given(st.lists(st.text(_CHARACTERS, min_size=1, max_size=20), max_size=12), st.lists(st.integers(1, 4), min_size=12, max_size=12))
def test_blocks_know_their_first_line_and_offset(lines, gaps):
    text = normalize_text("".join(line + "\n" * gap for line, gap in zip(lines, gaps, strict=False)))
    text_lines = text.split("\n")
    for block in split_blocks(text):
        assert text[block.offset : block.offset + len(block.text)] == block.text
        assert text_lines[block.line - 1] == block.text.split("\n")[0]
        assert "\n\n" not in block.text and block.text.strip()


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINKY_WORDS, max_size=30).map(" ".join))
def test_link_hints_never_miss_a_link(text):
    assert extract_links(text) == links_by_definition(text)
