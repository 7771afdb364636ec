"""The text-export and daily-papers-JSON readers, on the captures of tests/captures and on hand-made inputs.

Expected values are written out by hand from tests/captures/EXPECTED.md and the captures.
Every parse checks that each block is accounted for.
"""

import datetime as dt
import json
import random
from pathlib import Path

import pytest

from pipeline.build import build_warehouse
from pipeline.config import Settings
from pipeline.read.decoding import decode_digest
from pipeline.read.formats import detect_format
from pipeline.read.formats.daily_json import MAX_DEPTH, RAW_TEXT_MAX_CHARS, _too_deep
from pipeline.read.formats.text_export import read_text_export
from pipeline.read.parsed import ParsedDigest
from pipeline.read.reader import parse_digest
from tests.format_corpus import (
    CAPTURE_A,
    CAPTURE_B,
    CAPTURE_C,
    CAPTURE_D,
    Capture,
    CardEntry,
    render_daily_papers_json,
    render_text_export,
)
from tests.helpers import reject_reasons, rows

CAPTURES = Path(__file__).resolve().parent / "captures"


def parse(text: str | bytes, name: str = "capture") -> ParsedDigest:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    parsed = parse_digest(raw, name)
    assert parsed.accounted_blocks == parsed.block_count, "a block is unaccounted for"
    return parsed


def capture(name: str) -> str:
    return (CAPTURES / name).read_text(encoding="utf-8")



def links(entry) -> list[str]:
    return [link.url for link in entry.card_links]


# The four papers of text_export.txt and markdown.md (EXPECTED.md), in page order.
PAPERS_A = [
    ("Sparse_MoE at Scale: Routing *Every* Token Through [MASK] Experts", "2603.08817", 57, 3, 1320),
    ("λ-Agents: Typed Tool Use for Language Models via Δ-Calculus", "2603.09102", None, None, None),
    ("Méthodes Über Alles: Cross-Lingual Retrieval for Low-Resource Languages", "2603.07754", 12, None, 950),
    ("When \\cite Breaks: Robust Parsing of LaTeX-Heavy Abstracts", "2603.06021", 8, 1, None),
]


def card_values(parsed: ParsedDigest) -> list[tuple]:
    return [(e.title, e.arxiv_id, e.upvotes, e.comments, e.stars) for e in parsed.entries]


# =========================================================================================
# text-export
# =========================================================================================


def test_text_export_capture():
    parsed = parse(capture("text_export.txt"), "text_export.txt")
    assert (parsed.format, parsed.status, parsed.listing) == ("text-export", "ok", "daily")
    assert (parsed.digest_date, parsed.date_source, parsed.date_line) == (dt.date(2026, 3, 12), "capture", "Mar 12")
    assert card_values(parsed) == PAPERS_A
    assert [entry.line for entry in parsed.entries] == [69, 95, 113, 135]  # the title lines
    assert [links(entry) for entry in parsed.entries] == [
        ["https://github.com/sparse-moe-lab/sparse_moe"],
        [],
        ["https://github.com/mlir-lab/uber-alles"],
        [],
    ]
    assert all(entry.authors == () for entry in parsed.entries)  # "5 authors" is a count, not names
    assert parsed.rejects == []
    # Front matter 1, heading 1, 8 top-bar pairs 16, inbox line + Subscribe pair 3,
    # "Daily Papers" pair 2, 3 nav pairs 6: 29 headers; the date line; cards of 13, 9, 11, 11 blocks.
    assert (parsed.block_count, parsed.header_block_count, parsed.entry_block_count) == (74, 29, 44)


def test_a_text_export_that_opens_at_an_upvote_button_is_read_as_one():
    """Cut to its cards (no header, no date line) and dated by its file name: " [-] 57" opens no JSON array."""
    text = capture("text_export.txt")
    parsed = parse(text[text.index(" [-] 57") :], "2026-03-12.txt")
    assert (parsed.format, parsed.status, parsed.digest_date) == ("text-export", "ok", dt.date(2026, 3, 12))
    assert card_values(parsed) == PAPERS_A
    assert parsed.rejects == []


def test_text_export_traps():
    parsed = parse(capture("text_export.txt"))
    first, second, third, fourth = parsed.entries
    # Plain text: backslashes are the text's own, nothing is unescaped.
    assert fourth.title.startswith("When \\cite Breaks")
    assert "\\cite, \\textbf and inline math like $O(n \\log n)$" in fourth.abstract
    assert first.abstract.endswith("the training code at https://github.com/sparse-moe-lab/sparse_moe.")
    assert [link.url for link in first.links] == ["https://github.com/sparse-moe-lab/sparse_moe"]
    # Card 1's comment count (3) is neither its upvotes nor card 2's; card 2 shows " [-] -".
    assert (first.upvotes, first.comments) == (57, 3)
    assert (second.upvotes, second.comments) == (None, None)
    # Card 4's comment count (1) is not an upvote count; its upvotes (8) are its own line.
    assert (fourth.upvotes, fourth.comments) == (8, 1)
    assert third.abstract.startswith("Dense retrievers") and third.abstract.endswith("Data and models are on the Hub.")


def test_text_export_gives_the_papers_of_the_markdown_capture():
    text_export = parse(capture("text_export.txt"))
    markdown = parse(capture("markdown.md"))
    assert card_values(text_export) == card_values(markdown) == PAPERS_A
    assert [e.abstract for e in text_export.entries] == [e.abstract for e in markdown.entries]
    assert text_export.digest_date == markdown.digest_date == dt.date(2026, 3, 12)


def _blocks(text: str) -> list[str]:
    return text.split("\n\n")


def _join(blocks: list[str]) -> str:
    return "\n\n".join(blocks) + "\n"


def test_text_export_cut_inside_the_last_abstract_keeps_the_complete_cards():
    text = capture("text_export.txt")
    cut = text[: text.index("which confuses tokenizers")]  # inside card 4's abstract
    parsed = parse(cut)
    assert card_values(parsed) == PAPERS_A[:3]
    # Card 4's upvote line, login URL, title, paper URL and half abstract.
    assert reject_reasons(parsed) == [
        (131, "truncated_entry"),
        (133, "truncated_entry"),
        (135, "truncated_entry"),
        (137, "truncated_entry"),
        (139, "truncated_entry"),
    ]


def test_text_export_cut_after_an_upvote_button():
    text = capture("text_export.txt")
    cut = text[: text.index("https://huggingface.co/login?next=%2Fpapers%2F2603.06021")]
    parsed = parse(cut)
    assert card_values(parsed) == PAPERS_A[:3]
    assert reject_reasons(parsed) == [(131, "truncated_entry")]


def test_text_export_card_without_abstract():
    blocks = _blocks(capture("text_export.txt"))
    abstract = next(i for i, b in enumerate(blocks) if b.startswith("Language-model agents call tools"))
    del blocks[abstract : abstract + 2]  # card 2's abstract and the paper URL after it
    parsed = parse(_join(blocks))
    assert [e.arxiv_id for e in parsed.entries] == ["2603.08817", "2603.07754", "2603.06021"]
    assert {reject.reason for reject in parsed.rejects} == {"title_without_abstract"}
    assert len(parsed.rejects) == 7  # upvote, login URL, title, paper URL, "3 authors", "·", date


def test_text_export_card_without_title_is_no_entry():
    blocks = _blocks(capture("text_export.txt"))
    del blocks[blocks.index("λ-Agents: Typed Tool Use for Language Models via Δ-Calculus")]
    parsed = parse(_join(blocks))
    assert [e.arxiv_id for e in parsed.entries] == ["2603.08817", "2603.07754", "2603.06021"]
    assert {reject.reason for reject in parsed.rejects} == {"abstract_without_title"}
    assert not any(e.title.startswith(("http", "Language-model")) for e in parsed.entries)


def test_text_export_duplicate_card():
    blocks = _blocks(capture("text_export.txt"))
    start = blocks.index(" [-] 12")
    card = blocks[start : start + 11]  # card 3, whole
    parsed = parse(_join(blocks + card))
    assert card_values(parsed) == PAPERS_A
    assert [reason for _, reason in reject_reasons(parsed)] == ["repeated_entry"] * 11


def test_text_export_footer_after_the_last_card_is_page_chrome():
    footer = [
        "System theme",
        "Company",
        "TOS",
        "https://huggingface.co/terms-of-service",
        "Website",
        "Models",
        "https://huggingface.co/models",
    ]
    parsed = parse(_join(_blocks(capture("text_export.txt").rstrip("\n")) + footer))
    assert card_values(parsed) == PAPERS_A
    assert parsed.rejects == [] and parsed.header_block_count == 29 + len(footer)


def test_text_export_front_matter_only_is_refused():
    text = "---\nurl: https://huggingface.co/papers/date/2026-03-12\nexported: 2026-03-12T08:00:00Z\n---\n"
    parsed = parse(text)
    assert parsed.status == "unrecognized"  # detect_format: no paper URL, so no text export either
    direct = ParsedDigest("x", "id", "ok", "utf-8", len(text))
    decoded = decode_digest(text.encode())
    read_text_export(direct, decoded, None)
    assert (direct.status, direct.format, direct.entries) == ("unrecognized", "unrecognized", [])
    assert "no paper card" in (direct.error or "")
    assert direct.accounted_blocks == direct.block_count == 1


def test_text_export_damaged_title_rejects_its_card():
    text = capture("text_export.txt").replace("Méthodes Über Alles", "Méthodes\x00Über Alles")
    parsed = parse(text)
    assert [e.arxiv_id for e in parsed.entries] == ["2603.08817", "2603.09102", "2603.06021"]
    assert (113, "control_characters") in reject_reasons(parsed)
    assert {reason for line, reason in reject_reasons(parsed) if line != 113} == {"abstract_without_title"}


def test_text_export_dates():
    text = capture("text_export.txt")
    no_front_matter = text[text.index("# Daily Papers") :]
    # The date line's year: then the file name's.
    parsed = parse(no_front_matter, "2025-03-12.txt")
    assert (parsed.digest_date, parsed.date_source, parsed.listing) == (dt.date(2025, 3, 12), "file_name", "daily")
    # No date line: the front matter's day.
    parsed = parse(text.replace("\n\nMar 12\n\n", "\n\n"))
    assert (parsed.digest_date, parsed.date_source, parsed.date_line) == (dt.date(2026, 3, 12), "capture", None)
    # No date at all: undated, every card block rejected, none an entry.
    parsed = parse(no_front_matter.replace("\n\nMar 12\n\n", "\n\n"), "capture.txt")
    assert (parsed.status, parsed.entries) == ("undated", [])
    assert {reason for _, reason in reject_reasons(parsed)} == {"undated_digest"} and len(parsed.rejects) == 44
    # An impossible date line.
    parsed = parse(no_front_matter.replace("\n\nMar 12\n\n", "\n\nFeb 30, 2026\n\n"), "2026-03-12.txt")
    assert ("invalid_date" in {reason for _, reason in reject_reasons(parsed)}) and parsed.digest_date == dt.date(2026, 3, 12)
    assert len(parsed.entries) == 4


def test_text_export_counts_beyond_int32_are_dropped():
    text = capture("text_export.txt").replace(" [-] 57", " [-] 99999999999").replace("GitHub 950", "GitHub 2.5M")
    parsed = parse(text)
    assert parsed.entries[0].upvotes is None and parsed.entries[2].stars == 2_500_000


# Blocks a damaged or odd export may hold where they do not belong.
_JUNK_BLOCKS = [
    " [-] 5",
    " [-] -",
    "https://huggingface.co/papers/2603.08817",
    "https://huggingface.co/papers/2601.00001#community",
    "https://huggingface.co/login?next=%2Fpapers",
    "GitHub 3k",
    "·",
    "7",
    "Mar 11",
    "Feb 30",
    "10 authors](https://huggingface.co/papers/2603.08817)",
    "A paragraph\nof two lines",
    "broken\x00block",
]


def test_text_export_never_offers_junk_titles():
    """Blocks dropped, repeated or junk inserted at random: no crash, every block accounted for, only real titles kept."""
    titles = {title for title, *_ in PAPERS_A}
    blocks = _blocks(capture("text_export.txt").rstrip("\n"))
    generator = random.Random(22)
    for _ in range(300):
        mutated = []
        for block in blocks:
            roll = generator.random()
            if roll < 0.1:
                continue
            mutated.append(block)
            if roll > 0.97:
                mutated.append(block)
            elif roll > 0.92:
                mutated.append(generator.choice(_JUNK_BLOCKS))
        parsed = parse(_join(mutated))
        assert {entry.title for entry in parsed.entries} <= titles


_ODD_VALUES = [None, True, -1, 1.5, "", "x", [], {}, [[1]], 10**20, "2603.05501", {"name": 3}, "\u0000"]


def test_json_items_with_odd_values_never_crash():
    """Each field of each item replaced by an odd value: items rejected or kept, never junk."""
    items = json.loads(capture("daily_papers.json"))
    generator = random.Random(22)
    for _ in range(300):
        mutated = json.loads(json.dumps(items))
        for item in mutated:
            target = item["paper"] if generator.random() < 0.7 else item
            target[generator.choice(sorted(target))] = generator.choice(_ODD_VALUES)
        parsed = parse(_json(*mutated))
        for entry in parsed.entries:
            assert isinstance(entry.title, str) and entry.title and "\x00" not in entry.title
            assert entry.arxiv_id in {"2603.05501", "2603.05873", "2603.06690"}
            assert all(
                count is None or (type(count) is int and count >= 0) for count in (entry.upvotes, entry.comments, entry.stars)
            )


def _text_round_trip(capture_: Capture) -> list[tuple]:
    parsed = parse(render_text_export(capture_))
    assert parsed.format == "text-export" and parsed.rejects == []
    return [(e.title, e.abstract, e.arxiv_id, e.upvotes, e.comments, e.stars, links(e)) for e in parsed.entries]


def test_text_export_round_trip_of_the_sample_captures():
    got = _text_round_trip(CAPTURE_B)
    assert [row[2:] for row in got] == [
        (None, 4, None, None, []),  # no paper URL: no id
        ("2602.21490", 131, 12, 12500, ["https://github.com/omega-diff/omega_diffusion"]),
        ("2602.20733", None, None, None, []),
    ]
    assert [row[0] for row in got] == [entry.title for entry in CAPTURE_B.entries]
    assert [row[1] for row in got] == [entry.abstract for entry in CAPTURE_B.entries]
    # Stars as the badge shows them: 110k, 3.29k, 843.
    assert [row[5] for row in _text_round_trip(CAPTURE_C)] == [110000, 3290, None, 843]
    assert [row[3:5] for row in _text_round_trip(CAPTURE_D)] == [(64, 7), (0, None), (19, 2)]


def test_text_export_round_trip_of_hand_made_cards():
    abstract = "We study a thing at length. " * 8
    entries = (
        CardEntry("A Title With No Id", abstract + "one", upvotes=3, comments=0),
        CardEntry(
            "2048: Titles That Open With a Number",
            abstract + "two",
            arxiv_id="2601.00001",
            upvotes=0,
            github_repo="https://github.com/a/b",
            github_stars=1500,
        ),
        CardEntry(
            "Last: Stars Without Count",
            abstract + "three",
            arxiv_id="2601.12345",
            github_repo="https://github.com/c/d",
            comments=12,
        ),
    )
    got = _text_round_trip(Capture(entries=entries, day=dt.date(2026, 1, 20), retrieved=dt.datetime(2026, 1, 21, tzinfo=dt.UTC)))
    assert got == [
        ("A Title With No Id", abstract.strip() + " one", None, 3, 0, None, []),
        (
            "2048: Titles That Open With a Number",
            abstract.strip() + " two",
            "2601.00001",
            0,
            None,
            1500,
            ["https://github.com/a/b"],
        ),
        ("Last: Stars Without Count", abstract.strip() + " three", "2601.12345", None, 12, None, ["https://github.com/c/d"]),
    ]


def test_text_export_card_without_paper_urls_takes_its_id_from_the_upvote_link():
    blocks = _blocks(capture("text_export.txt"))
    title = blocks.index("λ-Agents: Typed Tool Use for Language Models via Δ-Calculus")
    assert blocks[title + 1] == blocks[title + 3] == "https://huggingface.co/papers/2603.09102"
    del blocks[title + 3], blocks[title + 1]  # the title and the abstract as unlinked text
    parsed = parse(_join(blocks))
    assert card_values(parsed) == PAPERS_A and parsed.rejects == []  # the abstract ends at the byline


def test_text_export_listings():
    assert parse(render_text_export(CAPTURE_C)).listing == "trending"  # url: .../papers/trending
    assert parse(render_text_export(CAPTURE_D)).listing == "weekly"  # url: .../papers/week/2026-W11
    text = capture("text_export.txt")
    assert parse(text[text.index("# Daily Papers") :], "2026-03-12.txt").listing == "daily"  # a day's date line


def test_text_export_title_that_is_only_a_count_is_rejected():
    """A bare number, date or link where the title is due is never offered as a title."""
    entries = (CardEntry("1984", "We study a thing at length. " * 8, arxiv_id="2601.00001", upvotes=2),)
    parsed = parse(render_text_export(Capture(entries=entries, day=dt.date(2026, 1, 20))))
    assert parsed.entries == []
    assert {reject.reason for reject in parsed.rejects} == {"abstract_without_title"}


# =========================================================================================
# daily-papers-json
# =========================================================================================


def test_daily_papers_json_capture():
    parsed = parse(capture("daily_papers.json"), "daily_papers.json")
    assert (parsed.format, parsed.status, parsed.listing) == ("daily-papers-json", "ok", "daily")
    assert (parsed.digest_date, parsed.date_source, parsed.date_line) == (dt.date(2026, 3, 9), "capture", None)
    assert card_values(parsed) == [
        ("Reward Models Are Secretly Calibrated: A Study of 40 Preference Datasets", "2603.05501", 64, 7, 1324),
        ("Speech_Tokens: Discrete Units for Spoken Dialogue in 1,000 Languages", "2603.05873", 0, None, None),
        ("Können Sprachmodelle rechnen? Arithmetic Errors in German Word Problems", "2603.06690", 19, 2, None),
    ]
    first, second, third = parsed.entries
    assert first.authors == ("Iris Chang", "Mateo Gómez", "Nadia Haddad", "Kwame Boateng")
    assert first.keywords == ("reward modeling", "calibration", "RLHF")
    assert links(first) == ["https://github.com/calib-rm/harness", "https://calib-rm.github.io"]
    assert second.authors == ("Abebe Tesfaye", "Marie Dubois", "Hiroshi Sato") and links(second) == []
    assert third.authors == () and third.keywords == ()  # no authors key: not an error
    assert first.abstract.startswith("Reward models trained on human preferences")
    assert [entry.line for entry in parsed.entries] == [1, 2, 3]  # the item's index
    assert (parsed.block_count, parsed.header_block_count, parsed.entry_block_count, parsed.rejects) == (3, 0, 3, [])


def test_wrong_items_keeps_the_good_item():
    parsed = parse(capture("wrong_items.json"))
    assert (parsed.status, parsed.digest_date) == ("ok", dt.date(2026, 3, 9))
    assert card_values(parsed) == [
        ("Können Sprachmodelle rechnen? Arithmetic Errors in German Word Problems", "2603.06690", 19, 2, None)
    ]
    assert parsed.entries[0].authors == ("Lotte Brandt",)
    assert [(r.line, r.reason, r.detail) for r in parsed.rejects] == [
        (2, "invalid_item", "a number, not an object"),
        (3, "invalid_item", "no `paper` object"),
        (4, "invalid_item", "`paper.title` is an array, not a string"),
    ]
    assert parsed.rejects[0].raw_text == "42"
    assert json.loads(parsed.rejects[2].raw_text)["paper"]["title"] == ["A Title Split", "Into a List"]
    assert (parsed.block_count, parsed.entry_block_count) == (4, 1)


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("not_an_array.json", "the API's error object, not the array of papers: 'Invalid date: expected YYYY-MM-DD'"),
        ("deeply_nested.json", f"JSON nested more than {MAX_DEPTH} levels deep: not a daily-papers array"),
    ],
)
def test_json_refused_whole(name, why):
    parsed = parse(capture(name))
    assert (parsed.status, parsed.format, parsed.error, parsed.entries) == ("unrecognized", "unrecognized", why, [])
    assert [reject.reason for reject in parsed.rejects] == ["unrecognized_format"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("[]", "an empty JSON array: no papers"),
        ("[1, 2, [3]]", "a JSON array with no daily-papers item (no object with a `paper` object)"),
        (
            '[{"paper": {"id": "2603.05501", "title": "Cut',
            "not valid JSON: Unterminated string starting at: line 1 column 42 (char 41)",
        ),
        ('{"papers": []}', "JSON an object, not the daily-papers array of items"),
        ("[" + "1" * 5000 + "]", "not valid JSON: Exceeds the limit (4300 digits)"),  # Python's words follow
        ('{"a":' * 3000 + "1" + "}" * 3000, f"JSON nested more than {MAX_DEPTH} levels deep: not a daily-papers array"),
    ],
)
def test_json_refused_whole_by_shape(text, why):
    parsed = parse(text)
    assert (parsed.status, parsed.entries) == ("unrecognized", [])
    assert parsed.error is not None and parsed.error.startswith(why)


def _item(number: int, day: str = "2026-03-09", **paper) -> dict:
    fields = {
        "id": f"2603.{number:05d}",
        "title": f"Paper Number {number}",
        "summary": f"An abstract of paper {number}, long enough to read as one.",
        "submittedOnDailyAt": f"{day}T03:00:00.000Z",
    }
    fields.update(paper)
    return {"paper": {key: value for key, value in fields.items() if value is not None}}


def _json(*items) -> str:
    return json.dumps(list(items), ensure_ascii=False)


def test_nesting_is_measured_outside_strings():
    deep_text = "Brackets " + "[" * 200 + "{" * 200 + "]" * 50  # brackets in a string are text
    parsed = parse(_json(_item(1, summary=deep_text), _item(2, extra=[[[[[["six deep"]]]]]])))
    assert [e.arxiv_id for e in parsed.entries] == ["2603.00001", "2603.00002"]
    assert parsed.entries[0].abstract == deep_text
    escaped = _json(_item(3, summary='a \\" quote and a \\\\" backslash [[[['))
    assert parse(escaped).status == "ok"
    no_item = "a JSON array with no daily-papers item (no object with a `paper` object)"
    nested = "[" * MAX_DEPTH + "]" * MAX_DEPTH  # at the limit: read (and holds no paper item)
    assert parse(nested).error == parse("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)).error == no_item
    too_deep = "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1)  # one past it: refused before parsing
    assert parse(too_deep).error == "JSON nested more than 64 levels deep: not a daily-papers array"
    # Escapes: an escaped backslash ends its string, an escaped quote does not.
    assert _too_deep(r'["a\\", ' + too_deep + "]")
    assert not _too_deep(r'["a\" ' + too_deep[:-1] + '"]')
    assert not _too_deep(r'["a\\\"' + "[" * 100 + '"]')
    # The same through the reader, and brackets in a string that follows the escapes.
    for summary in ('a quote \\" then ' + "[" * 100, "ends with a backslash \\"):
        after = {"note": "[" * 100}
        parsed = parse(_json(_item(7, summary=summary), after))
        assert (parsed.status, [e.abstract for e in parsed.entries]) == ("ok", [summary])


@pytest.mark.parametrize(
    ("paper_id", "detail"),
    [
        ("2603.055", "`paper.id` '2603.055' is not an arXiv id (NNNN.NNNNN, ASCII digits)"),
        ("2603.05501v2", "`paper.id` '2603.05501v2' is not an arXiv id (NNNN.NNNNN, ASCII digits)"),
        ("２６０３.０５５０１", "`paper.id` '２６０３.０５５０１' is not an arXiv id (NNNN.NNNNN, ASCII digits)"),
        ("٢٦٠٣.٠٥٥٠١", "`paper.id` '٢٦٠٣.٠٥٥٠١' is not an arXiv id (NNNN.NNNNN, ASCII digits)"),
        ("2603.05501\n", "`paper.id` '2603.05501\\n' is not an arXiv id (NNNN.NNNNN, ASCII digits)"),
        (2603.05501, "`paper.id` '2603.05501' is not an arXiv id (NNNN.NNNNN, ASCII digits)"),
    ],
)
def test_item_with_a_bad_id_is_rejected(paper_id, detail):
    parsed = parse(_json(_item(1), _item(2, id=paper_id)))
    assert [e.arxiv_id for e in parsed.entries] == ["2603.00001"]
    assert [(r.line, r.reason, r.detail) for r in parsed.rejects] == [(2, "invalid_item", detail)]


def test_items_of_the_wrong_shape_are_rejected_one_by_one():
    items = [
        _item(1),
        {"paper": {"title": "No Id", "summary": "An abstract."}},
        {"paper": "2603.00003"},
        {"paper": {"id": "2603.00004", "summary": "An abstract with no title."}},
        _item(5, summary=["not", "a", "string"]),
        None,
        _item(7, title=17),
        _item(8),
    ]
    parsed = parse(_json(*items))
    assert [e.arxiv_id for e in parsed.entries] == ["2603.00001", "2603.00008"]
    assert [(r.line, r.detail) for r in parsed.rejects] == [
        (2, "no `paper.id`"),
        (3, "`paper` is a string, not an object"),
        (4, "no `paper.title`"),
        (5, "`paper.summary` is an array, not a string"),
        (6, "null, not an object"),
        (7, "`paper.title` is a number, not a string"),
    ]
    assert {r.reason for r in parsed.rejects} == {"invalid_item"}
    assert (parsed.block_count, parsed.entry_block_count) == (8, 2)


def test_the_shared_rules_apply_to_items():
    """No abstract, markup title, a paper twice, control characters: the reasons the other formats give."""
    items = [
        _item(1),
        _item(2, summary=None),
        _item(3, title="[A Link](https://huggingface.co/papers/2603.00003)"),
        _item(4, title="Paper Number 1"),  # the same paper as item 1
        _item(5, title="Null\u0000Byte"),
        _item(6, summary="x" * 6000),
    ]
    parsed = parse(_json(*items))
    assert [e.arxiv_id for e in parsed.entries] == ["2603.00001"]
    assert reject_reasons(parsed) == [
        (2, "title_without_abstract"),
        (3, "markup_title"),
        (4, "repeated_entry"),
        (5, "control_characters"),
        (6, "oversized_entry"),
    ]
    # A reject's raw text is its item's JSON, shortened past RAW_TEXT_MAX_CHARS.
    assert json.loads(parsed.rejects[2].raw_text)["paper"]["id"] == "2603.00004"
    long = parsed.rejects[4].raw_text
    assert long.startswith('{"paper": {"id": "2603.00006"') and long.endswith(" characters in all)")
    assert len(long) < RAW_TEXT_MAX_CHARS + 40


def test_counts_must_be_integers_in_range():
    """A bad count is dropped and its entry kept."""
    items = [
        _item(1, upvotes=True, githubStars=-5),
        _item(2, upvotes=-1, githubStars=2.5),
        _item(3, upvotes="12", githubStars=2**31),
        _item(4, upvotes=5.0, githubStars=0),
        _item(5, upvotes=2**31 - 1),
    ]
    items[0]["numComments"] = False
    items[1]["numComments"] = -3
    items[2]["numComments"] = 4
    parsed = parse(_json(*items))
    assert [(e.upvotes, e.comments, e.stars) for e in parsed.entries] == [
        (None, None, None),
        (None, None, None),
        (None, 4, None),
        (None, None, 0),
        (2**31 - 1, None, None),
    ]
    assert parsed.rejects == []


def test_optional_fields_of_odd_shapes_are_left_out():
    item = _item(
        1,
        authors=[{"name": "Ada Lovelace"}, {"name": None}, "Bare String", {"name": "  Two\n Lines "}, {"hidden": True}],
        ai_keywords=["ok", 3, "", "also ok"],
        githubRepo="not a url",
        projectPage=["https://example.org"],
        title="A Title\n  Wrapped by arXiv",
        summary="An abstract\n  wrapped by arXiv.\n",
    )
    (entry,) = parse(_json(item)).entries
    assert entry.authors == ("Ada Lovelace", "Two Lines") and entry.keywords == ("ok", "also ok")
    assert entry.card_links == ()
    assert (entry.title, entry.abstract) == ("A Title Wrapped by arXiv", "An abstract wrapped by arXiv.")


def test_a_card_field_that_is_markup_rather_than_a_url_is_no_link():
    item = _item(1, githubRepo='https://github.com/evil/repo"><script>alert(1)</script>', projectPage="https://proj.github.io/")
    (entry,) = parse(_json(item)).entries
    assert [link.url for link in entry.card_links] == ["https://proj.github.io"]


def test_digest_date_is_the_most_common_list_day():
    # Items of another day stay entries of this digest; the day is the commonest one.
    parsed = parse(_json(_item(1, "2026-03-08"), _item(2, "2026-03-09"), _item(3, "2026-03-09"), _item(4, "2026-03-10")))
    assert (parsed.digest_date, parsed.date_source, len(parsed.entries)) == (dt.date(2026, 3, 9), "capture", 4)
    # A tie: the earliest day.
    parsed = parse(_json(_item(1, "2026-03-10"), _item(2, "2026-03-08")))
    assert parsed.digest_date == dt.date(2026, 3, 8)
    # publishedAt (the arXiv date) never dates the digest; an odd submittedOnDailyAt is no day.
    odd = [
        _item(1, submittedOnDailyAt=None, publishedAt="2026-01-01T00:00:00.000Z"),
        _item(2, submittedOnDailyAt="2026-02-30T00:00:00Z"),
    ]
    parsed = parse(_json(*odd), "daily-2026-03-01.json")
    assert (parsed.digest_date, parsed.date_source) == (dt.date(2026, 3, 1), "file_name")


def test_undated_json():
    items = [_item(1, submittedOnDailyAt=None), 42]
    parsed = parse(_json(*items), "papers.json")
    assert (parsed.status, parsed.digest_date, parsed.entries) == ("undated", None, [])
    assert reject_reasons(parsed) == [(1, "undated_digest"), (2, "invalid_item")]
    assert json.loads(parsed.rejects[0].raw_text)["paper"]["id"] == "2603.00001"


def test_json_round_trip_of_the_sample_captures():
    for capture_ in (CAPTURE_A, CAPTURE_C, CAPTURE_D):
        parsed = parse(render_daily_papers_json(capture_))
        assert parsed.rejects == [] and parsed.format == "daily-papers-json"
        assert [
            (e.title, e.abstract, e.arxiv_id, e.upvotes, e.comments, e.stars, e.authors, e.keywords) for e in parsed.entries
        ] == [
            (c.title, c.abstract, c.arxiv_id, c.upvotes, c.comments, c.github_stars, c.authors, c.keywords)
            for c in capture_.entries
        ]
    # CAPTURE_C's third card has a project page and no repo; JSON stars are exact (110000, not "110k").
    parsed = parse(render_daily_papers_json(CAPTURE_C))
    assert [links(e) for e in parsed.entries] == [
        ["https://github.com/opencourt/opencourt"],
        ["https://github.com/laptop-llm/predictive-paging"],
        ["https://papyri-lab.github.io/arche"],
        ["https://github.com/voxelworld/voxelworld"],
    ]
    # CAPTURE_C has no list day: its items carry the retrieval day (2026-03-14).
    assert parsed.digest_date == dt.date(2026, 3, 14)


def test_json_round_trip_of_hand_made_cards():
    entries = (
        CardEntry(
            "Zero Everything",
            "An abstract. " * 5,
            arxiv_id="2512.99999",
            upvotes=0,
            comments=0,
            github_stars=0,
            github_repo="https://github.com/z/z",
        ),
        CardEntry("Ünïcödé Tïtlé", "Ábstract. " * 5, arxiv_id="2601.0001", authors=("Zoë",), keywords=("k",)),
    )
    parsed = parse(render_daily_papers_json(Capture(entries=entries, day=dt.date(2026, 1, 2))))
    assert [(e.title, e.arxiv_id, e.upvotes, e.comments, e.stars, e.authors, e.keywords) for e in parsed.entries] == [
        ("Zero Everything", "2512.99999", 0, 0, 0, (), ()),
        ("Ünïcödé Tïtlé", "2601.0001", None, None, None, ("Zoë",), ("k",)),
    ]
    assert parsed.digest_date == dt.date(2026, 1, 2)


def test_json_of_5_000_items_reads_every_item():
    # Its speed on 100,000 items is in `make bench`.
    items = [
        {
            "paper": {
                "id": f"2603.{number:05d}",
                "title": f"Scaling Study Number {number}",
                "summary": f"We train model {number} and report what we find about it.",
                "upvotes": number % 97,
                "submittedOnDailyAt": "2026-03-09T03:00:00.000Z",
                "authors": [{"name": "Ada Lovelace"}],
            },
            "numComments": number % 5,
        }
        for number in range(5_000)
    ]
    parsed = parse(json.dumps(items).encode(), "big.json")
    assert (parsed.status, len(parsed.entries), parsed.block_count, parsed.rejects) == ("ok", 5_000, 5_000, [])
    assert parsed.entries[-1].arxiv_id == "2603.04999" and parsed.entries[-1].upvotes == 4_999 % 97 == 52
    assert parsed.entries[-1].title == "Scaling Study Number 4999"


def test_formats_are_told_apart():
    assert detect_format(capture("text_export.txt")) == "text-export"
    for name in ("daily_papers.json", "wrong_items.json", "not_an_array.json", "deeply_nested.json"):
        assert detect_format(capture(name)) == "daily-papers-json"
    # A "-" after the bracket opens JSON only as a negative number.
    assert [detect_format(text) for text in ("[-1, 2]", " [ -7]", "[-]", "[-x]", "[- 1]")] == [
        "daily-papers-json", "daily-papers-json", "sample", "sample", "sample",
    ]


# --- lone surrogates: json.loads accepts "\ud83d" alone, UTF-8 (and Parquet) cannot hold it ---


def _ascii_json(*items) -> bytes:
    """The items as the API may send them: ASCII, a lone surrogate written as its escape."""
    return json.dumps(list(items)).encode("ascii")


HALF = "half of a UTF-16 surrogate pair (a lone \\ud800-\\udfff escape)"


def test_a_title_or_summary_with_a_lone_surrogate_is_rejected_as_undecodable():
    items = [
        _item(1, title="Before the Range \ud7ff"),
        _item(2, title="Emoji Cut \ud83d In Half"),
        _item(3, title="First Surrogate \ud800"),
        _item(4, summary="A summary that ends with the last surrogate \udfff"),
        _item(5, title="Past the Range \ue000"),
        _item(6, title="A Whole Emoji \ud83d\ude00 Pair"),
    ]
    parsed = parse(_ascii_json(*items))
    assert [(e.arxiv_id, e.title) for e in parsed.entries] == [
        ("2603.00001", "Before the Range \ud7ff"),
        ("2603.00005", "Past the Range \ue000"),
        ("2603.00006", "A Whole Emoji 😀 Pair"),
    ]
    detail = f"title or summary holds {HALF}"
    assert [(r.line, r.reason, r.detail) for r in parsed.rejects] == [
        (2, "undecodable_bytes", detail),
        (3, "undecodable_bytes", detail),
        (4, "undecodable_bytes", detail),
    ]
    # The raw text is the item's JSON with the half written as its escape: UTF-8 text.
    assert parsed.rejects[0].raw_text == (
        r'{"paper": {"id": "2603.00002", "title": "Emoji Cut \ud83d In Half", '
        r'"summary": "An abstract of paper 2, long enough to read as one.", '
        r'"submittedOnDailyAt": "2026-03-09T03:00:00.000Z"}}'
    )


def test_an_optional_field_with_a_lone_surrogate_is_left_out():
    item = _item(
        1,
        authors=[{"name": "Zo\udc00e"}, {"name": "Ada Lovelace"}, {"name": "Zoë \ud83d\ude00"}],
        ai_keywords=["cut \ud83d", "kept"],
        githubRepo="https://github.com/owner/repo\ud83d",
        projectPage="https://example.org/\udfff",
    )
    (entry,) = parse(_ascii_json(item)).entries
    assert entry.authors == ("Ada Lovelace", "Zoë 😀") and entry.keywords == ("kept",)
    assert entry.card_links == ()
    (entry,) = parse(_ascii_json(_item(1, githubRepo="https://github.com/owner/repo"))).entries
    assert links(entry) == ["https://github.com/owner/repo"]


def test_a_rejected_item_holding_a_lone_surrogate_anywhere_has_utf8_raw_text():
    items = [
        _item(1),
        {"paper": {"id": "2603.00002", "note\ud83d": ["\udc00"]}},  # no title
        _item(3, id="2603.0\ud83d"),
        _item(1, authors=[{"name": "\ud83d"}]),  # item 1 again
    ]
    parsed = parse(_ascii_json(*items))
    assert [(r.line, r.reason, r.raw_text) for r in parsed.rejects] == [
        (2, "invalid_item", r'{"paper": {"id": "2603.00002", "note\ud83d": ["\udc00"]}}'),
        (
            3,
            "invalid_item",
            r'{"paper": {"id": "2603.0\ud83d", "title": "Paper Number 3", '
            r'"summary": "An abstract of paper 3, long enough to read as one.", '
            r'"submittedOnDailyAt": "2026-03-09T03:00:00.000Z"}}',
        ),
        (
            4,
            "repeated_entry",
            r'{"paper": {"id": "2603.00001", "title": "Paper Number 1", '
            r'"summary": "An abstract of paper 1, long enough to read as one.", '
            r'"submittedOnDailyAt": "2026-03-09T03:00:00.000Z", "authors": [{"name": "\ud83d"}]}}',
        ),
    ]
    # The detail shows the bad id with its escape too.
    assert parsed.rejects[1].detail == r"`paper.id` '2603.0\ud83d' is not an arXiv id (NNNN.NNNNN, ASCII digits)"


@pytest.mark.whole_build
def test_a_json_digest_with_lone_surrogates_is_built_and_published(tmp_path):
    digests = tmp_path / "raw"
    digests.mkdir()
    items = [_item(1), _item(2, title="Emoji Cut \ud83d In Half"), _item(3, authors=[{"name": "\udc00"}, {"name": "Ada"}])]
    (digests / "2026-03-09.json").write_bytes(_ascii_json(*items))
    settings = Settings(tmp_path / "warehouse", digests)
    build_warehouse(settings)
    ((status, entry_count, reject_count),) = [
        (row["status"], row["entry_count"], row["reject_count"]) for row in rows(settings.layout, "digests")
    ]
    assert (status, entry_count, reject_count) == ("ok", 2, 1)
    assert sorted((row["title"], row["authors"]) for row in rows(settings.layout, "papers")) == [
        ("Paper Number 1", None),
        ("Paper Number 3", ["Ada"]),
    ]
    assert [(row["line"], row["reason"], row["raw_text"]) for row in rows(settings.layout, "rejects")] == [
        (
            2,
            "undecodable_bytes",
            r'{"paper": {"id": "2603.00002", "title": "Emoji Cut \ud83d In Half", '
            r'"summary": "An abstract of paper 2, long enough to read as one.", '
            r'"submittedOnDailyAt": "2026-03-09T03:00:00.000Z"}}',
        ),
    ]


# --- telling JSON from a capture that opens with a link ------------------------------------

ABSTRACT = " ".join(f"Sentence {number} shows a clear and repeatable effect." for number in range(10))
UPVOTE_CARD = f"""[57](https://huggingface.co/login?next=%2Fpapers%2F2603.08817)

### [Sparse MoE at Scale](https://huggingface.co/papers/2603.08817)

[{ABSTRACT}](https://huggingface.co/papers/2603.08817)

* 5 authors

Published on Mar 11"""
REF_DEFINITIONS = (
    "[6]: https://huggingface.co/login?next=%2Fpapers%2F2602.21490\n[8]: https://huggingface.co/papers/2602.21490"
)
REF_CARD = f"[4][6]\n\n### [Tables Without Borders][8]\n\n[{ABSTRACT}][8]\n\n* 3 authors"


def test_a_markdown_capture_opening_with_its_upvote_link_is_markdown():
    for text in (UPVOTE_CARD, "Mar 12\n\n" + UPVOTE_CARD):  # the link first, and after a date line
        parsed = parse(text, "2026-03-12.md")
        assert (parsed.format, parsed.status, parsed.digest_date) == ("markdown", "ok", dt.date(2026, 3, 12))
        assert [(e.title, e.arxiv_id, e.upvotes) for e in parsed.entries] == [("Sparse MoE at Scale", "2603.08817", 57)]
        assert parsed.rejects == []


def test_a_markdown_ref_capture_opening_with_a_reference_is_markdown_ref():
    for text, date_source in (
        (REF_DEFINITIONS + "\n\nFeb 27, 2026\n\n" + REF_CARD, "date_line"),  # definitions first
        (REF_CARD + "\n\n" + REF_DEFINITIONS, "file_name"),  # opening with "[4][6]"
        ("Feb 27, 2026\n\n" + REF_CARD + "\n\n" + REF_DEFINITIONS, "date_line"),  # definitions last
    ):
        parsed = parse(text, "2026-02-27.md")
        assert (parsed.format, parsed.status) == ("markdown-ref", "ok")
        assert (parsed.digest_date, parsed.date_source) == (dt.date(2026, 2, 27), date_source)
        assert [(e.title, e.arxiv_id, e.upvotes) for e in parsed.entries] == [("Tables Without Borders", "2602.21490", 4)]
        assert parsed.rejects == []


def test_a_text_opening_with_a_bracket_is_json_only_if_it_is_valid_json():
    # Opening like the API's answer (an array of objects, or an object): JSON even broken.
    for text in ('[{"paper": {"id": "2603.05501", "title": "Cut', ' \n[ {"paper"', '{"error": "x"}', "{}", '{ "cut'):
        assert detect_format(text) == "daily-papers-json", text
    # Any other "[": JSON when valid (the reader refuses it then), whatever the first value.
    for text in ("[]", "[57]", " [ 57 ]", "[1, 2]", "[-1, 2]", '["a"]', "[true]", "[null]", "[[1]]", "[NaN]"):
        assert detect_format(text) == "daily-papers-json", text
    assert detect_format("[" + "1" * 5000 + "]") == "daily-papers-json"  # too long for int(), still JSON
    # Else it goes on to the other rules: a markdown link, a reference, a text export's button.
    assert [
        detect_format(text)
        for text in (
            "[57](https://huggingface.co/login?next=%2Fpapers%2F2603.08817)",
            "[](https://huggingface.co/sparse-moe-lab)",
            "[6]: https://huggingface.co/papers/2602.21490",
            "[4][6]",
            "[57] (https://huggingface.co/login)",
            "[1, 2",
            "[true",
            "[-]",
        )
    ] == ["markdown", "markdown", "markdown-ref", "sample", "sample", "sample", "sample", "sample"]
    # Nesting: at the limit a broken array is no JSON; past it, JSON (its reader refuses it), so
    # that the answer does not depend on the recursion limit.
    assert [detect_format("[" * depth + "x") for depth in (MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1)] == [
        "sample",
        "sample",
        "daily-papers-json",
    ]
    assert parse("[" * (MAX_DEPTH + 1) + "x").error == "JSON nested more than 64 levels deep: not a daily-papers array"
    # Valid JSON that is no daily-papers array is still refused by the JSON reader, even with blocks.
    no_item = "a JSON array with no daily-papers item (no object with a `paper` object)"
    for text in ("[57]", '[\n"A Title",\n\n"' + ABSTRACT + '"\n]'):
        parsed = parse(text, "2026-03-12.json")
        assert (parsed.format, parsed.status, parsed.error, parsed.entries) == ("unrecognized", "unrecognized", no_item, [])
