"""Every format round-trips: entries rendered by tests/format_corpus.py read back the same.

The renderers write what real tools save (escapes, wrapped lines, links on lines of
their own, cards twice); the reader must undo each of them. What a format cannot carry
is left out of the comparison (format_corpus.FIELDS): trending shows no comment counts
and cuts every third abstract, badges round stars (1324 shows as 1.32k).
"""

import datetime as dt
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.read.identity import paper_id
from pipeline.read.reader import parse_digest
from tests import format_corpus as corpus

# Titles and abstracts: words of letters (some non-ASCII), digits and the punctuation
# papers use, including the characters markdown escapes (_ * [ ] \).
_WORD_CHARACTERS = string.ascii_letters + string.digits + "éüλΩΔß" + "_*\\-'"
_words = st.text(_WORD_CHARACTERS, min_size=1, max_size=12).filter(lambda word: any(c.isalpha() for c in word))
_PUNCTUATION = ["", ":", ",", "?", " [MASK]", " (v2)"]


@st.composite
def titles(draw) -> str:
    words = draw(st.lists(_words, min_size=2, max_size=10))
    return "Study of " + " ".join(word + draw(st.sampled_from(_PUNCTUATION)) for word in words)


@st.composite
def abstracts(draw) -> str:
    sentences = draw(st.lists(st.lists(_words, min_size=4, max_size=14).map(" ".join), min_size=2, max_size=12))
    return " ".join(f"We show that {sentence}." for sentence in sentences)


_owners = st.text(string.ascii_lowercase + string.digits, min_size=2, max_size=12)


@st.composite
def entries(draw, index: int) -> corpus.CardEntry:
    repo = draw(st.none() | st.builds(lambda owner, name: f"https://github.com/{owner}/{name}", _owners, _owners))
    return corpus.CardEntry(
        title=draw(titles()),
        abstract=draw(abstracts()),
        arxiv_id=f"2603.{10000 + index:05d}",
        upvotes=draw(st.none() | st.integers(0, 5000)),
        comments=draw(st.none() | st.integers(1, 300)),
        authors=tuple(draw(st.lists(st.sampled_from(["Ada Lovelace", "Alan Turing", "Grace Hopper"]), max_size=3))),
        github_repo=repo,
        github_stars=draw(st.integers(0, 250_000)) if repo and draw(st.booleans()) else None,
    )


@st.composite
def captures(draw) -> corpus.Capture:
    count = draw(st.integers(1, 6))
    cards = [draw(entries(index)) for index in range(count)]
    unique = list({paper_id(card.title): card for card in reversed(cards)}.values())[::-1]
    day = draw(st.dates(dt.date(2024, 1, 2), dt.date(2027, 12, 30)))
    retrieved = dt.datetime.combine(day, dt.time(8, 0), tzinfo=dt.UTC)
    return corpus.Capture(tuple(unique), day=day, listing="daily", retrieved=retrieved)


def _expected(name: str, capture: corpus.Capture) -> list[tuple]:
    fields = corpus.FIELDS[name]
    rows = []
    for index, entry in enumerate(capture.entries):
        abstract = entry.abstract
        if name == "trending" and index % 3 == 2 and len(abstract) > corpus.TRENDING_CUT:
            abstract = abstract[: corpus.TRENDING_CUT].rstrip() + corpus.ELLIPSIS
        stars = entry.github_stars
        if stars is not None and name != "daily_papers_json" and stars >= 1000:
            shown = corpus.format_stars(stars)  # what the badge says, expanded
            stars = round(float(shown[:-1]) * {"k": 1000, "M": 1_000_000}[shown[-1]])
        rows.append(
            (
                entry.title,
                abstract,
                entry.arxiv_id,
                entry.upvotes,
                entry.comments if "comments" in fields else None,
                entry.github_repo,
                stars,
            )
        )
    return rows


def _read_back(text: str, source_name: str) -> list[tuple]:
    parsed = parse_digest(text.encode("utf-8"), source_name)
    assert parsed.status == "ok" and parsed.rejects == [], [(r.line, r.reason, r.raw_text[:80]) for r in parsed.rejects]
    assert parsed.accounted_blocks == parsed.block_count
    return [
        (
            entry.title,
            entry.abstract,
            entry.arxiv_id,
            entry.upvotes,
            entry.comments,
            next((link.url for link in entry.card_links if link.kind == "github"), None),
            entry.stars,
        )
        for entry in parsed.entries
    ]


FORMAT_NAMES = {
    "markdown": "markdown",
    "markdown_ref": "markdown-ref",
    "text_export": "text-export",
    "trending": "trending",
    "daily_papers_json": "daily-papers-json",
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(capture=captures())
def test_every_format_reads_back_what_was_rendered(capture):
    for name, render in corpus.FORMATS.items():
        text = render(capture)
        # Named as people name them: markdown_ref has no front matter, and its date line
        # no year when the page was seen in the list's year (the file name gives it).
        source_name = f"{capture.day.isoformat()}.{name}"
        parsed = parse_digest(text.encode("utf-8"), source_name)
        assert parsed.format == FORMAT_NAMES[name]
        assert parsed.digest_date == capture.day, name
        assert _read_back(text, source_name) == _expected(name, capture), name
