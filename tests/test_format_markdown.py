"""The markdown readers (pipeline/read/formats/markdown.py): inline links, reference links, the trending page.

Expected values are written out by hand from tests/captures/EXPECTED.md and the captures;
every test checks that each block of the file is accounted for.
"""

import datetime as dt
from pathlib import Path

import pytest

from pipeline.read.formats import detect_format
from pipeline.read.formats.markdown_links import closing_bracket, definitions_in, links_only, paper_named_by, whole_link
from pipeline.read.parsed import ParsedDigest
from pipeline.read.reader import parse_digest
from tests import format_corpus as corpus
from tests.helpers import reject_reasons

CAPTURES = Path(__file__).resolve().parent / "captures"
HF = "https://huggingface.co"
ABSTRACT = "We study how a capture keeps its cards. " * 8  # 320 characters: one line, abstract-shaped


def read(text: str | bytes, name: str = "digest.md") -> ParsedDigest:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    parsed = parse_digest(raw, name)
    assert parsed.accounted_blocks == parsed.block_count, "a block is unaccounted for"
    assert parsed.header_block_count >= 0 and parsed.entry_block_count >= 0
    return parsed


def capture(name: str, source: str | None = None) -> ParsedDigest:
    return read((CAPTURES / name).read_bytes(), source or name)


def rows(parsed: ParsedDigest) -> list[tuple]:
    """(title, arXiv id, upvotes, comments, GitHub repo, stars) per entry, in page order."""
    return [
        (
            entry.title,
            entry.arxiv_id,
            entry.upvotes,
            entry.comments,
            [link.url for link in entry.card_links if link.kind == "github"] or None,
            entry.stars,
        )
        for entry in parsed.entries
    ]



# --- markdown.md --------------------------------------------------------------------------


def test_markdown_capture():
    parsed = capture("markdown.md")
    assert (parsed.format, parsed.status, parsed.listing) == ("markdown", "ok", "daily")
    assert parsed.date_line == "Mar 12"
    # The year comes from the front matter (url /papers/date/2026-03-12, retrieved 2026-03-12).
    assert (parsed.digest_date, parsed.date_source) == (dt.date(2026, 3, 12), "capture")
    assert rows(parsed) == [
        ("Sparse_MoE at Scale: Routing *Every* Token Through [MASK] Experts", "2603.08817", 57, 3, ["https://github.com/sparse-moe-lab/sparse_moe"], 1320),
        ("λ-Agents: Typed Tool Use for Language Models via Δ-Calculus", "2603.09102", None, None, None, None),
        ("Méthodes Über Alles: Cross-Lingual Retrieval for Low-Resource Languages", "2603.07754", 12, None, ["https://github.com/mlir-lab/uber-alles"], 950),
        ("When \\cite Breaks: Robust Parsing of LaTeX-Heavy Abstracts", "2603.06021", 8, 1, None, None),
    ]
    assert [entry.position for entry in parsed.entries] == [1, 2, 3, 4]
    assert [entry.line for entry in parsed.entries] == [20, 32, 42, 54]  # the title's line
    assert parsed.rejects == [] and all(entry.authors == () for entry in parsed.entries)  # a count is no names


def test_markdown_capture_abstracts_and_their_traps():
    first, second, third, fourth = capture("markdown.md").entries
    # Abstract as link text: escapes undone, the trailing full stop kept, the paper link dropped.
    assert first.abstract.startswith("Mixture-of-experts layers route each token")
    assert first.abstract.endswith("training code at https://github.com/sparse-moe-lab/sparse_moe.")
    assert "the [MASK] token" in first.abstract and "routing *every* token" in first.abstract and "\\" not in first.abstract
    assert [link.url for link in first.links] == ["https://github.com/sparse-moe-lab/sparse_moe"]
    # A plain paragraph.
    assert second.abstract.startswith("Language-model agents call tools through untyped JSON")
    assert second.abstract.endswith("learned from 200 examples of valid calls.")
    assert "from Basque and Yorùbá to Quechua" in third.abstract
    assert "LaTeX commands such as \\cite, \\textbf and inline math like $O(n \\log n)$, which" in fourth.abstract
    # Whole, as the capture was made (tests/format_corpus.py CAPTURE_A).
    assert [entry.abstract for entry in (first, second, third, fourth)] == [card.abstract for card in corpus.CAPTURE_A.entries]


def test_markdown_capture_block_accounting():
    parsed = capture("markdown.md")
    # Front matter 1, chrome 5 (logo, sign-up, subscribe, heading, Daily/Weekly/Monthly), footer 5.
    assert (parsed.block_count, parsed.header_block_count, parsed.date_line is not None) == (35, 11, True)
    # Cards: 7 (upvote, title, abstract, authors, date, GitHub, comments) + 4 + 6 + 6 blocks.
    assert parsed.entry_block_count == 23


# --- markdown_ref.md ----------------------------------------------------------------------


def test_markdown_ref_capture():
    parsed = capture("markdown_ref.md")
    assert (parsed.format, parsed.status, parsed.listing) == ("markdown-ref", "ok", "daily")
    assert (parsed.date_line, parsed.digest_date, parsed.date_source) == ("Feb 27, 2026", dt.date(2026, 2, 27), "date_line")
    assert rows(parsed) == [
        # No link on the title; its upvote link [4][6] points at login?next=%2Fpapers (no paper).
        ("Tables Without Borders: Reading Scanned Spreadsheets with [Row] and [Col] Tokens", None, 4, None, None, None),
        ("Ω-Diffusion: Sampling Images in 4 Steps with Consistency Trajectories", "2602.21490", 131, 12, ["https://github.com/omega-diff/omega_diffusion"], 12500),
        ("Do Small Models Dream of Long Contexts?", "2602.20733", None, None, None, None),
    ]
    # Chrome 5 and the definitions; cards of 5, 7 and 4 blocks.
    assert (parsed.block_count, parsed.header_block_count, parsed.entry_block_count, parsed.rejects) == (23, 6, 16, [])


def test_markdown_ref_abstracts_are_unwrapped_and_unescaped():
    first, second, third = capture("markdown_ref.md").entries
    assert "\n" not in first.abstract + second.abstract + third.abstract
    assert "learned tokens, [Row] and [Col], to a vision-language model" in first.abstract
    assert "Code and weights: https://github.com/omega-diff/omega_diffusion. Samples are shown" in second.abstract
    # The abstract written as the reference link's text: `[Long-context ...][12]`.
    assert third.abstract.startswith("Long-context benchmarks are dominated") and third.abstract.endswith("half of the lost accuracy.")
    assert [entry.abstract for entry in (first, second, third)] == [card.abstract for card in corpus.CAPTURE_B.entries]


def test_markdown_ref_without_definitions_has_no_ids_or_repos():
    text = (CAPTURES / "markdown_ref.md").read_text(encoding="utf-8")
    cut = text[: text.index("[1]: https://huggingface.co/")]
    parsed = read(cut)
    assert parsed.format == "markdown-ref" and parsed.status == "ok"
    assert rows(parsed) == [
        ("Tables Without Borders: Reading Scanned Spreadsheets with [Row] and [Col] Tokens", None, 4, None, None, None),
        ("Ω-Diffusion: Sampling Images in 4 Steps with Consistency Trajectories", None, 131, 12, None, 12500),
        ("Do Small Models Dream of Long Contexts?", None, None, None, None, None),
    ]
    assert parsed.header_block_count == 5


# --- trending.md --------------------------------------------------------------------------

TRENDING = [
    ("OpenCourt: A Multi-Agent Framework for Legal Reasoning", "2603.01188", 412, None, ["https://github.com/opencourt/opencourt"], 110000),
    ("Serving 70B Models from a Laptop SSD with Predictive Paging", "2603.02577", 96, None, ["https://github.com/laptop-llm/predictive-paging"], 3290),
    ("Ἀρχή: Pre-Training on Ancient Greek Papyri with Noisy OCR", "2603.03340", 88, None, None, None),
    ("VoxelWorld: Learning 3D Scene Dynamics from Monocular Video", "2603.04412", 23, None, ["https://github.com/voxelworld/voxelworld"], 843),
]


def test_trending_capture_counts_each_paper_once():
    parsed = capture("trending.md")
    assert (parsed.format, parsed.status, parsed.listing, parsed.date_line) == ("trending", "ok", "trending", None)
    # The page shows no day: the front matter's retrieved: dates the capture.
    assert (parsed.digest_date, parsed.date_source) == (dt.date(2026, 3, 14), "capture")
    assert rows(parsed) == TRENDING
    assert [entry.line for entry in parsed.entries] == [16, 36, 56, 76]  # the first copy's title
    # Front matter and chrome 6; each paper's two copies are its 10 blocks.
    assert (parsed.block_count, parsed.header_block_count, parsed.entry_block_count, parsed.rejects) == (46, 6, 40, [])


def test_trending_capture_keeps_the_cut_abstract_it_has():
    entries = capture("trending.md").entries
    assert entries[2].abstract.endswith("and fine-tune it to restor…") and len(entries[2].abstract) == 201
    assert entries[0].abstract.endswith("All prompts and transcripts are public at https://github.com/opencourt/opencourt.")


def _without_front_matter(text: str) -> str:
    assert text.startswith("---\n")
    return text[text.index("\n---\n") + len("\n---\n") :].lstrip("\n")


def test_trending_capture_is_undated_without_a_capture_day():
    """No front matter, no date line, no date in the file name: its cards cannot be dated."""
    parsed = read(_without_front_matter((CAPTURES / "trending.md").read_text(encoding="utf-8")), "trending.md")
    assert (parsed.status, parsed.listing, parsed.digest_date, parsed.entries) == ("undated", "trending", None, [])
    assert {reason for _, reason in reject_reasons(parsed)} == {"undated_digest"} and len(parsed.rejects) == 40
    assert parsed.header_block_count == 5


def test_trending_capture_without_front_matter_is_dated_by_its_file_name():
    parsed = read(_without_front_matter((CAPTURES / "trending.md").read_text(encoding="utf-8")), "trending-2026-03-14.md")
    assert (parsed.status, parsed.digest_date, parsed.date_source) == ("ok", dt.date(2026, 3, 14), "file_name")
    assert rows(parsed) == TRENDING and parsed.header_block_count == 5


def test_trending_keeps_the_longest_copy_and_merges_copies_apart():
    """Desktop copies first, then mobile ones; the desktop abstract cut short, the mobile one whole."""
    whole = "Sparse routing helps. " * 20
    paper = f"{HF}/papers/2603.00001"
    desktop = [f"### [Alpha Paper]({paper})", whole[:60] + "…", "3 authors · Published on Mar 13", f"[9]({HF}/login?next=%2Fpapers%2F2603.00001)"]
    other = [f"### [Beta Paper]({HF}/papers/2603.00002)", ABSTRACT, "Mar 12"]
    mobile = [f"### [Alpha Paper]({paper})", whole, "3 authors · Mar 13", "[GitHub 2.1M](https://github.com/a/b) [arXiv Page](https://arxiv.org/abs/2603.00001)"]
    parsed = read("\n\n".join(["# Trending Papers", *desktop, *other, *mobile]), "2026-03-14-trending.md")
    assert parsed.format == "trending"
    assert rows(parsed) == [("Alpha Paper", "2603.00001", 9, None, ["https://github.com/a/b"], 2_100_000), ("Beta Paper", "2603.00002", None, None, None, None)]
    assert parsed.entries[0].abstract == whole.strip()
    assert parsed.entry_block_count == 11 and parsed.header_block_count == 1


# --- truncated.md and front_matter_only.md -----------------------------------------------


def test_truncated_capture_keeps_its_complete_cards():
    parsed = capture("truncated.md")
    assert (parsed.format, parsed.status, parsed.digest_date) == ("markdown", "ok", dt.date(2026, 2, 27))
    assert rows(parsed) == [
        ("Tables Without Borders: Reading Scanned Spreadsheets with [Row] and [Col] Tokens", None, 4, None, None, None),
        ("Ω-Diffusion: Sampling Images in 4 Steps with Consistency Trajectories", "2602.21490", 131, 12, ["https://github.com/omega-diff/omega_diffusion"], 12500),
    ]
    # The last card: its title and its abstract whose `[` is never closed.
    assert reject_reasons(parsed) == [(37, "truncated_entry"), (39, "truncated_entry")]
    assert parsed.rejects[1].raw_text.endswith("trained with the sa")


def test_front_matter_only_is_refused_whole():
    parsed = capture("front_matter_only.md")
    assert (parsed.format, parsed.status, parsed.listing, parsed.digest_date) == ("unrecognized", "unrecognized", "unknown", None)
    assert reject_reasons(parsed) == [(1, "unrecognized_format")] and parsed.entries == []


@pytest.mark.parametrize(
    ("name", "format_"),
    [("markdown.md", "markdown"), ("markdown_ref.md", "markdown-ref"), ("trending.md", "trending"), ("truncated.md", "markdown"), ("front_matter_only.md", "markdown")],
)
def test_detect_format_of_the_captures(name, format_):
    assert detect_format((CAPTURES / name).read_text(encoding="utf-8")) == format_


def test_only_the_first_page_heading_names_the_page():
    # A line of an abstract that reads like a page heading changes nothing.
    sample = "Daily Papers\n\nMar 12\n\nA Title\n\nAn abstract.\n# Trending Papers\nmore of it.\n"
    assert detect_format(sample) == "sample"
    daily = "# Daily Papers\n\n### [A Title](https://huggingface.co/papers/2603.00001)\n\n# Trending Papers\n"
    assert detect_format(daily) == "markdown"
    assert detect_format("# Trending Papers\n\n### [A Title](https://huggingface.co/papers/2603.00001)\n") == "trending"
    assert detect_format("\n\n# Trending Papers\n\n### A Title\n") == "trending"
    assert detect_format("Trending\n\n# Trending Papers\n\n### A Title\n") == "sample"  # not the first line
    # The front matter's URL outranks a heading.
    front = "---\nurl: https://huggingface.co/papers/date/2026-03-12\n---\n\n# Trending Papers\n\n### A Title\n"
    assert detect_format(front) == "markdown"
    assert detect_format(front.replace("date/2026-03-12", "trending").replace("# Trending", "# Daily")) == "trending"
    # A URL of no papers page (empty, the site's root) names no listing: the heading does.
    for url in ("", "https://huggingface.co/", "https://example.org/papers-feed"):
        assert detect_format(front.replace("https://huggingface.co/papers/date/2026-03-12", url)) == "trending", url
    for url in ("https://huggingface.co/papers", "https://huggingface.co/papers?date=2026-03-12", "https://hf.co/papers#top"):
        assert detect_format(front.replace("https://huggingface.co/papers/date/2026-03-12", url)) == "markdown", url


# --- bad input ----------------------------------------------------------------------------


def page(*blocks: str, date: str = "Mar 12") -> str:
    return "\n\n".join(["# Daily Papers", date, *blocks]) + "\n"


def card(title: str, arxiv_id: str, upvotes: int | None = None, abstract: str = ABSTRACT) -> list[str]:
    blocks = [f"[{upvotes}]({HF}/login?next=%2Fpapers%2F{arxiv_id})"] if upvotes is not None else []
    return blocks + [f"### [{title}]({HF}/papers/{arxiv_id})", abstract, "* 2 authors", "Published on Mar 11"]


def test_a_card_without_abstract_is_rejected_with_all_its_blocks():
    text = page(f"[3]({HF}/login?next=%2Fpapers%2F2603.00001)", f"### [No Abstract]({HF}/papers/2603.00001)", "* 3 authors", "Published on Mar 11", *card("Kept", "2603.00002"))
    parsed = read(text, "2026-03-12.md")
    assert [entry.title for entry in parsed.entries] == ["Kept"]
    assert reject_reasons(parsed) == [(5, "title_without_abstract"), (7, "title_without_abstract"), (9, "title_without_abstract"), (11, "title_without_abstract")]


def test_a_repeated_card_on_a_daily_page_is_rejected():
    parsed = read(page(*card("Twice", "2603.00001", 5), *card("Twice", "2603.00001", 5)), "2026-03-12.md")
    assert rows(parsed) == [("Twice", "2603.00001", 5, None, None, None)]
    assert [reason for _, reason in reject_reasons(parsed)] == ["repeated_entry"] * 5


def test_a_capture_cut_in_a_title_or_a_plain_abstract():
    cut_title = read(page(*card("Kept", "2603.00001"), "### [Cut Ti"), "2026-03-12.md")
    assert [entry.title for entry in cut_title.entries] == ["Kept"] and reject_reasons(cut_title) == [(13, "truncated_entry")]
    # A plain-paragraph abstract cut mid-word, no byline while the other cards have one.
    cut_abstract = read(page(*card("Kept", "2603.00001"), f"### [Second]({HF}/papers/2603.00002)", "We study how captures are cut o"), "2026-03-12.md")
    assert reject_reasons(cut_abstract) == [(13, "truncated_entry"), (15, "truncated_entry")]
    # The same card ending its sentence is whole.
    whole = read(page(*card("Kept", "2603.00001"), f"### [Second]({HF}/papers/2603.00002)", "We study how captures are cut off."), "2026-03-12.md")
    assert [entry.title for entry in whole.entries] == ["Kept", "Second"]


def test_junk_never_becomes_an_entry():
    text = page(
        ABSTRACT,  # an abstract with no card
        f"[Lost Title]({HF}/papers/2603.00009)",  # a paper link with no heading
        "### [10 authors](https://huggingface.co/papers/2603.00008)",
        ABSTRACT + "Second.",
        "### https://example.com/paper",
        ABSTRACT + "Third.",
        "### [57]",
        ABSTRACT + "Fourth.",
        *card("Good One", "2603.00002"),
    )
    parsed = read(text, "2026-03-12.md")
    assert [entry.title for entry in parsed.entries] == ["Good One"]
    assert reject_reasons(parsed) == [
        (5, "abstract_without_title"),
        (7, "markup_title"),
        (9, "markup_title"),
        (11, "markup_title"),
        (13, "markup_title"),
        (15, "markup_title"),
        (17, "markup_title"),
        (19, "markup_title"),
    ]


def test_dates_extra_invalid_and_missing():
    parsed = read(page(*card("Kept", "2603.00001"), "Mar 13"), "2026-03-12.md")
    assert parsed.date_line == "Mar 12" and reject_reasons(parsed) == [(13, "extra_date_line")]
    invalid = read(page(*card("Kept", "2603.00001"), date="Feb 30"), "capture.md")
    assert invalid.status == "undated" and reject_reasons(invalid)[0] == (3, "invalid_date")
    assert {reason for _, reason in reject_reasons(invalid)[1:]} == {"undated_digest"} and invalid.header_block_count == 1
    # No date line: the file name's day.
    named = read("\n\n".join(["# Daily Papers", *card("Kept", "2603.00001")]), "papers-2026-03-10.md")
    assert (named.status, named.digest_date, named.date_source, named.date_line) == ("ok", dt.date(2026, 3, 10), "file_name", None)


def test_damaged_blocks_are_rejected_and_the_card_goes_on():
    text = page(*card("Kept", "2603.00001"), f"### [Damaged]({HF}/papers/2603.00002)", ABSTRACT + "\x01", "* 2 authors")
    parsed = read(text, "2026-03-12.md")
    assert [entry.title for entry in parsed.entries] == ["Kept"]
    assert reject_reasons(parsed) == [(13, "title_without_abstract"), (15, "control_characters"), (17, "title_without_abstract")]


def test_upvote_links_go_to_their_card():
    # Named no paper (%2Fpapers): the card that follows. Naming the open card after its title: that card.
    text = page(
        *card("First", "2603.00001", 5),
        f"[7]({HF}/login?next=%2Fpapers)",
        f"### [Second]({HF}/papers/2603.00002)",
        ABSTRACT,
        f"### [Third]({HF}/papers/2603.00003)",
        f"[11]({HF}/login?next=%2Fpapers%2F2603.00003)",
        ABSTRACT + "Third.",
        "[2 comments](https://huggingface.co/papers/2603.00003#community)",
    )
    parsed = read(text, "2026-03-12.md")
    assert [(entry.title, entry.upvotes, entry.comments) for entry in parsed.entries] == [("First", 5, None), ("Second", 7, None), ("Third", 11, 2)]
    assert parsed.rejects == []


def test_listing_from_url_or_page():
    weekly = read(corpus.render_markdown(corpus.CAPTURE_D))
    assert (weekly.listing, weekly.date_line, weekly.digest_date, weekly.date_source) == ("weekly", None, dt.date(2026, 3, 15), "capture")
    weekly_ref = read(corpus.render_markdown_ref(corpus.CAPTURE_D), "2026-03-09.md")  # no front matter: "Week 11, 2026"
    assert weekly_ref.listing == "weekly" and weekly_ref.status == "ok"
    assert read("\n\n".join(["# Papers", *card("Kept", "2603.00001")]), "2026-03-12.md").listing == "unknown"


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "### " + "[" * 100_000,
        "### x\n\n" + "[a](" * 30_000,
        "### x\n\n" + "\\[" * 50_000 + "](u)",
        "### [a][1]\n\n[b][1]\n\n[1]: <>",
        "### \n\n[](",
        "---\n---\n\n### [",
        "# Trending Papers\n\n### [a](b)\n\n" + "Mar 12\n\n" * 500,
    ],
)
def test_hostile_markdown_never_raises(text):
    # How long such input takes is in `make bench`; here, that it ends with no junk title.
    for name in ("2026-03-12.md", "undated.md"):
        parsed = read(text, name)
        assert all(len(entry.title) <= 300 and "](" not in entry.title for entry in parsed.entries)


def test_link_helpers():
    assert closing_bracket("[a \\] [b] c] d", 0) == 11 and closing_bracket("[never", 0) == -1
    assert whole_link("[Title](https://huggingface.co/papers/2603.00001)", {}) == ("Title", "https://huggingface.co/papers/2603.00001")
    assert whole_link("[Title][8]", {"8": "u"}) == ("Title", "u") and whole_link("[Title][8]", {}) == ("Title", None)
    assert whole_link("[a](u) tail", {}) is None and whole_link("[MASK] Experts", {}) is None
    assert links_only("[Daily](a) / [Weekly](b)", {}) == [("Daily", "a"), ("Weekly", "b")] and links_only("[a](b) c", {}) is None
    assert definitions_in("[1]: https://a\n[2]: <https://b>") == {"1": "https://a", "2": "https://b"}
    assert definitions_in("[1]: https://a\nnot one") is None
    assert paper_named_by(f"{HF}/login?next=%2Fpapers%2F2603.08817") == "2603.08817"
    assert paper_named_by(f"{HF}/login?next=%2Fpapers") is None and paper_named_by("https://arxiv.org/abs/2603.01188") == "2603.01188"


# --- round trips from tests/format_corpus.py --------------------------------------------


def corpus_rows(entries, cut: bool = False, links: bool = True, comments: bool = True) -> list[tuple]:
    """What the reader should give back for CardEntry values, computed by the rules of each format."""
    expected = []
    for index, entry in enumerate(entries):
        abstract = entry.abstract
        if cut and index % 3 == 2 and len(abstract) > corpus.TRENDING_CUT:
            abstract = abstract[: corpus.TRENDING_CUT].rstrip() + "…"
        stars = entry.github_stars
        if stars is not None and stars >= 1000:
            stars = round(float(corpus.format_stars(stars)[:-1]) * 1000)  # the badge rounds: 1324 shows 1.32k
        repo = [entry.github_repo] if entry.github_repo and links else None
        expected.append((entry.title, abstract, entry.arxiv_id if links else None, entry.upvotes, entry.comments if comments else None, repo, stars))
    return expected


def read_back(parsed: ParsedDigest) -> list[tuple]:
    return [(title, entry.abstract, arxiv_id, upvotes, comments, repo, stars) for entry, (title, arxiv_id, upvotes, comments, repo, stars) in zip(parsed.entries, rows(parsed), strict=True)]


@pytest.mark.parametrize("which", ["A", "B", "D"])
def test_round_trip_markdown(which):
    captured = {"A": corpus.CAPTURE_A, "B": corpus.CAPTURE_B, "D": corpus.CAPTURE_D}[which]
    parsed = read(corpus.render_markdown(captured))
    assert parsed.format == "markdown" and parsed.status == "ok" and parsed.rejects == []
    assert read_back(parsed) == corpus_rows(captured.entries)


@pytest.mark.parametrize("wrap", [40, 80, 120])
@pytest.mark.parametrize("which", ["A", "B"])
def test_round_trip_markdown_ref(which, wrap):
    captured = {"A": corpus.CAPTURE_A, "B": corpus.CAPTURE_B}[which]
    parsed = read(corpus.render_markdown_ref(captured, wrap=wrap))
    assert parsed.format == "markdown-ref" and parsed.status == "ok" and parsed.rejects == []
    assert read_back(parsed) == corpus_rows(captured.entries)
    bare = read(corpus.render_markdown_ref(captured, wrap=wrap, with_definitions=False))
    assert read_back(bare) == corpus_rows(captured.entries, links=False)


@pytest.mark.parametrize("which", ["A", "C", "D"])
def test_round_trip_trending(which):
    captured = {"A": corpus.CAPTURE_A, "C": corpus.CAPTURE_C, "D": corpus.CAPTURE_D}[which]
    parsed = read(corpus.render_trending(captured), "trending-2026-03-14.md")
    assert (parsed.format, parsed.status, parsed.listing) == ("trending", "ok", "trending") and parsed.rejects == []
    assert read_back(parsed) == corpus_rows(captured.entries, cut=True, comments=False)


def test_round_trip_by_hand():
    """A small capture whose values are written out: zero upvotes, a 1.5k badge, a card with no id."""
    entries = (
        corpus.CardEntry("Zero Votes", ABSTRACT, arxiv_id="2603.11111", upvotes=0, comments=0, authors=("A B",)),
        corpus.CardEntry("No Id", ABSTRACT + "Two.", upvotes=3, github_repo="https://github.com/o/r", github_stars=1500),
    )
    captured = corpus.Capture(entries, day=dt.date(2026, 1, 5), retrieved=None)
    for text in (corpus.render_markdown(captured), corpus.render_markdown_ref(captured)):
        parsed = read(text)
        assert parsed.digest_date == dt.date(2026, 1, 5) and parsed.date_line == "Jan 5, 2026"
        assert rows(parsed) == [("Zero Votes", "2603.11111", 0, 0, None, None), ("No Id", None, 3, None, ["https://github.com/o/r"], 1500)]


def test_trending_cut_inside_the_last_copy_keeps_the_paper():
    """The mobile copy of the last card is cut off: the desktop copy is whole, so the paper is kept."""
    text = (CAPTURES / "trending.md").read_text(encoding="utf-8")
    cut = text[: text.rindex("Trained on 400 hours")]  # inside the last copy's abstract
    parsed = read(cut, "2026-03-14-trending.md")
    assert rows(parsed) == TRENDING and parsed.rejects == []
    assert parsed.entries[3].abstract.endswith("Code: https://github.com/voxelworld/voxelworld.")
    assert parsed.entry_block_count == 30 + 5 + 2 and parsed.block_count == 43


def test_listing_from_the_week_or_month_line():
    monthly = corpus.Capture(corpus.CAPTURE_D.entries, day=dt.date(2026, 3, 9), listing="monthly", retrieved=None)
    parsed = read(corpus.render_markdown_ref(monthly), "2026-03-31.md")  # "March 2026", no front matter
    assert (parsed.listing, parsed.date_line, parsed.digest_date, parsed.status) == ("monthly", None, dt.date(2026, 3, 31), "ok")


def test_counts_are_kept_up_to_the_int32_bound_in_every_markdown_reader():
    """Upvotes, comments and stars are int32 columns: 2^31 - 1 is a count, 2^31 is none (the entry kept)."""
    values = [0, 2**31 - 2, 2**31 - 1, 2**31]
    entries = tuple(
        corpus.CardEntry(f"Counted {n}", ABSTRACT, arxiv_id=f"2603.1111{n}", upvotes=value, comments=value, github_repo=f"https://github.com/o/r{n}", github_stars=1)
        for n, value in enumerate(values)
    )
    captured = corpus.Capture(entries, day=dt.date(2026, 1, 5), retrieved=None)
    for text in (corpus.render_markdown(captured), corpus.render_markdown_ref(captured)):
        # The renderer writes stars as the page does ("1.32k"); these are written in full.
        for n, value in enumerate(values):
            text = text.replace(f"[GitHub 1](https://github.com/o/r{n})", f"[GitHub {value}](https://github.com/o/r{n})")
            text = text.replace("[GitHub 1][", f"[GitHub {value}][", 1)
        parsed = read(text)
        assert [(entry.upvotes, entry.comments, entry.stars) for entry in parsed.entries] == [
            (0, 0, 0), (2**31 - 2,) * 3, (2**31 - 1,) * 3, (None, None, None),
        ]  # fmt: skip
        assert len(parsed.entries) == 4 and parsed.rejects == []


# --- front matter is `key: value` lines ------------------------------------------------------


def test_a_thematic_break_opening_the_page_is_no_front_matter():
    """markdownify writes <hr> as `---`: two of them enclose part of the page, not front matter."""
    parsed = read("---\n\n" + page(*card("First", "2603.00001"), "---", *card("Second", "2603.00002")), "2026-03-13.md")
    assert (parsed.date_line, parsed.digest_date, parsed.date_source) == ("Mar 12", dt.date(2026, 3, 12), "file_name")
    assert [(entry.title, entry.line) for entry in parsed.entries] == [("First", 7), ("Second", 17)]
    assert parsed.header_block_count == 3 and parsed.rejects == []  # ---, # Daily Papers, ---


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        # key: value lines, and an indented line under a key (a YAML list): front matter.
        (f"---\nurl: {HF}/papers/date/2026-03-12\ntags:\n  - nlp\n---", (dt.date(2026, 3, 12), "capture", 1, [])),
        (f"---\nurl: {HF}/papers/date/2026-03-12\n---", (dt.date(2026, 3, 12), "capture", 1, [])),
        # One line that is neither: no front matter; the block is a stray paragraph.
        (f"---\nurl: {HF}/papers/date/2026-03-12\n# Daily Papers\n---", (dt.date(2025, 3, 12), "file_name", 0, [(1, "abstract_without_title")])),
        (f"---\nurl: {HF}/papers/date/2026-03-12\n- nlp\n---", (dt.date(2025, 3, 12), "file_name", 0, [(1, "abstract_without_title")])),
    ],
)
def test_front_matter_is_key_value_lines_only(front, expected):
    parsed = read(front + "\n\n" + "\n\n".join(["Mar 12", *card("Kept", "2603.00001")]), "2025-01-01.md")
    assert (parsed.digest_date, parsed.date_source, parsed.header_block_count, reject_reasons(parsed)) == expected
    assert [entry.title for entry in parsed.entries] == ["Kept"]


# --- link text with unbalanced brackets ------------------------------------------------------

OPEN_INTERVAL = "We sample t in [0, 1) uniformly and keep every draw."
HALF_OPEN = "All scores lie in (0, 1] after the last layer."


def test_a_link_text_with_an_unbalanced_bracket_is_the_title_or_abstract():
    text = page(
        f"### [Intervals [0, 1) Everywhere]({HF}/papers/2603.00001)",
        f"[{OPEN_INTERVAL}]({HF}/papers/2603.00001)",
        "* 2 authors",
        f"### [Scores in (0, 1]]({HF}/papers/2603.00002)",
        f"[{HALF_OPEN}]({HF}/papers/2603.00002)",
        "* 2 authors",
        "### [By Reference][7]",
        f"[{OPEN_INTERVAL}][7]",
        "* 2 authors",
        f"[7]: {HF}/papers/2603.00003",
    )
    parsed = read(text, "2026-03-12.md")
    assert [(entry.title, entry.abstract, entry.arxiv_id, entry.links) for entry in parsed.entries] == [
        ("Intervals [0, 1) Everywhere", OPEN_INTERVAL, "2603.00001", ()),
        ("Scores in (0, 1]", HALF_OPEN, "2603.00002", ()),
        ("By Reference", OPEN_INTERVAL, "2603.00003", ()),
    ]
    assert parsed.rejects == []


def test_a_paragraph_opening_with_a_bracket_and_ending_with_a_link_stays_a_paragraph():
    # The link's target is no paper's page: the block is prose holding a link, not one link.
    prose = "[MASK] tokens are all you need, as we show at length. Code: [repo](https://github.com/o/r)"
    parsed = read(page(f"### [Masked]({HF}/papers/2603.00001)", prose, "* 2 authors"), "2026-03-12.md")
    assert [(entry.title, entry.abstract) for entry in parsed.entries] == [("Masked", prose)]
    assert [link.url for link in parsed.entries[0].links] == ["https://github.com/o/r"] and parsed.rejects == []


# --- site-relative links ---------------------------------------------------------------------


def test_a_capture_with_site_relative_links_is_markdown_read_against_huggingface():
    """HTML-to-markdown tools keep href="/papers/ID" as it is: no junk papers from its card lines."""
    text = "\n\n".join(
        [
            "[Hugging Face](/)",  # line 1
            "# Daily Papers",
            "Mar 12",  # line 5
            "[57](/login?next=%2Fpapers%2F2603.08817)",
            "### [Sparse MoE at Scale](/papers/2603.08817)",  # line 9
            f"[{ABSTRACT.strip()}](/papers/2603.08817)",
            "* 5 authors",
            "Published on Mar 11",
            "[GitHub 1.32k](https://github.com/sparse-moe-lab/sparse_moe)",
            "[2 comments](/papers/2603.08817#community)",
            "### [Dense Baselines](/papers/2603.09102)",  # line 21: no upvote link to name its paper
            f"[{ABSTRACT.strip()}](/papers/2603.09102)",
            "* 3 authors",
            "System theme",
            "[TOS](/terms-of-service) [Privacy](/privacy)",
        ]
    )
    assert detect_format(text) == "markdown"
    parsed = read(text, "2026-03-12.md")
    assert (parsed.status, parsed.listing, parsed.date_line, parsed.digest_date) == ("ok", "daily", "Mar 12", dt.date(2026, 3, 12))
    assert rows(parsed) == [
        ("Sparse MoE at Scale", "2603.08817", 57, 2, ["https://github.com/sparse-moe-lab/sparse_moe"], 1320),
        ("Dense Baselines", "2603.09102", None, None, None, None),
    ]
    assert [(entry.line, entry.abstract, entry.links) for entry in parsed.entries] == [(9, ABSTRACT.strip(), ()), (21, ABSTRACT.strip(), ())]
    assert (parsed.header_block_count, parsed.entry_block_count, parsed.rejects) == (4, 10, [])


def test_only_a_site_relative_paper_link_makes_a_file_markdown():
    assert detect_format("Mar 12\n\nA Title\n\nSee [the paper](/papers/2603.08817) for more.") == "markdown"
    assert detect_format("Mar 12\n\nA Title\n\nSee [the docs](/docs/hub) for more.") == "sample"
    assert whole_link("[x](/papers/2603.08817)", {}) == ("x", "https://huggingface.co/papers/2603.08817")
    assert whole_link("[x](//example.org/a)", {}) == ("x", "//example.org/a")  # no site path: left as it is


# --- a card written as one paragraph ---------------------------------------------------------


def test_a_heading_inside_a_paragraph_starts_its_own_block_and_card():
    """A heading interrupts a paragraph: the upvote link before it and the card lines after it are the card's."""
    text = "\n\n".join(
        [
            "Mar 12",
            f"[12]({HF}/login?next=%2Fpapers%2F2603.00003)\n### [Glued Card]({HF}/papers/2603.00003)\n{ABSTRACT.strip()}\n* 3 authors",  # lines 3-6
            f"### [Lines Glued]({HF}/papers/2603.00004)\n{ABSTRACT.strip()}\n* 3 authors\nPublished on Mar 11\n[2 comments]({HF}/papers/2603.00004#community)",  # 8-12
            f"### [Separate]({HF}/papers/2603.00001)",  # line 14
            ABSTRACT.strip(),
            "* 5 authors",
        ]
    )
    parsed = read(text, "2026-03-12.md")
    assert rows(parsed) == [
        ("Glued Card", "2603.00003", 12, None, None, None),
        ("Lines Glued", "2603.00004", None, 2, None, None),
        ("Separate", "2603.00001", None, None, None, None),
    ]
    assert [(entry.line, entry.abstract) for entry in parsed.entries] == [(4, ABSTRACT.strip()), (8, ABSTRACT.strip()), (14, ABSTRACT.strip())]
    # The first paragraph is two blocks: the upvote link and the card.
    assert (parsed.block_count, parsed.entry_block_count, parsed.header_block_count, parsed.rejects) == (7, 6, 0, [])


def test_split_at_headings_keeps_lines_and_offsets():
    from pipeline.read.formats.markdown_cards import split_at_headings
    from pipeline.read.parsed import Block

    blocks = [Block(3, "a\n### b\nc\n###x\n### d", 10)]
    assert split_at_headings(blocks) == [Block(3, "a", 10), Block(4, "### b\nc\n###x", 12), Block(7, "### d", 25)]
    assert split_at_headings([Block(1, "### only", 0)]) == [Block(1, "### only", 0)]


# --- a title link wrapped onto the next line -------------------------------------------------

LONG_TITLE = "Link Heading Paper: A Long Title That The Scraper Wrapped At Eighty Columns"


def test_a_title_link_wrapped_onto_the_next_line_is_the_whole_title():
    text = page(
        f"### [Link Heading Paper: A Long Title That The Scraper Wrapped At Eighty\nColumns]({HF}/papers/2603.00001)",  # line 5
        ABSTRACT.strip(),
        "* 2 authors",
        "### [Wrapped By\nReference][9]",  # line 12
        ABSTRACT.strip(),
        "* 2 authors",
        f"[9]: {HF}/papers/2603.00002",
    )
    parsed = read(text, "2026-03-12.md")
    assert [(entry.title, entry.line, entry.arxiv_id, entry.abstract) for entry in parsed.entries] == [
        (LONG_TITLE, 5, "2603.00001", ABSTRACT.strip()),
        ("Wrapped By Reference", 12, "2603.00002", ABSTRACT.strip()),
    ]
    assert parsed.rejects == []


def test_a_wrapped_title_link_with_text_after_it_is_no_title():
    # The heading is not one link: its first line is the title, a link never closed there
    # (the card a markup_title, its abstract a stray, its byline chrome).
    text = page(f"### [Two Line\nTitle]({HF}/papers/2603.00001) and more", ABSTRACT.strip(), "* 2 authors", *card("Kept", "2603.00002"))
    parsed = read(text, "2026-03-12.md")
    assert [entry.title for entry in parsed.entries] == ["Kept"]
    assert reject_reasons(parsed) == [(5, "markup_title"), (8, "abstract_without_title")] and parsed.header_block_count == 2
