"""A scraper's markdown of a Hugging Face papers page: inline links, reference links, the trending page.

The three share one reading (pipeline/read/formats/markdown_cards.py finds the cards):
optional YAML front matter, page chrome (counted as header blocks), a date line on a
daily page, then cards. Reference-style files (`### [Title][31]`, definitions `[31]: url`
at the end, abstracts hard-wrapped) read like inline ones once their links are resolved;
a missing definition leaves a link without a target, so no arXiv id or GitHub repo.
The trending page has no date line and shows every card twice (desktop and mobile
layouts): each paper counts once, its copies' blocks are its blocks, the longest
abstract is kept (a copy may cut it short with "…").
"""

import datetime as dt
import re

from pipeline.read import dates
from pipeline.read.decoding import DecodedText
from pipeline.read.formats.common import arxiv_id_in_url, capture_day, front_matter, listing_of, reject_if_damaged
from pipeline.read.formats.markdown_cards import Card, combine, read_page, split_at_headings
from pipeline.read.formats.markdown_links import definitions_in, whole_link
from pipeline.read.formats.unrecognized import read_unrecognized
from pipeline.read.identity import paper_id
from pipeline.read.parsed import TITLE_MAX_CHARS, Block, Entries, ParsedDigest, split_blocks

# What ends an abstract that was not cut off.
_SENTENCE_END = ".!?…)]\"'”’"
# The lines a weekly or monthly page shows where a daily one shows its day.
_WEEK_LINE = re.compile(r"week [0-9]{1,2},? [0-9]{4}")
_MONTH_LINE = re.compile(r"(?:january|february|march|april|may|june|july|august|september|october|november|december) [0-9]{4}")


def read_markdown(parsed: ParsedDigest, decoded: DecodedText, config_year: int | None) -> None:
    """Fill `parsed` from a scraper's markdown of a daily, weekly or monthly page (inline links)."""
    _read(parsed, decoded, config_year, trending=False)


def read_markdown_ref(parsed: ParsedDigest, decoded: DecodedText, config_year: int | None) -> None:
    """Fill `parsed` from reference-style markdown of a papers page (`[text][12]`, `[12]: url`)."""
    _read(parsed, decoded, config_year, trending=False)


def read_trending(parsed: ParsedDigest, decoded: DecodedText, config_year: int | None) -> None:
    """Fill `parsed` from markdown of https://huggingface.co/papers/trending."""
    _read(parsed, decoded, config_year, trending=True)


def _read(parsed: ParsedDigest, decoded: DecodedText, config_year: int | None, trending: bool) -> None:
    blocks = split_at_headings(split_blocks(decoded.text))
    parsed.block_count = len(blocks)
    entries = Entries(parsed)
    values, taken = front_matter(blocks)
    body: list[Block] = []
    definitions: dict[str, str] = {}
    for index, block in enumerate(blocks):
        if reject_if_damaged(block, decoded, entries):
            continue
        if index < taken:
            parsed.header_block_count += 1  # the front matter
        elif (found := definitions_in(block.text)) is not None:
            parsed.header_block_count += 1  # link definitions: read, not shown on the page
            definitions.update({key: url for key, url in found.items() if key not in definitions})
        else:
            body.append(block)
    items = read_page(body, definitions, trending)
    cards = [item for item in items if isinstance(item, Card)]
    if not cards:
        read_unrecognized(parsed, decoded, why="markdown holding no paper card (no `### ` title): nothing to read")
        return
    day = capture_day(values)
    _loose_blocks(parsed, entries, items, definitions, day, config_year, trending)
    if parsed.digest_date is None:
        resolved = dates.resolve_date(None, parsed.source_name, config_year, capture_day=day)
        parsed.digest_date, parsed.date_source = resolved.date, resolved.source
    parsed.listing = "trending" if trending else _listing(values.get("url"), parsed.date_line, items)
    if parsed.digest_date is None:
        parsed.status = "undated"
        parsed.error = "no valid date line, no capture day in the front matter and no ISO date in the file name"
        for card in cards:
            entries.reject(card.blocks, "undated_digest", "the digest has no usable date")
    else:
        _add_cards(entries, cards, at_end=items[-1] is cards[-1], trending=trending)


def _loose_blocks(
    parsed: ParsedDigest,
    entries: Entries,
    items: list[Card | Block],
    definitions: dict[str, str],
    day: dt.date | None,
    config_year: int | None,
    trending: bool,
) -> None:
    """The blocks outside cards: page chrome (headers), the date line, strays that may be lost cards."""
    seen_card = date_taken = False
    for item in items:
        if isinstance(item, Card):
            seen_card = True
            continue
        text = item.text.strip()
        candidate = dates.parse_date_line(text)
        if candidate is not None and not trending:
            # One date line, before the first card (the sample layout's rule).
            if seen_card or date_taken:
                entries.reject([item], "extra_date_line", "a digest has one date line")
                continue
            date_taken = True
            resolved = dates.resolve_date(candidate, parsed.source_name, config_year, capture_day=day)
            if resolved.date is None:
                entries.reject([item], "invalid_date", resolved.error or "")
            else:
                parsed.date_line, parsed.digest_date, parsed.date_source = text, resolved.date, resolved.source
        elif (reason := _stray(text, definitions)) is not None:
            entries.reject([item], *reason)
        else:
            parsed.header_block_count += 1


def _stray(text: str, definitions: dict[str, str]) -> tuple[str, str] | None:
    """Why a block outside every card may be a lost card, or None for chrome."""
    link = whole_link(text, definitions)
    if link is not None and link.url and arxiv_id_in_url(link.url) and not link.label.startswith("!["):
        # A paper link with no `### ` heading: a title or an abstract we cannot place.
        if "\n" in link.label or len(link.label) > TITLE_MAX_CHARS:
            return "abstract_without_title", "a paper's abstract outside any card"
        return "markup_title", "a link to a paper outside any card's heading"
    prose = "\n" in text or len(text) > TITLE_MAX_CHARS
    if prose and "](" not in text and "][" not in text:
        return "abstract_without_title", "abstract-shaped block outside any card"
    return None


def _listing(url: str | None, date_line: str | None, items: list[Card | Block]) -> str:
    """The page's own URL says; else its date line (a day: daily) or the heading naming it."""
    if listed := listing_of(url):
        return listed
    if date_line is not None:
        return "daily"
    for item in items:
        if isinstance(item, Block):
            text = item.text.strip().casefold()
            if text.startswith("# trending papers"):
                return "trending"
            if _WEEK_LINE.fullmatch(text):
                return "weekly"
            if _MONTH_LINE.fullmatch(text):
                return "monthly"
    return "unknown"


# --- cards into entries -------------------------------------------------------------------


def _problem(card: Card, last: bool, lines_shown: bool) -> tuple[str, str] | None:
    """Why a card cannot be an entry, beyond what Entries checks (title, abstract, size, markup)."""
    if card.unclosed == "title":
        if last:
            return "truncated_entry", "the capture ends inside the last card's title"
        return "markup_title", "a link opened in the title is never closed"
    if card.title_is_card_line():
        return "markup_title", "the heading is a card line (a count, a byline, a badge), not a title"
    if last and card.unclosed == "abstract":
        return "truncated_entry", "the capture ends inside the last card's abstract"
    # The other cards show an author or date line: a last card with none, whose abstract
    # stops mid-sentence, was cut off.
    if last and lines_shown and not card.has_lines and card.abstract and card.abstract[-1] not in _SENTENCE_END:
        return "truncated_entry", "the capture ends inside the last card"
    return None


def _add_cards(entries: Entries, cards: list[Card], at_end: bool, trending: bool) -> None:
    lines_shown = any(card.has_lines for card in cards)
    judged = [(card, _problem(card, at_end and card is cards[-1], lines_shown)) for card in cards]
    if trending:
        judged = _merge_copies(judged)
    for card, problem in judged:
        if problem is not None:
            entries.reject(card.blocks, *problem)
            continue
        entries.add(
            sorted(card.blocks, key=lambda block: block.line),
            card.title,
            card.abstract,
            line=card.title_line,
            arxiv_id=card.arxiv_id,
            upvotes=card.values.upvotes,
            comments=card.values.comments,
            card_links=card.values.links,
            stars=card.values.stars,
        )


def _merge_copies(judged: list[tuple[Card, tuple[str, str] | None]]) -> list[tuple[Card, tuple[str, str] | None]]:
    """The trending page's copies of a card as one card, where the first copy stood.

    Copies are the cards of one title. Each value is the first copy's that shows it; the
    abstract is the longest whole one (a copy may cut it with "…"); the paper is kept if
    any copy is good.
    """
    merged: list[tuple[Card, tuple[str, str] | None]] = []
    by_title: dict[str, int] = {}
    for card, problem in judged:
        key = paper_id(card.title) if card.title and card.unclosed != "title" else None
        if key is None or key not in by_title:
            if key is not None:
                by_title[key] = len(merged)
            merged.append((card, problem))
            continue
        first, first_problem = merged[by_title[key]]
        first.blocks += card.blocks
        first.values = combine(first.values, card.values)
        first.papers += [paper for paper in card.papers if paper not in first.papers]
        if problem is None and (first_problem is not None or len(card.abstract) > len(first.abstract)):
            first.abstract = card.abstract
        merged[by_title[key]] = (first, first_problem if problem is not None else None)
    return merged
