"""Oracles and boundaries of the reader (pipeline/read/), with expected values written out by hand.

Every expected id, date and URL below is a literal: the hex ids were computed once with
hashlib in a scratch shell from the exact text named in the comment, never with the
module under test. Each boundary is tested at the bound, one before and one past, so
that an off-by-one (`>` for `>=`, a constant changed) fails a test.
"""

import datetime as dt

import pytest

from pipeline.read.dates import parse_date_line
from pipeline.read.identity import find_arxiv_id, paper_id
from pipeline.read.links import canonicalize, extract_links
from pipeline.read.parsed import Block, Entries, ParsedDigest
from pipeline.read.reader import parse_digest
from tests.helpers import abstract, reject_reasons, render


def parse(raw: str | bytes, name: str = "digest.txt", year: int | None = None) -> ParsedDigest:
    raw = raw.encode("utf-8") if isinstance(raw, str) else raw
    parsed = parse_digest(raw, name, year)
    assert parsed.accounted_blocks == parsed.block_count, "a block is unaccounted for"
    return parsed


def pairs(parsed: ParsedDigest) -> list[tuple[str, str]]:
    return [(entry.title, entry.abstract) for entry in parsed.entries]



def sized(length: int, words: str = "Sparse routing for long context retrieval") -> str:
    """One line of exactly `length` characters, no space at either end."""
    text = ((words + " ") * (length // len(words) + 2))[:length]
    text = text[:-1] + "s" if text.endswith(" ") else text
    assert len(text) == length and text == text.strip() and "\n" not in text
    return text


# In render("Mar 12", [...]) the four header blocks take lines 1, 3, 5, 7, the date line 9,
# and the n-th entry's title and abstract lines 11 + 4(n-1) and 13 + 4(n-1).
ENTRY = ("A Paper Read After The Boundary", abstract("after"))


# --- boundaries: the title (TITLE_MAX_CHARS = 300) --------------------------------------------


@pytest.mark.parametrize("length", [299, 300])
def test_a_title_of_up_to_300_characters_is_a_title(length):
    title = sized(length)
    parsed = parse(render("Mar 12", [(title, abstract("title bound")), ENTRY]))
    assert pairs(parsed) == [(title, abstract("title bound")), ENTRY]
    assert len(parsed.entries[0].title) == length and parsed.rejects == []


def test_a_title_of_301_characters_is_no_title_in_the_sample_layout():
    # Not title-shaped: the block, and the abstract after it, are abstracts with no title.
    parsed = parse(render("Mar 12", [(sized(301), abstract("title bound")), ENTRY]))
    assert pairs(parsed) == [ENTRY]
    assert reject_reasons(parsed) == [(11, "abstract_without_title"), (13, "abstract_without_title")]


def _entries() -> tuple[ParsedDigest, Entries]:
    parsed = ParsedDigest("unit.txt", "0" * 64, "ok", "utf-8", 0)
    return parsed, Entries(parsed)


@pytest.mark.parametrize(("length", "kept"), [(299, True), (300, True), (301, False)])
def test_entries_reject_a_title_over_300_characters_in_any_format(length, kept):
    parsed, entries = _entries()
    title = sized(length)
    assert entries.add([Block(1, title), Block(3, "An abstract.")], title, "An abstract.") is kept
    if kept:
        assert [entry.title for entry in parsed.entries] == [title]
    else:
        assert parsed.entries == [] and [(r.line, r.reason) for r in parsed.rejects] == [
            (1, "oversized_entry"),
            (3, "oversized_entry"),
        ]


# --- boundaries: the abstract (ABSTRACT_MAX_CHARS = 5,000) ---------------------------------------


@pytest.mark.parametrize("length", [4999, 5000])
def test_an_abstract_of_up_to_5000_characters_is_kept_whole(length):
    text = sized(length, "We measure how long abstracts are read.")
    parsed = parse(render("Mar 12", [("A Paper With A Long Abstract", text), ENTRY]))
    assert pairs(parsed) == [("A Paper With A Long Abstract", text), ENTRY]
    assert len(parsed.entries[0].abstract) == length and parsed.rejects == []


def test_an_abstract_of_5001_characters_rejects_its_entry():
    text = sized(5001, "We measure how long abstracts are read.")
    parsed = parse(render("Mar 12", [("A Paper With A Long Abstract", text), ENTRY]))
    assert pairs(parsed) == [ENTRY]
    assert reject_reasons(parsed) == [(11, "oversized_entry"), (13, "oversized_entry")]
    assert parsed.rejects[1].raw_text == text and "5,001" in parsed.rejects[0].detail


# --- boundaries: a block before the first card (markdown, text-export) is chrome up to 300 -----

CARD_ABSTRACT = "We study a thing. It works well.\nMore results follow here."


def _markdown(block: str) -> str:
    """A markdown capture: the date line (line 1), `block` (line 3), then one card."""
    card = "### [A Paper After The Block](https://huggingface.co/papers/2603.08817)"
    return f"Mar 12\n\n{block}\n\n{card}\n\n{CARD_ABSTRACT}\n"


@pytest.mark.parametrize(("length", "expected"), [(299, []), (300, []), (301, [(3, "abstract_without_title")])])
def test_prose_before_the_first_markdown_card(length, expected):
    parsed = parse(_markdown(sized(length)), "digest.md")
    assert (parsed.format, [entry.title for entry in parsed.entries]) == ("markdown", ["A Paper After The Block"])
    assert reject_reasons(parsed) == expected
    assert parsed.header_block_count == (0 if expected else 1)


@pytest.mark.parametrize(("length", "reason"), [(299, "markup_title"), (300, "markup_title"), (301, "abstract_without_title")])
def test_a_paper_link_outside_every_markdown_card(length, reason):
    # Up to 300 characters its label is a title without a heading; past that, an abstract.
    parsed = parse(_markdown(f"[{sized(length)}](https://huggingface.co/papers/2603.00001)"), "digest.md")
    assert (parsed.format, [entry.title for entry in parsed.entries]) == ("markdown", ["A Paper After The Block"])
    assert reject_reasons(parsed) == [(3, reason)]


@pytest.mark.parametrize(("length", "expected"), [(299, []), (300, []), (301, [(3, "abstract_without_title")])])
def test_a_paragraph_before_the_first_text_export_card(length, expected):
    url = "https://huggingface.co/papers/2603.08817"
    text = f"Daily Papers\n\n{sized(length)}\n\nMar 12\n\nA Paper In Text\n\n{url}\n\n{CARD_ABSTRACT}\n\n{url}\n"
    parsed = parse(text, "digest.txt")
    assert (parsed.format, [entry.title for entry in parsed.entries]) == ("text-export", ["A Paper In Text"])
    assert reject_reasons(parsed) == expected
    assert parsed.header_block_count == (1 if expected else 2)  # "Daily Papers", and the block if chrome


# --- boundaries: counts (MAX_COUNT = 2**31 - 1; the sample layout has none, Entries keeps them) --


@pytest.mark.parametrize(
    ("count", "kept"), [(2_147_483_646, 2_147_483_646), (2_147_483_647, 2_147_483_647), (2_147_483_648, None), (0, 0), (-1, None)]
)
def test_a_count_past_int32_is_left_out_and_the_entry_kept(count, kept):
    parsed, entries = _entries()
    assert entries.add(
        [Block(1, "T"), Block(3, "A")], "A Counted Paper", "An abstract.", upvotes=count, comments=count, stars=count
    )
    [entry] = parsed.entries
    assert (entry.upvotes, entry.comments, entry.stars) == (kept, kept, kept)


# --- boundaries: binary detection (5% control bytes, 5% undecodable characters) ----------------


def _noisy(total: int, tail: bytes) -> bytes:
    """`total` bytes: a date line (line 1), one entry (lines 3, 5), then `tail` as the block at line 7."""
    head, separator = b"Mar 12\n\nA Paper On Noisy Captures\n\n", b"\n\n"
    fill = total - len(head) - len(separator) - len(tail)
    body = (b"We measure noise in captures of pages. " * 100)[: fill - 1] + b"."
    raw = head + body + separator + tail
    assert len(raw) == total
    return raw


@pytest.mark.parametrize(("controls", "status"), [(99, "ok"), (100, "ok"), (101, "binary")])
def test_more_than_5_percent_control_bytes_is_binary(controls, status):
    raw = _noisy(2000, b"\x01" * controls)  # 100 of 2,000 bytes is 5%
    parsed = parse(raw)
    assert parsed.status == status
    if status == "ok":
        assert [entry.title for entry in parsed.entries] == ["A Paper On Noisy Captures"]
        assert reject_reasons(parsed) == [(7, "control_characters")]
    else:
        assert parsed.entries == [] and reject_reasons(parsed) == [(1, "binary_file")]


@pytest.mark.parametrize(
    ("bom", "undecodable", "encoding"),
    [(b"\xef\xbb\xbf", b"\xff", "utf-8-bom"), (b"", b"\x90", "cp1252")],  # 0x90: undefined in Windows-1252
    ids=["utf-8 with bom", "windows-1252"],
)
@pytest.mark.parametrize(("broken", "status"), [(99, "ok"), (100, "ok"), (101, "binary")])
def test_more_than_5_percent_undecodable_characters_is_binary(bom, undecodable, encoding, broken, status):
    # After the BOM, if any, 2,000 bytes decode to 2,000 characters: each undecodable byte is one U+FFFD.
    raw = bom + _noisy(2000, undecodable * broken)
    parsed = parse(raw)
    assert parsed.status == status
    if status == "ok":
        assert parsed.encoding == encoding
        assert [entry.title for entry in parsed.entries] == ["A Paper On Noisy Captures"]
        assert reject_reasons(parsed) == [(7, "undecodable_bytes")]
        assert parsed.rejects[0].raw_text == "\ufffd" * broken
    else:
        assert parsed.entries == [] and reject_reasons(parsed) == [(1, "binary_file")]


def _mixed(valid: int, broken: int) -> bytes:
    """A digest with `valid` UTF-8 titles (Café) and then `broken` Latin-1 ones (Caf\\xe9)."""
    titles = [f"Caf\u00e9 Models {n}".encode() for n in range(valid)] + [
        f"Caf\xe9 Kernels {n}".encode("latin-1") for n in range(broken)
    ]
    blocks = [b"Mar 12"] + [block for title in titles for block in (title, abstract("mixed").encode())]
    return b"\n\n".join(blocks)


def test_a_file_is_utf8_when_at_least_half_its_non_ascii_lines_are():
    # One UTF-8 line, one broken: a tie is UTF-8, the broken title's block rejected.
    tie = parse(_mixed(1, 1))
    assert (tie.encoding, [entry.title for entry in tie.entries]) == ("utf-8", ["Caf\u00e9 Models 0"])
    assert reject_reasons(tie) == [(7, "undecodable_bytes"), (9, "abstract_without_title")]
    # One UTF-8 line, two Latin-1 ones: the file is Windows-1252, the UTF-8 line mojibake.
    legacy = parse(_mixed(1, 2))
    assert legacy.encoding == "cp1252" and legacy.rejects == []
    assert [entry.title for entry in legacy.entries] == ["Caf\u00c3\u00a9 Models 0", "Caf\u00e9 Kernels 0", "Caf\u00e9 Kernels 1"]


# --- digest_id: the normalized text, in any encoding ------------------------------------------

TINY = "Mar 12\n\nA Tiny Paper\n\nWe study tiny digests.\nThey are read whole."
# sha256 of the UTF-8 bytes of TINY exactly as written above (no trailing newline).
TINY_ID = "93813704c18848a7c11562902a82efd652cfa2e4a91238ab3d876614829ca1d3"


@pytest.mark.parametrize(
    ("raw", "encoding"),
    [
        (TINY.encode("utf-8"), "utf-8"),
        (b"\xef\xbb\xbf" + TINY.encode("utf-8"), "utf-8-bom"),
        (TINY.encode("utf-16-le"), "utf-16-le"),  # no BOM: told by the NULs in odd bytes
        (TINY.encode("utf-16-be"), "utf-16-be"),  # no BOM: NULs in even bytes
        (b"\xff\xfe\x00\x00" + TINY.encode("utf-32-le"), "utf-32-le-bom"),  # starts like UTF-16 LE's BOM
        (b"\x00\x00\xfe\xff" + TINY.encode("utf-32-be"), "utf-32-be-bom"),
        (b"\xff\xfe" + TINY.encode("utf-16-le"), "utf-16-le-bom"),
        (b"\xfe\xff" + TINY.encode("utf-16-be"), "utf-16-be-bom"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16-le", "utf-16-be", "utf-32-le-bom", "utf-32-be-bom", "utf-16-le-bom", "utf-16-be-bom"],
)
def test_every_encoding_of_one_text_reads_the_same_with_one_digest_id(raw, encoding):
    parsed = parse(raw, "tiny.txt")
    assert (parsed.status, parsed.encoding, parsed.digest_id) == ("ok", encoding, TINY_ID)
    assert (parsed.digest_date, parsed.date_line) == (dt.date(2026, 3, 12), "Mar 12")
    assert [(entry.title, entry.abstract, entry.line, entry.position) for entry in parsed.entries] == [
        ("A Tiny Paper", "We study tiny digests.\nThey are read whole.", 3, 1)
    ]


@pytest.mark.parametrize(
    "text",
    [
        TINY + "\n",
        TINY + "\n\n\n",
        TINY + " \t\n  \n\t",  # trailing whitespace and blank lines at the end of the file
        TINY.replace("\n", "\r\n") + "\r\n",
        TINY.replace("\n", " \n"),  # trailing spaces on every line
        TINY.replace("A Tiny Paper", "A Tiny Paper\u3000"),  # an ideographic space is whitespace too
    ],
)
def test_the_final_strip_does_not_change_the_digest_id(text):
    assert parse(text).digest_id == TINY_ID


def test_nfc_and_leading_lines_in_the_digest_id():
    # sha256 of "Mar 12\n\nCaf\u00e9 Models\n\nWe study tiny digests.\nThey are read whole." (NFC é).
    nfc_id = "35c8759e041ef6331efe9558f50754cffbc3c1d0d82f3f53b612e057d4684775"
    decomposed = TINY.replace("A Tiny Paper", "Cafe\u0301 Models")
    assert parse(decomposed).digest_id == nfc_id
    assert parse(decomposed.replace("Cafe\u0301", "Caf\u00e9")).digest_id == nfc_id
    # Only the end is stripped (line numbers refer to the raw file): a leading blank line
    # is content. sha256 of "\n" + TINY.
    assert parse("\n" + TINY).digest_id == "26424890e8f33be144553e6e2ce7fb18f6756fcab98ccf0642b2e071c2d6f6f6"


@pytest.mark.parametrize(
    ("raw", "status", "digest_id"),
    [
        (b"", "empty", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),  # sha256 of no bytes
        (b" \n\t\n", "empty", "f293d56ef36735071ffed42a91fa8fb7f5d3124d7550202e3f40712db76eb5d2"),  # sha256 of b" \n\t\n"
        # sha256 of the PNG signature followed by 8 NUL bytes.
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "binary", "d9c9bcbbba3f78d5acb0e0223861c44f79e918c161d4ea7b571f5cc6df50797f"),
    ],
)
def test_a_file_that_is_no_text_is_identified_by_its_raw_bytes(raw, status, digest_id):
    parsed = parse(raw)
    assert (parsed.status, parsed.digest_id, parsed.encoding) == (status, digest_id, None)


# --- dates: literal date lines ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("date_line", "expected", "source"),
    [
        ("Sept 12", dt.date(2026, 9, 12), "reference_year"),
        ("Sep 12", dt.date(2026, 9, 12), "reference_year"),
        ("September 12", dt.date(2026, 9, 12), "reference_year"),
        ("Sept. 12", dt.date(2026, 9, 12), "reference_year"),
        ("SEPT 12", dt.date(2026, 9, 12), "reference_year"),
        ("12 Sept", dt.date(2026, 9, 12), "reference_year"),
        ("Mar 1st", dt.date(2026, 3, 1), "reference_year"),
        ("Jun. 3", dt.date(2026, 6, 3), "reference_year"),
        ("Dec 31, 1999", dt.date(1999, 12, 31), "date_line"),
        ("12 March, 2025", dt.date(2025, 3, 12), "date_line"),
        ("2024-02-29", dt.date(2024, 2, 29), "date_line"),
        ("Mar 12, 2025", dt.date(2025, 3, 12), "date_line"),
        ("March 12 2024", dt.date(2024, 3, 12), "date_line"),
        ("2025-03-12", dt.date(2025, 3, 12), "date_line"),
        ("12 Mar 2023", dt.date(2023, 3, 12), "date_line"),
        ("Mar 12", dt.date(2026, 3, 12), "reference_year"),
        # The reference year is not a leap year: Feb 29 takes the latest leap year before it.
        ("Feb 29", dt.date(2024, 2, 29), "reference_year"),
    ],
)
def test_literal_date_lines(date_line, expected, source):
    parsed = parse(render(date_line, [ENTRY]))
    assert (parsed.digest_date, parsed.date_source, parsed.date_line) == (expected, source, date_line)
    assert pairs(parsed) == [ENTRY]


@pytest.mark.parametrize(
    "block", ["Mar12", "Mar 12,2026", "Marc 12", "Septem 12", "2026-3-12", "Mar 123", "1st Mar", "Mar 12, 26"]
)
def test_blocks_that_are_not_date_lines(block):
    assert parse_date_line(block) is None


@pytest.mark.parametrize(
    ("date_line", "error"),
    [("Sep 31", "no such date: 2026-09-31"), ("2026-02-29", "no such date: 2026-02-29"), ("Mar 32", "no such date: 2026-03-32")],
)
def test_date_lines_naming_no_real_day(date_line, error):
    parsed = parse(render(date_line, [ENTRY]))
    assert parsed.status == "undated" and parsed.rejects[0][:4] == (9, "invalid_date", date_line, error)


def test_a_date_line_is_at_most_40_characters():
    at_bound = "September" + " " * 29 + "12"  # 40 characters
    assert len(at_bound) == 40 and parse_date_line(at_bound) is not None
    assert parse_date_line(at_bound.replace("September", "Sept")) is not None  # 35
    assert parse_date_line("September" + " " * 30 + "12") is None  # 41


# --- dates: the file name (an ISO date not glued to other digits) -----------------------------


@pytest.mark.parametrize(
    ("name", "expected", "source"),
    [
        ("12025-03-12.txt", dt.date(2026, 3, 12), "reference_year"),  # a digit before: no date
        ("x2025-03-12.txt", dt.date(2025, 3, 12), "file_name"),  # a letter before is fine
        ("2025-03-123.txt", dt.date(2026, 3, 12), "reference_year"),  # a digit after: no date
        ("2025-03-12a.txt", dt.date(2025, 3, 12), "file_name"),
        ("2025-02-30_2024-03-12.txt", dt.date(2024, 3, 12), "file_name"),  # an impossible one is skipped
    ],
)
def test_the_year_of_a_date_line_from_the_file_name(name, expected, source):
    parsed = parse(render("Mar 12", [ENTRY]), name)
    assert (parsed.digest_date, parsed.date_source) == (expected, source)


@pytest.mark.parametrize(("name", "expected"), [("12026-03-12.txt", None), ("x2026-03-12.txt", dt.date(2026, 3, 12))])
def test_with_no_date_line_a_glued_file_name_date_leaves_the_digest_undated(name, expected):
    parsed = parse(render(None, [ENTRY]), name)
    assert parsed.digest_date == expected
    assert parsed.status == ("ok" if expected else "undated")


# --- dates: one date line, valid or not --------------------------------------------------------


def test_a_valid_date_line_after_an_invalid_one_is_extra():
    parsed = parse(render(None, [ENTRY], header=["Feb 30", "Mar 12"]))
    assert (parsed.status, parsed.digest_date, parsed.date_line) == ("undated", None, None)
    assert reject_reasons(parsed) == [(1, "invalid_date"), (3, "extra_date_line"), (5, "undated_digest"), (7, "undated_digest")]
    # A header between them changes nothing; the file name still dates the digest.
    named = parse(render(None, [ENTRY], header=["Feb 30", "Subscribe", "Mar 12"]), "daily-2025-03-14.txt")
    assert (named.status, named.digest_date, named.date_source) == ("ok", dt.date(2025, 3, 14), "file_name")
    assert reject_reasons(named) == [(1, "invalid_date"), (5, "extra_date_line")] and pairs(named) == [ENTRY]


def test_an_invalid_date_line_after_a_valid_one_is_extra_not_invalid():
    parsed = parse(render(None, [ENTRY], header=["Mar 12", "Feb 30"]))
    assert (parsed.digest_date, parsed.date_line) == (dt.date(2026, 3, 12), "Mar 12")
    assert reject_reasons(parsed) == [(3, "extra_date_line")]


def test_a_damaged_block_between_an_invalid_and_a_valid_date_line_changes_nothing():
    # The rejected damaged block must not hide that a date line (an invalid one) was seen.
    parsed = parse(render(None, [ENTRY], header=["Feb 30", "Sub\x01scribe", "Mar 12"]))
    assert reject_reasons(parsed) == [
        (1, "invalid_date"),
        (3, "control_characters"),
        (5, "extra_date_line"),
        (7, "undated_digest"),
        (9, "undated_digest"),
    ]
    assert (parsed.status, parsed.digest_date, parsed.date_line) == ("undated", None, None)


# --- paper_id: literal oracles and normalization -----------------------------------------------

# Each id is the first 16 hex digits of sha256 of the normalized title named in the comment.
PAPER_IDS = [
    # "attention is all you need"
    ("Attention Is All You Need", "4a1c934d3d98f3ce"),
    # "graph nets a survey" (the contract's own example, both spellings)
    ("Graph Nets: A Survey", "e1a5e46f80753e7f"),
    ("graph nets -- a  survey", "e1a5e46f80753e7f"),
    # "gpt 4 technical report": NFKC turns fullwidth letters, digits and hyphen into ASCII
    ("GPT-4 Technical Report", "71c318f65131d474"),
    ("\uff27\uff30\uff34-\uff14 Technical Report", "71c318f65131d474"),
    ("\uff27\uff30\uff34\uff0d\uff14 technical report", "71c318f65131d474"),
    # "efficient fine tuning": the ligature U+FB01 is "fi"
    ("Efficient Fine-Tuning", "fc94bdca98ebf4b2"),
    ("Efficient \ufb01ne-tuning", "fc94bdca98ebf4b2"),
    # "sparse moe": underscores are punctuation (a fullwidth one is "_" after NFKC)
    ("Sparse_MoE", "205eeda6c7e331c7"),
    ("Sparse MoE", "205eeda6c7e331c7"),
    ("sparse__moe", "205eeda6c7e331c7"),
    ("Sparse\uff3fMoE", "205eeda6c7e331c7"),
    # "strasse": casefold, not lower() (which keeps ß)
    ("Stra\u00dfe", "16d96952087774fe"),
    ("STRASSE", "16d96952087774fe"),
    # "café au lait a paper": NFKC composes e + U+0301
    ("Caf\u00e9 au Lait: a Paper", "0415047016beccd2"),
    ("Cafe\u0301 au Lait: a Paper", "0415047016beccd2"),
    ("Caf\u00e9_au_Lait: a Paper", "0415047016beccd2"),  # underscores in a non-ASCII title too
    # A title of punctuation only keys on itself: sha256 of "?!" and of "!?".
    ("?!", "545f940d19fadff4"),
    ("!?", "8faf838e27d8b539"),
]


@pytest.mark.parametrize(("title", "expected"), PAPER_IDS)
def test_literal_paper_ids(title, expected):
    assert paper_id(title) == expected


def test_the_reader_keys_entries_on_the_literal_paper_id():
    entries = [("GPT-4 Technical Report", abstract("gpt")), ("Sparse_MoE Routing", abstract("moe"))]
    parsed = parse(render("Mar 12", entries))
    # "gpt 4 technical report" and "sparse moe routing"
    assert [entry.paper_id for entry in parsed.entries] == ["71c318f65131d474", "0c0b1c71285dbe64"]


def test_titles_differing_in_a_vowel_sign_are_two_papers():
    # मूल ("root") and मिल ("mill") differ only in their vowel sign, U+0942 (Mn) against U+093F (Mc).
    # A combining mark is part of its word: sha256 of "मूल मॉडल" and of "मिल मॉडल" as written here.
    root, mill = "\u092e\u0942\u0932 \u092e\u0949\u0921\u0932", "\u092e\u093f\u0932 \u092e\u0949\u0921\u0932"
    assert (paper_id(root), paper_id(mill)) == ("634d6aa2d60fd612", "fa8e6a8c1f0b8239")
    # Punctuation (a danda, U+0964, too) and underscores between the words still collapse.
    for variant in (root.replace(" ", "\u0964 "), root.replace(" ", "_"), root.replace(" ", " -- ")):
        assert paper_id(variant) == "634d6aa2d60fd612", variant


# --- arXiv ids in titles and abstracts ---------------------------------------------------------

ARXIV_CASES = [
    ("Scaling Laws Revisited", "We extend prior work (ARXIV:2303.12345) to larger models.\nResults follow.", "2303.12345"),
    ("Mixed Case Identifiers", "Our preprint, ArXiV: 2401.00001v3, has the details.\nResults follow.", "2401.00001"),
    ("Transformers Again", "The original paper is https://arxiv.org/pdf/1706.03762v7.pdf for reference.\nMore.", "1706.03762"),
    ("An Old Style Identifier", "Compare with arXiv:0704.0001, one of the first.\nResults follow.", "0704.0001"),
    ("Follow-up to arXiv:2312.00752", "The abstract names another, arXiv:2401.99999.\nThe title's comes first.", "2312.00752"),
    ("Export Mirror Links", "See export.arxiv.org/abs/2402.01234 for the paper.\nMore.", "2402.01234"),
    # No ids: six digits, no colon, an HTML page, a bare number.
    ("Six Digits Are Too Many", "We cite arXiv:2303.123456 here.\nResults follow.", None),
    ("No Colon No Id", "We cite arXiv 2303.12345 here.\nResults follow.", None),
    ("HTML Pages Are Not Ids", "We cite arxiv.org/html/2303.12345 here.\nResults follow.", None),
    ("Bare Numbers Are Not Ids", "Version 2303.12345 of the data.\nResults follow.", None),
]


def test_literal_arxiv_ids_found_by_the_reader():
    parsed = parse(render("Mar 12", [(title, text) for title, text, _ in ARXIV_CASES]))
    assert [(entry.title, entry.arxiv_id) for entry in parsed.entries] == [
        (title, expected) for title, _, expected in ARXIV_CASES
    ]


@pytest.mark.parametrize(
    ("text", "expected"), [("arXiv:  2303.12345", None), ("arXiv:12303.12345", None), ("arXiv:2303.12345.", "2303.12345")]
)
def test_arxiv_id_edges(text, expected):
    assert find_arxiv_id(text) == expected


# --- links: literal canonical form -------------------------------------------------------------

# raw link -> (url, kind, owner, repo)
LINKS = [
    ("https://github.com/Owner/Repo.GIT", ("https://github.com/Owner/Repo", "github", "Owner", "Repo")),
    ("https://github.com/o/r/.git/", ("https://github.com/o/r", "github", "o", "r")),
    ("https://github.com/o/r.gits", ("https://github.com/o/r.gits", "github", "o", "r.gits")),  # no .git suffix
    ("https://github.com/o/r#readme", ("https://github.com/o/r#readme", "github", "o", "r")),
    ("https://github.com/solo", ("https://github.com/solo", "github", "solo", None)),
    (
        "https://gitlab.com/group/project/-/tree/main",
        ("https://gitlab.com/group/project/-/tree/main", "gitlab", "group", "project"),
    ),
    ("https://huggingface.co/spaces/owner/demo", ("https://huggingface.co/spaces/owner/demo", "huggingface", "owner", "demo")),
    ("https://huggingface.co/owner/model", ("https://huggingface.co/owner/model", "huggingface", "owner", "model")),
    ("https://huggingface.co/papers/2303.12345", ("https://huggingface.co/papers/2303.12345", "huggingface", None, None)),
    ("hf.co/datasets/o/d", ("https://hf.co/datasets/o/d", "huggingface", "o", "d")),
    ("HTTPS://Owner.GitHub.IO/Proj/", ("https://owner.github.io/Proj", "github_pages", "owner", None)),
    ("https://www.youtube.com/watch?v=abc123", ("https://www.youtube.com/watch?v=abc123", "other", None, None)),
    # www. is dropped before a code host only.
    ("www.gitlab.com/g/p/", ("https://gitlab.com/g/p", "gitlab", "g", "p")),
    ("https://www.huggingface.co/datasets/o/d", ("https://huggingface.co/datasets/o/d", "huggingface", "o", "d")),
    ("https://www.example.org/demo", ("https://www.example.org/demo", "project_page", None, None)),
    ("https://doi.org/10.1000/xyz.", ("https://doi.org/10.1000/xyz", "other", None, None)),
    ("https://example.org/p?q=1.", ("https://example.org/p?q=1", "project_page", None, None)),
    # A port is kept as written, a default one too (the scheme becomes https all the same).
    ("https://example.org:8080/demo/", ("https://example.org:8080/demo", "project_page", None, None)),
    ("http://WWW.GitHub.com:443/Owner/Repo/", ("https://github.com:443/Owner/Repo", "github", "Owner", "Repo")),
    ("http://x.com:80/", ("https://x.com:80", "other", None, None)),
]


@pytest.mark.parametrize(("raw", "expected"), LINKS, ids=[raw for raw, _ in LINKS])
def test_literal_canonical_links(raw, expected):
    link = canonicalize(raw)
    assert link is not None
    assert (link.url, link.kind, link.owner, link.repo) == expected
    assert link.raw_url == raw


@pytest.mark.parametrize("raw", ["https://x.com:99999/a", "https://x.com:abc/a", "https://localhost/a"])
def test_links_naming_no_usable_host_or_port(raw):
    assert canonicalize(raw) is None


def test_a_trailing_comma_and_an_upper_case_git_in_an_abstract_read_by_the_reader():
    text = "Code: https://github.com/owner-x/repo-y, data at https://gitlab.com/g/p.GIT and more.\nSecond line."
    parsed = parse(render("Mar 12", [("A Paper With Links", text)]))
    assert [(link.url, link.raw_url, link.kind, link.owner, link.repo) for link in parsed.entries[0].links] == [
        ("https://github.com/owner-x/repo-y", "https://github.com/owner-x/repo-y,", "github", "owner-x", "repo-y"),
        ("https://gitlab.com/g/p", "https://gitlab.com/g/p.GIT", "gitlab", "g", "p"),
    ]


def test_www_before_a_code_host_is_the_same_canonical_url():
    text = "Code: www.github.com/a/b and github.com/a/b."
    assert [link.url for link in extract_links(text)] == ["https://github.com/a/b"]
    parsed = parse(render("Mar 12", [("A Paper With One Repository", text + "\nSecond line.")]))
    assert [(link.url, link.raw_url) for link in parsed.entries[0].links] == [("https://github.com/a/b", "www.github.com/a/b")]


def test_www_before_a_code_host_still_classifies_it():
    # The url drops www.; host keeps the name as written, and kind, owner and repo are github.com's.
    link = canonicalize("www.github.com/a/b")
    assert link is not None
    assert (link.url, link.host, link.kind, link.owner, link.repo) == (
        "https://github.com/a/b",
        "www.github.com",
        "github",
        "a",
        "b",
    )


# --- first versus last: one paper twice in one digest ------------------------------------------


def test_the_first_sighting_in_a_digest_is_kept():
    entries = [
        ("GPT-4 Technical Report", abstract("first")),  # lines 11, 13
        ("Sparse_MoE Routing", abstract("moe")),  # 15, 17
        ("\uff27\uff30\uff34\uff0d\uff14 technical report", abstract("second")),  # 19, 21: the first paper again
        ("Sparse MoE routing!", abstract("moe again")),  # 23, 25: the second again
        ("A Third Paper", abstract("third")),  # 27, 29
    ]
    parsed = parse(render("Mar 12", entries))
    assert [(entry.title, entry.abstract, entry.position, entry.line) for entry in parsed.entries] == [
        ("GPT-4 Technical Report", abstract("first"), 1, 11),
        ("Sparse_MoE Routing", abstract("moe"), 2, 15),
        ("A Third Paper", abstract("third"), 3, 27),
    ]
    assert reject_reasons(parsed) == [(19, "repeated_entry"), (21, "repeated_entry"), (23, "repeated_entry"), (25, "repeated_entry")]
    assert parsed.rejects[0].detail == "paper 71c318f65131d474 already listed in this digest"
    assert parsed.rejects[2].detail == "paper 0c0b1c71285dbe64 already listed in this digest"


def test_a_rejected_first_sighting_does_not_make_the_next_one_a_repeat():
    too_long = sized(5001, "We measure how long abstracts are read.")
    parsed = parse(render("Mar 12", [("A Paper Seen Twice", too_long), ("A paper seen twice.", abstract("kept"))]))
    assert [(entry.title, entry.abstract, entry.position, entry.line) for entry in parsed.entries] == [
        ("A paper seen twice.", abstract("kept"), 1, 15)
    ]
    assert reject_reasons(parsed) == [(11, "oversized_entry"), (13, "oversized_entry")]
