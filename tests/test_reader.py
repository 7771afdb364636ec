"""The robust reader: each irregularity of DESIGN.md on a small input written here.

Every test also checks that no block is unaccounted for.
"""

import datetime as dt

import pytest

from pipeline.read.parsed import ParsedDigest, split_blocks
from pipeline.read.reader import parse_digest
from tests.helpers import HEADER, abstract, render

ENTRIES = [
    ("Sparse Attention for Long Documents", abstract("sparse attention")),
    ("A Benchmark of Robot Grasping", abstract("robot grasping")),
    ("Diffusion Models Need Better Noise", abstract("diffusion noise")),
]
CLEAN = render("Mar 12", ENTRIES)


def parse(text: str | bytes, name: str = "digest.txt", year: int | None = None) -> ParsedDigest:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    parsed = parse_digest(raw, name, year)
    assert parsed.accounted_blocks == parsed.block_count, "a block is unaccounted for"
    return parsed


def pairs(parsed: ParsedDigest) -> list[tuple[str, str]]:
    return [(entry.title, entry.abstract) for entry in parsed.entries]


def reasons(parsed: ParsedDigest) -> list[tuple[int, str, str]]:
    return [(reject.line, reject.reason, reject.raw_text) for reject in parsed.rejects]


def test_clean_digest():
    parsed = parse(CLEAN)
    assert pairs(parsed) == ENTRIES
    assert parsed.header_block_count == 4 and parsed.date_line == "Mar 12"
    assert parsed.digest_date == dt.date(2026, 3, 12) and parsed.date_source == "reference_year"
    assert [entry.position for entry in parsed.entries] == [1, 2, 3]
    lines = CLEAN.split("\n")
    assert [lines[entry.line - 1] for entry in parsed.entries] == [title for title, _ in ENTRIES]
    assert parsed.rejects == [] and parsed.encoding == "utf-8"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings_read_as_the_same_digest(newline):
    parsed = parse(CLEAN.replace("\n", newline))
    assert pairs(parsed) == ENTRIES
    assert parsed.digest_id == parse(CLEAN).digest_id
    assert [entry.line for entry in parsed.entries] == [entry.line for entry in parse(CLEAN).entries]


def test_utf8_bom():
    parsed = parse(b"\xef\xbb\xbf" + CLEAN.encode())
    assert pairs(parsed) == ENTRIES and parsed.header_block_count == 4
    assert parsed.encoding == "utf-8-bom" and parsed.digest_id == parse(CLEAN).digest_id


def test_runs_of_blank_lines_and_trailing_spaces():
    messy = CLEAN.replace("\n\n", "\n  \n\n\t\n\n").replace("Mar 12", "Mar 12   ")
    parsed = parse(messy + "\n\n\n")
    assert pairs(parsed) == ENTRIES
    assert parsed.date_line == "Mar 12"
    lines = messy.split("\n")
    assert [lines[entry.line - 1] for entry in parsed.entries] == [title for title, _ in ENTRIES]
    # Trailing whitespace is not content: the same capture, the same digest.
    assert parse("\n".join(line + " " for line in CLEAN.split("\n"))).digest_id == parse(CLEAN).digest_id


def test_missing_header():
    parsed = parse(render("Mar 12", ENTRIES, header=[]))
    assert pairs(parsed) == ENTRIES and parsed.header_block_count == 0


def test_reordered_and_partial_header():
    header = [HEADER[2], HEADER[0], HEADER[3]]
    parsed = parse(render("Mar 12", ENTRIES, header=header))
    assert pairs(parsed) == ENTRIES and parsed.header_block_count == 3
    # The date line may also come before header blocks.
    parsed = parse("\n\n".join(["Mar 12", *HEADER, *[block for entry in ENTRIES for block in entry]]))
    assert pairs(parsed) == ENTRIES and parsed.header_block_count == 4


def test_title_with_no_abstract_in_the_middle():
    text = render("Mar 12", [ENTRIES[0]]) + "\n\nAn Orphan Title With No Abstract\n\n" + render(None, ENTRIES[1:], header=[])
    parsed = parse(text)
    assert pairs(parsed) == ENTRIES
    line = text.split("\n").index("An Orphan Title With No Abstract") + 1
    assert reasons(parsed) == [(line, "title_without_abstract", "An Orphan Title With No Abstract")]
    assert [entry.position for entry in parsed.entries] == [1, 2, 3]


def test_title_with_no_abstract_at_the_end():
    parsed = parse(CLEAN + "\n\nA Title Cut Off Before Its Abstract")
    assert pairs(parsed) == ENTRIES
    assert [reason for _, reason, _ in reasons(parsed)] == ["title_without_abstract"]
    assert parsed.rejects[0].raw_text == "A Title Cut Off Before Its Abstract"


def test_truncated_last_entry():
    cut = "We study how large models fail wh"
    parsed = parse(CLEAN + "\n\nA Title Whose Abstract Was Cut\n\n" + cut)
    assert pairs(parsed) == ENTRIES
    assert [(reason, text) for _, reason, text in reasons(parsed)] == [
        ("truncated_entry", "A Title Whose Abstract Was Cut"),
        ("truncated_entry", cut),
    ]


def test_a_long_truncated_abstract_is_still_an_entry():
    cut = abstract("truncation")[:700]
    parsed = parse(CLEAN + "\n\nA Title Whose Long Abstract Was Cut\n\n" + cut)
    assert pairs(parsed)[-1] == ("A Title Whose Long Abstract Was Cut", cut)


def test_abstract_without_title():
    text = render("Mar 12", [ENTRIES[0]]) + "\n\n" + abstract("stray") + "\n\n" + render(None, ENTRIES[1:], header=[])
    parsed = parse(text)
    assert pairs(parsed) == ENTRIES
    assert [(reason, text) for _, reason, text in reasons(parsed)] == [("abstract_without_title", abstract("stray"))]


def test_short_abstract_followed_by_a_title_is_still_an_abstract():
    short = [("A Paper With A Terse Abstract", "We show that it works."), *ENTRIES]
    assert pairs(parse(render("Mar 12", short))) == short


def test_year_from_file_name_then_configuration():
    text = render("Mar 12", ENTRIES)
    from_name = parse(text, name="daily-2024-03-12.txt", year=2030)
    assert (from_name.digest_date, from_name.date_source) == (dt.date(2024, 3, 12), "file_name")
    from_config = parse(text, name="daily.txt", year=2030)
    assert (from_config.digest_date, from_config.date_source) == (dt.date(2030, 3, 12), "config")
    # A year in the date line wins over both.
    stated = parse(render("Mar 12, 2022", ENTRIES), name="daily-2024-03-12.txt", year=2030)
    assert (stated.digest_date, stated.date_source) == (dt.date(2022, 3, 12), "date_line")


def test_missing_date_line_uses_the_file_name_date():
    parsed = parse(render(None, ENTRIES), name="capture 2025-01-05.txt")
    assert (parsed.digest_date, parsed.date_source, parsed.date_line) == (dt.date(2025, 1, 5), "file_name", None)
    assert pairs(parsed) == ENTRIES


def test_missing_date_line_and_no_date_anywhere_rejects_every_entry_block():
    parsed = parse(render(None, ENTRIES))
    assert parsed.status == "undated" and parsed.entries == []
    assert [reason for _, reason, _ in reasons(parsed)] == ["undated_digest"] * 6
    assert [text for _, _, text in reasons(parsed)] == [block for entry in ENTRIES for block in entry]


def test_impossible_date_is_rejected_with_its_line():
    parsed = parse(render("Feb 30", ENTRIES))
    assert parsed.status == "undated"
    assert reasons(parsed)[0] == (9, "invalid_date", "Feb 30")
    assert {reason for _, reason, _ in reasons(parsed)[1:]} == {"undated_digest"}


def test_second_date_line_is_rejected():
    text = render("Mar 12", ENTRIES[:1]) + "\n\nMar 13\n\n" + render(None, ENTRIES[1:], header=[])
    parsed = parse(text)
    assert pairs(parsed) == ENTRIES
    assert [(reason, text) for _, reason, text in reasons(parsed)] == [("extra_date_line", "Mar 13")]


def test_windows_1252_text():
    title = "“Quoted” Models – and Their Discontents"
    raw = render("Mar 12", [(title, abstract("legacy")), *ENTRIES]).encode("cp1252")
    parsed = parse(raw)
    assert parsed.encoding == "cp1252"
    assert parsed.entries[0].title == title


def test_latin_1_text():
    title = "Réseaux de neurones à mémoire éparse"
    raw = render("Mar 12", [(title, abstract("français")), *ENTRIES]).encode("latin-1")
    parsed = parse(raw)
    assert parsed.encoding in ("cp1252", "latin-1")
    assert parsed.entries[0].title == title


def test_utf16_with_bom():
    parsed = parse(CLEAN.encode("utf-16"))
    assert pairs(parsed) == ENTRIES and parsed.encoding.startswith("utf-16")
    assert parsed.digest_id == parse(CLEAN).digest_id


@pytest.mark.parametrize("raw", [b"", b"   \n\n\r\n"])
def test_empty_file(raw):
    parsed = parse(raw)
    assert parsed.status == "empty" and parsed.block_count == 0
    assert parsed.entries == [] and parsed.rejects == [] and parsed.error


def test_binary_file_is_one_reject_with_its_first_bytes():
    raw = bytes(range(256)) * 64
    parsed = parse(raw)
    assert parsed.status == "binary" and parsed.entries == []
    assert [(reject.line, reject.reason) for reject in parsed.rejects] == [(1, "binary_file")]
    assert parsed.rejects[0].raw_text.encode("latin-1") == raw[:4096]


def test_control_characters_reject_only_their_block():
    text = render("Mar 12", ENTRIES) + "\n\nA Title\x00With A NUL\n\n" + abstract("nul")
    parsed = parse(text)
    assert pairs(parsed) == ENTRIES
    assert [reason for _, reason, _ in reasons(parsed)] == ["control_characters", "abstract_without_title"]


def test_same_paper_twice_in_one_digest_is_one_appearance():
    parsed = parse(render("Mar 12", [*ENTRIES, ("Sparse attention for long documents!", abstract("again"))]))
    assert pairs(parsed) == ENTRIES
    assert [reason for _, reason, _ in reasons(parsed)] == ["repeated_entry", "repeated_entry"]


def test_split_blocks_keeps_first_lines_and_offsets():
    # Three newlines before "Xb": the odd one is skipped, and only newlines (an X stays).
    blocks = split_blocks("a\n\n\nXb\nc\n\nd")
    assert [(block.line, block.text, block.offset) for block in blocks] == [(1, "a", 0), (4, "Xb\nc", 4), (7, "d", 10)]


@pytest.mark.parametrize(
    "title",
    [
        "[A Title Here](https://example.org/a-title)",  # an inline link
        "10 authors](https://example.org/a-title)",  # half of one
        "https://example.org/papers/2505.05063",  # a bare URL
        "A Title That Cites http://example.org",
        "[A Title Here][31]",  # a reference link
        "# A Markdown Heading",
        # (Links to huggingface.co, a link definition or a "# Daily Papers" heading make
        # the whole file markdown: test_format_markdown.)
    ],
)
def test_a_title_of_markup_or_links_is_rejected(title):
    parsed = parse(render("Mar 12", [*ENTRIES, (title, abstract("markup"))]))
    assert pairs(parsed) == ENTRIES
    assert [reason for _, reason, _ in reasons(parsed)] == ["markup_title", "markup_title"]


@pytest.mark.parametrize("title", ["#1 on the Leaderboard: A Study", "[MASK] Tokens Are Enough", "C# Code Models"])
def test_a_title_that_only_looks_like_markup_is_kept(title):
    """The warning check markup_titles lists these for a person to look at."""
    parsed = parse(render("Mar 12", [(title, abstract("kept"))]))
    assert pairs(parsed) == [(title, abstract("kept"))] and parsed.rejects == []


@pytest.mark.parametrize(
    ("date_line", "retrieved", "expected"),
    [
        ("Mar 12", "2026-03-12", dt.date(2026, 3, 12)),
        ("Dec 31", "2027-01-02", dt.date(2026, 12, 31)),  # the list of the day before new year
        ("Jan 1", "2026-12-30", dt.date(2027, 1, 1)),  # captured ahead of its day (a time zone)
        ("Jul 2", "2026-01-01", dt.date(2026, 7, 2)),  # 182 days ahead, 183 behind: this year
        ("Jul 3", "2026-01-01", dt.date(2025, 7, 3)),  # 183 days ahead, 182 behind: last year
        ("Feb 29", "2027-03-01", dt.date(2028, 2, 29)),  # the nearest year that has one
    ],
)
def test_a_date_line_without_a_year_takes_the_year_nearest_the_capture_day(date_line, retrieved, expected):
    front = f"---\nurl: https://huggingface.co/papers\nretrieved: {retrieved}T08:00:00Z\n---\n\n# Daily Papers\n\n{date_line}\n\n"
    card = "### [A Paper Title](https://huggingface.co/papers/2603.01234)\n\nAn abstract of the paper, one sentence long."
    parsed = parse(front + card, name="daily-2020-01-01.md", year=2030)  # the capture's day comes first
    assert (parsed.format, parsed.digest_date, parsed.date_source) == ("markdown", expected, "capture")


def test_with_no_date_line_the_capture_day_then_the_file_name_dates_a_digest():
    card = "# Daily Papers\n\n### [A Paper Title](https://huggingface.co/papers/2603.01234)\n\nAn abstract of the paper."
    captured = parse("---\nexported: 2026-03-12 08:00\n---\n\n" + card, name="daily-2024-01-05.md")
    assert (captured.digest_date, captured.date_source) == (dt.date(2026, 3, 12), "capture")
    named = parse(card, name="daily-2024-01-05.md", year=2030)
    assert (named.digest_date, named.date_source) == (dt.date(2024, 1, 5), "file_name")
    undated = parse(card, name="daily.md", year=2030)
    assert (undated.status, undated.digest_date, [r.reason for r in undated.rejects]) == ("undated", None, ["undated_digest"] * 2)


# --- the date line after blocks the reader does not know -------------------------------------


def test_header_lines_with_no_blank_line_between_them_are_one_header_block():
    parsed = parse(render("Mar 12", ENTRIES, header=["new\nGet trending papers in your email inbox!\nSubscribe"]), "2026-03-13.txt")
    assert (parsed.date_line, parsed.digest_date, parsed.date_source) == ("Mar 12", dt.date(2026, 3, 12), "file_name")
    assert pairs(parsed) == ENTRIES and parsed.header_block_count == 1 and parsed.rejects == []


@pytest.mark.parametrize(
    ("unknown", "rejected"),
    [
        (["Sign in"], [(3, "title_without_abstract", "Sign in")]),
        (["Sign in", "Log in", "Help"], [(3, "title_without_abstract", "Sign in"), (5, "title_without_abstract", "Log in"), (7, "title_without_abstract", "Help")]),
        (["Sign in\nLog in"], [(3, "abstract_without_title", "Sign in\nLog in")]),
        # Known and unknown header lines in one block: not a header block.
        (["new\nSign in"], [(3, "abstract_without_title", "new\nSign in")]),
    ],
)
def test_a_block_the_reader_does_not_know_before_the_date_line_is_a_reject_not_the_date(unknown, rejected):
    """The first date line before the first entry is the date line, whatever comes before it."""
    for name, source in (("2026-03-13.txt", "file_name"), ("digest.txt", "reference_year")):
        parsed = parse(render("Mar 12", ENTRIES, header=["new", *unknown]), name)
        assert (parsed.status, parsed.date_line, parsed.digest_date, parsed.date_source) == ("ok", "Mar 12", dt.date(2026, 3, 12), source)
        assert pairs(parsed) == ENTRIES and parsed.header_block_count == 1 and reasons(parsed) == rejected


def test_the_date_line_counts_before_the_first_entry_and_is_extra_after_it():
    # Before: an unknown title-shaped block does not start an entry.
    before = parse(render("Mar 12", ENTRIES, header=["Sign in"]), "2026-03-13.txt")
    assert (before.date_line, before.digest_date, before.date_source) == ("Mar 12", dt.date(2026, 3, 12), "file_name")
    assert pairs(before) == ENTRIES and reasons(before) == [(1, "title_without_abstract", "Sign in")]
    # After: a title followed by its abstract is the first entry, which ends the header blocks.
    text = render(None, ENTRIES[:1], header=["new", "Sign in"]) + "\n\nMar 12\n\n" + render(None, ENTRIES[1:], header=[])
    after = parse(text, "2026-03-13.txt")
    assert (after.date_line, after.digest_date, after.date_source) == (None, dt.date(2026, 3, 13), "file_name")
    assert pairs(after) == ENTRIES
    assert reasons(after) == [(3, "title_without_abstract", "Sign in"), (9, "extra_date_line", "Mar 12")]


# --- details of the rejects before the date line, front matter, an undated first entry -------


def test_blocks_before_the_date_line_are_rejected_with_their_detail():
    # The detail is a column of the rejects table: each kind of stray says what it is.
    parsed = parse(render("Mar 12", ENTRIES, header=["new", "Sign in\nLog in", "Help"]), "2026-03-13.txt")
    assert pairs(parsed) == ENTRIES and parsed.date_line == "Mar 12"
    assert [(reject.line, reject.reason, reject.raw_text, reject.detail) for reject in parsed.rejects] == [
        (3, "abstract_without_title", "Sign in\nLog in", "abstract-shaped block before the date line"),
        (6, "title_without_abstract", "Help", "a title-shaped block before the date line"),
    ]


def test_front_matter_takes_a_list_indented_by_one_space():
    from pipeline.read.formats.common import front_matter

    # A YAML list under a key, indented by a single space: still front matter.
    text = "---\ntags:\n - papers\n - daily\nurl: https://huggingface.co/papers/date/2026-03-12\n---\n\n# Daily Papers"
    assert front_matter(split_blocks(text)) == ({"tags": "", "url": "https://huggingface.co/papers/date/2026-03-12"}, 1)


def test_front_matter_never_closed_is_no_front_matter_and_takes_no_block():
    from pipeline.read.formats.common import front_matter

    # No closing ---: the blocks stay the page's, none is taken.
    assert front_matter(split_blocks("---\ntitle: Daily Papers\n\nurl: https://huggingface.co/papers")) == ({}, 0)


def test_an_undated_digest_rejects_its_first_entry_as_undated_even_a_damaged_abstract():
    # The first entry (a title, then an abstract-shaped last block) ends the header blocks;
    # with no usable date every block from it on is undated_digest, before any damage test.
    damaged = abstract("robot grasping") + " \x01"
    parsed = parse(f"Daily Papers\n\nA Benchmark of Robot Grasping\n\n{damaged}", "digest.txt")
    assert (parsed.status, parsed.digest_date, parsed.header_block_count) == ("undated", None, 1)
    assert [(reject.line, reject.reason, reject.raw_text) for reject in parsed.rejects] == [
        (3, "undated_digest", "A Benchmark of Robot Grasping"),
        (5, "undated_digest", damaged),
    ]
