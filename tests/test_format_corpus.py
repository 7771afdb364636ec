"""Tests of the capture renderers in tests/format_corpus.py and of tests/captures/.

These check the test material itself, not any reader: the shapes promised in
format_corpus's docstrings, and that the hand-made captures are what EXPECTED.md says.
"""

import json
import re
from pathlib import Path

import pytest

from tests.format_corpus import (
    CAPTURE_A,
    CAPTURE_B,
    CAPTURE_C,
    CAPTURE_D,
    ELLIPSIS,
    FORMATS,
    TRENDING_CUT,
    Capture,
    CardEntry,
    can_render,
    escape_markdown,
    format_stars,
    paper_url,
    render_daily_papers_json,
    render_markdown,
    render_markdown_ref,
    render_text_export,
    render_trending,
    sample_captures,
)

CAPTURES = Path(__file__).resolve().parent / "captures"
DEFINITION = re.compile(r"^\[(\d+)\]: (\S+)$")


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\_*\[\]])", r"\1", text)


# ---------------------------------------------------------------------------------------
# The sample captures


def test_sample_captures_cover_what_the_readers_need():
    entries = [entry for capture in sample_captures() for entry in capture.entries]
    assert all(300 <= len(entry.abstract) <= 1500 for entry in entries)
    assert any(entry.upvotes is None for entry in entries)
    assert any(entry.arxiv_id is None for entry in entries)
    assert any(entry.github_repo and entry.github_stars for entry in entries)
    titles = " ".join(entry.title for entry in entries)
    for char in ("_", "*", "[", "\\", ":", "é", "Ü", "λ", "Δ"):
        assert char in titles, char
    assert sample_captures() == sample_captures()  # deterministic


def test_every_format_renders_every_capture_it_can():
    for capture in sample_captures():
        for name, render in FORMATS.items():
            if can_render(name, capture):
                assert render(capture).endswith("\n"), name
    assert not can_render("daily_papers_json", CAPTURE_B)  # B has a card without an id


def test_listing_must_be_known():
    with pytest.raises(ValueError, match="unknown listing"):
        Capture(entries=(), day=None, listing="hourly")


@pytest.mark.parametrize(
    "stars, shown",
    [(0, "0"), (950, "950"), (999, "999"), (1000, "1k"), (1320, "1.32k"), (1324, "1.32k"), (1500, "1.5k"),
     (12500, "12.5k"), (86100, "86.1k"), (110000, "110k"), (2_100_000, "2.1M")],
)
def test_stars_read_as_on_the_site(stars, shown):
    assert format_stars(stars) == shown


# ---------------------------------------------------------------------------------------
# markdown


def test_markdown_escapes_titles_and_abstracts():
    text = render_markdown(CAPTURE_A)
    assert "### [Sparse\\_MoE at Scale: Routing \\*Every\\* Token Through \\[MASK\\] Experts](" in text
    assert "When \\\\cite Breaks" in text and "$O(n \\\\log n)$" in text
    assert "sparse-moe-lab/sparse\\_moe." in text  # URLs inside text are escaped too
    for entry in CAPTURE_A.entries:
        assert _unescape(escape_markdown(entry.title)) == entry.title
        assert escape_markdown(entry.abstract) in text


def test_markdown_cards_have_their_parts():
    text = render_markdown(CAPTURE_A)
    assert text.startswith("---\nurl: https://huggingface.co/papers/date/2026-03-12\nretrieved: 2026-03-12T08:00:00Z\n---\n")
    assert "\n\nMar 12\n\n" in text and "# Daily Papers" in text
    assert "[57](https://huggingface.co/login?next=%2Fpapers%2F2603.08817)" in text
    assert "[GitHub 1.32k](https://github.com/sparse-moe-lab/sparse_moe)" in text
    assert "[3 comments](https://huggingface.co/papers/2603.08817#community)" in text
    # One upvote link per card that has a count: the card without one has none.
    assert text.count("/login?next=%2Fpapers%2F") == sum(e.upvotes is not None for e in CAPTURE_A.entries)
    # Both abstract shapes occur: as link text and as a plain paragraph.
    assert "\n\n[Mixture-of-experts layers" in text and "\n\nLanguage-model agents call" in text


def test_markdown_without_retrieval_has_no_front_matter_and_a_dated_line():
    text = render_markdown(CAPTURE_B)
    assert not text.startswith("---")
    assert "\n\nFeb 27, 2026\n\n" in text
    assert "### Tables Without Borders" in text  # no arXiv id: no link on the title


# ---------------------------------------------------------------------------------------
# markdown_ref


def _definitions_at_end(text: str) -> dict[int, str]:
    lines = text.rstrip("\n").split("\n")
    first = next(i for i, line in enumerate(lines) if DEFINITION.match(line))
    tail = lines[first:]
    assert all(DEFINITION.match(line) for line in tail), "a definition block with other lines in it"
    return {int(m.group(1)): m.group(2) for m in map(DEFINITION.match, tail)}


def test_markdown_ref_definitions_come_last_and_cover_every_reference():
    text = render_markdown_ref(CAPTURE_A)
    definitions = _definitions_at_end(text)
    body = text[: text.index("\n[1]: ")]
    used = {int(n) for n in re.findall(r"\]\[(\d+)\]", body)}
    assert used == set(definitions) == set(range(1, len(definitions) + 1))
    assert "### [Sparse\\_MoE at Scale" in body and "](" not in body  # no inline links
    title_ref = re.search(r"### \[Sparse\\_MoE[^\n]*\]\[(\d+)\]", body).group(1)
    assert definitions[int(title_ref)] == paper_url("2603.08817")


def test_markdown_ref_definitions_are_optional():
    text = render_markdown_ref(CAPTURE_A, with_definitions=False)
    assert not any(DEFINITION.match(line) for line in text.splitlines())
    assert "]: https://" not in text
    assert "### [Sparse\\_MoE at Scale" in text  # the references stay


@pytest.mark.parametrize("wrap", [40, 80])
def test_markdown_ref_wraps_abstracts(wrap):
    text = render_markdown_ref(CAPTURE_A, wrap=wrap)
    body = text[: text.index("\n[1]: ")]
    for line in body.splitlines():
        if not line.startswith("###"):  # headings are one line, as on the page
            assert len(line) <= wrap or " " not in line, line
    first_abstract = escape_markdown(CAPTURE_A.entries[0].abstract)
    assert "[" + first_abstract not in text  # it was wrapped
    assert " ".join(("[" + first_abstract).split()) in " ".join(body.split())  # nothing lost


# ---------------------------------------------------------------------------------------
# text_export


def test_text_export_puts_each_link_target_on_a_line_of_its_own():
    text = render_text_export(CAPTURE_A)
    assert text.startswith("---\ntitle: ")
    assert "\nurl: https://huggingface.co/papers/date/2026-03-12\nexported: 2026-03-12T08:00:00Z\n---\n" in text
    blocks = text.rstrip("\n").split("\n\n")
    for block in blocks:
        if block.startswith("http"):
            assert "\n" not in block and " " not in block, block
    assert "](" not in text and "\\_" not in text  # no markdown at all
    for entry in CAPTURE_A.entries:
        url = paper_url(entry.arxiv_id)
        assert blocks.count(url) == 2  # after the title and after the abstract
        at = blocks.index(entry.title)
        assert blocks[at + 1 : at + 4] == [url, entry.abstract, url]
        assert blocks[at - 2] == f" [-] {entry.upvotes if entry.upvotes is not None else '-'}"
    assert "GitHub 1.32k\n\nhttps://github.com/sparse-moe-lab/sparse_moe\n" in text


# ---------------------------------------------------------------------------------------
# trending


def test_trending_shows_each_card_twice_in_a_row():
    text = render_trending(CAPTURE_C)
    headings = [line for line in text.splitlines() if line.startswith("### ")]
    assert len(headings) == 2 * len(CAPTURE_C.entries)
    assert headings[0::2] == headings[1::2]  # interleaved: A, A, B, B, ...
    assert "Published on Mar 13" in text and "4 authors · Mar 13" in text  # desktop, mobile
    assert not re.search(r"^(Mar|Feb) \d+$", text, re.M)  # no date line
    assert "[GitHub 110k](https://github.com/opencourt/opencourt) [arXiv Page](https://arxiv.org/abs/2603.01188)" in text


def test_trending_cuts_every_third_abstract():
    text = render_trending(CAPTURE_C)
    for index, entry in enumerate(CAPTURE_C.entries):
        full = escape_markdown(entry.abstract)
        if index % 3 == 2:
            cut = escape_markdown(entry.abstract[:TRENDING_CUT].rstrip()) + ELLIPSIS
            assert full not in text and text.count("\n" + cut + "\n") == 2
        else:
            assert text.count("\n" + full + "\n") == 2


# ---------------------------------------------------------------------------------------
# daily_papers_json


def test_daily_papers_json_has_the_api_fields():
    items = json.loads(render_daily_papers_json(CAPTURE_D))
    assert isinstance(items, list) and len(items) == len(CAPTURE_D.entries)
    for item, entry in zip(items, CAPTURE_D.entries, strict=False):
        paper = item["paper"]
        assert paper["id"] == entry.arxiv_id and paper["title"] == item["title"] == entry.title
        assert paper["summary"] == entry.abstract
        assert paper.get("upvotes") == entry.upvotes and item.get("numComments") == entry.comments
        assert [a["name"] for a in paper.get("authors", [])] == list(entry.authors)
        assert paper.get("githubRepo") == entry.github_repo and paper.get("githubStars") == entry.github_stars
        assert tuple(paper.get("ai_keywords", ())) == entry.keywords
        assert re.fullmatch(r"2026-03-09T\d\d:\d\d:\d\d\.000Z", paper["submittedOnDailyAt"])
        assert paper["publishedAt"] < paper["submittedOnDailyAt"]  # arXiv came first
    assert "upvotes" in items[1]["paper"] and items[1]["paper"]["upvotes"] == 0  # zero is no None
    assert "authors" not in items[2]["paper"] and "githubRepo" not in items[2]["paper"]  # absent, not null
    assert "null" not in render_daily_papers_json(CAPTURE_D)


def test_daily_papers_json_refuses_an_entry_without_id():
    with pytest.raises(ValueError, match="always has an id"):
        render_daily_papers_json(Capture(entries=(CardEntry("T", "A" * 400),), day=None))


def test_daily_papers_json_keeps_non_ascii_and_indents():
    text = render_daily_papers_json(CAPTURE_D)
    assert "Können" in text and "\\u00f6" not in text
    assert text.startswith("[\n  {\n    \"paper\": {\n")


# ---------------------------------------------------------------------------------------
# tests/captures and EXPECTED.md


def _expected() -> dict[str, list[tuple[str, str, str]]]:
    """file name -> [(title, arxiv id, upvotes)] from the tables of EXPECTED.md."""
    sections: dict[str, list] = {}
    current = None
    for line in (CAPTURES / "EXPECTED.md").read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            current = sections.setdefault(line[3:].strip(), [])
        elif current is not None and re.match(r"\| \d+ \|", line):
            cells = [cell.strip() for cell in line.strip("|").split(" | ")]
            current.append((cells[1].strip("`"), cells[2], cells[3].split()[0]))
    return sections


def test_expected_lists_the_good_captures():
    assert set(_expected()) == {"markdown.md", "markdown_ref.md", "text_export.txt", "trending.md", "daily_papers.json"}
    for name, papers in _expected().items():
        assert 3 <= len(papers) <= 5, name
        text = (CAPTURES / name).read_text(encoding="utf-8")
        for title, arxiv_id, _ in papers:
            shown = title if name.endswith((".txt", ".json")) else escape_markdown(title)
            assert shown in text, (name, title)
            assert arxiv_id == "-" or arxiv_id in text


def test_expected_agrees_with_the_json_capture():
    items = json.loads((CAPTURES / "daily_papers.json").read_text(encoding="utf-8"))
    got = [(item["paper"]["title"], item["paper"]["id"], str(item["paper"].get("upvotes", "-"))) for item in items]
    assert got == _expected()["daily_papers.json"]


def test_junk_captures_are_junk():
    with pytest.raises(RecursionError):
        json.loads((CAPTURES / "deeply_nested.json").read_text())
    nested = (CAPTURES / "deeply_nested.json").read_text().strip()
    assert nested == "[" * 2000 + "]" * 2000
    assert isinstance(json.loads((CAPTURES / "not_an_array.json").read_text()), dict)
    items = json.loads((CAPTURES / "wrong_items.json").read_text(encoding="utf-8"))
    assert [type(item).__name__ for item in items] == ["dict", "int", "dict", "dict"]
    assert "paper" not in items[2] and isinstance(items[3]["paper"]["title"], list)
    front = (CAPTURES / "front_matter_only.md").read_text()
    assert front.startswith("---\n") and front.rstrip("\n").endswith("\n---") and front.count("---") == 2
    html = (CAPTURES / "page.html").read_text()
    assert "<html" in html and "<head>" in html and html.count("<article") == 2
    truncated = (CAPTURES / "truncated.md").read_text(encoding="utf-8")
    assert not truncated.endswith("\n") and truncated.endswith("trained with the sa")
    assert render_markdown(CAPTURE_B).startswith(truncated)
