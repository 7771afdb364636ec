"""A plain-text export of a Hugging Face papers page: each link's target on a line of its own.

The layout (tests/captures/text_export.txt), one block per line of the page:

    front matter (url:, exported:)                 header blocks
    page chrome: a heading, text/URL pairs         header blocks
    the date line ("Mar 12")                       the date line
    per card:
      " [-] 57" (" [-] -": no count)                the upvote button
      https://huggingface.co/login?next=%2Fpapers%2F<id>
      the title
      https://huggingface.co/papers/<id>
      the abstract (one block, or several paragraphs)
      https://huggingface.co/papers/<id>
      "5 authors", "·", "Published on Mar 11"       the byline
      "GitHub 1.32k", https://github.com/owner/repo
      "3", https://huggingface.co/papers/<id>#community
    a page footer, if any                          header blocks

A card starts at an upvote button, or at a text block followed by the paper URL of
another paper than the card being read (a card shown without its button). Every block
from there to the next card's start is the card's, so a rejected card rejects them all;
after the last card, what follows its last recognised part is the page's footer.
A title is a text block: a count, a date or a link never is. An abstract is text
blocks closed by the paper's URL again (by the byline in a card with no paper URL).
The text is plain: no markdown escapes to undo (`When \\cite Breaks` keeps its backslash).
"""

import datetime as dt
import re
from typing import NamedTuple
from urllib.parse import unquote

from pipeline.read import dates
from pipeline.read.decoding import DecodedText
from pipeline.read.formats.common import arxiv_id_in_url, capture_day, count_of, front_matter, listing_of, reject_if_damaged
from pipeline.read.formats.unrecognized import read_unrecognized
from pipeline.read.links import Link, canonicalize
from pipeline.read.parsed import TITLE_MAX_CHARS, Block, Entries, ParsedDigest, split_blocks

# What a block is, from its text alone.
UPVOTE, LOGIN, PAPER, COMMUNITY, URL = "upvote", "login", "paper", "community", "url"
BYLINE, GITHUB, PROJECT, NUMBER, DATE, TEXT, DAMAGED = "byline", "github", "project", "number", "date", "text", "damaged"

_UPVOTE = re.compile(r"\[-\]\s*(\S+)")
_ANY_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_HF = r"https?://(?:www\.)?huggingface\.co"
_ID = r"([0-9]{4}\.[0-9]{4,5})"
_PAPER_URL = re.compile(rf"{_HF}/papers/{_ID}/?", re.IGNORECASE)
_COMMUNITY_URL = re.compile(rf"{_HF}/papers/{_ID}/?#community", re.IGNORECASE)
_LOGIN_URL = re.compile(rf"{_HF}/login\?next=(\S*)", re.IGNORECASE)
_AUTHORS = re.compile(r"[0-9][0-9,]*\s+authors?", re.IGNORECASE)
_PUBLISHED = re.compile(r"(?:Published|Submitted) on\s+\S.*", re.IGNORECASE)
_GITHUB = re.compile(r"GitHub(?:\s+(\S+))?")
_PROJECT = re.compile(r"Project page", re.IGNORECASE)
_NUMBER = re.compile(r"[0-9][0-9,.]*[kKmM]?")


class _Part(NamedTuple):
    block: Block
    kind: str
    value: str | None  # the paper id of a paper, community or login URL; the count of an upvote or GitHub badge


def _classify(block: Block) -> _Part:
    text = block.text.strip()
    if match := _UPVOTE.fullmatch(text):
        return _Part(block, UPVOTE, match[1])
    if _ANY_URL.fullmatch(text):
        if match := _PAPER_URL.fullmatch(text):
            return _Part(block, PAPER, match[1])
        if match := _COMMUNITY_URL.fullmatch(text):
            return _Part(block, COMMUNITY, match[1])
        if match := _LOGIN_URL.fullmatch(text):
            # The upvote button sends visitors to log in, then to the card's paper.
            return _Part(block, LOGIN, arxiv_id_in_url("huggingface.co" + unquote(match[1])))
        return _Part(block, URL, None)
    if text == "·" or _AUTHORS.fullmatch(text) or _PUBLISHED.fullmatch(text):
        return _Part(block, BYLINE, None)
    if match := _GITHUB.fullmatch(text):
        return _Part(block, GITHUB, match[1])
    if _PROJECT.fullmatch(text):
        return _Part(block, PROJECT, None)
    if _NUMBER.fullmatch(text):
        return _Part(block, NUMBER, text)
    if dates.parse_date_line(text) is not None:
        return _Part(block, DATE, None)
    return _Part(block, TEXT, None)


def _count(text: str | None) -> int | None:
    return count_of(text) if text is not None else None


# --- cards -------------------------------------------------------------------------------


def _split_cards(parts: list[_Part]) -> tuple[list[_Part], list[list[_Part]]]:
    """The parts before the first card (page chrome, date line), and each card's parts."""
    preamble: list[_Part] = []
    cards: list[list[_Part]] = []
    current = preamble
    has_text = True  # the preamble: the first title and paper URL start a card
    paper: str | None = None  # the id of the current card's first paper URL
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else None
        titles_a_paper = (
            part.kind in (TEXT, DAMAGED)
            and following is not None
            and following.kind == PAPER
            and has_text
            and following.value != paper
        )
        if part.kind == UPVOTE or titles_a_paper:
            current = []
            cards.append(current)
            has_text, paper = False, None
        current.append(part)
        if part.kind not in (UPVOTE, LOGIN):
            has_text = True
        # Only a card has a paper: a paper URL in the page chrome must not hide that paper's card.
        if part.kind == PAPER and paper is None and current is not preamble:
            paper = part.value
    return preamble, cards


class _Card(NamedTuple):
    upvotes: int | None
    title: _Part | None
    arxiv_id: str | None
    abstract: list[_Part]
    closed: bool  # the abstract ends where the layout says: at the paper URL again, or at the byline
    cut: bool  # the card's parts end inside its abstract
    comments: int | None
    stars: int | None
    card_links: tuple[Link, ...]
    end: int  # index after the card's last recognised part


def _read_card(parts: list[_Part]) -> _Card:
    """The parts of one card, in the order of the layout; whatever else it holds is left over."""
    kinds = [part.kind for part in parts] + [""]  # "" past the end
    index = 0
    upvotes = login_id = None
    if kinds[index] == UPVOTE:
        upvotes = _count(parts[index].value)  # " [-] -": None
        index += 1
    if kinds[index] == LOGIN:
        login_id = parts[index].value
        index += 1
    title = None
    if kinds[index] in (TEXT, DAMAGED):  # a count, a date or a link is never a title
        title = parts[index]
        index += 1
    arxiv_id = None
    if kinds[index] == PAPER:
        arxiv_id = parts[index].value
        index += 1
    # The abstract: text up to the paper URL again, or up to the byline in a card with no
    # paper URL. A link, a count or a date on the way means that this is no abstract:
    # a title and a stray paper URL among the page's links must not make an entry.
    start = index
    while kinds[index] in (TEXT, DAMAGED):
        index += 1
    abstract, cut = parts[start:index], index == len(parts)
    if arxiv_id is None:
        closed = kinds[index] in (BYLINE, DATE)
    else:
        closed = kinds[index] == PAPER and parts[index].value == arxiv_id
        index += closed
    end = index
    comments, stars = None, None
    links: list[Link] = []
    while index < len(parts):
        kind = kinds[index]
        if kind in (BYLINE, DATE):  # "Mar 11" alone is the byline's date
            end = index + 1
        elif kind in (GITHUB, PROJECT):
            if kind == GITHUB:
                stars = _count(parts[index].value)
            if kinds[index + 1] == URL and (link := canonicalize(parts[index + 1].block.text.strip())):
                links.append(link)
                index += 1
            end = index + 1
        elif kind == NUMBER and comments is None:
            comments = _count(parts[index].block.text)
            if kinds[index + 1] == COMMUNITY:
                index += 1
            end = index + 1
        elif kind == COMMUNITY:
            end = index + 1
        index += 1
    # A card whose title has no paper URL may still name its paper in the upvote button's link.
    return _Card(upvotes, title, arxiv_id or login_id, abstract, closed, cut, comments, stars, tuple(links), end)


def _add_card(entries: Entries, parts: list[_Part], is_last: bool) -> list[_Part]:
    """Make the card an entry or reject its blocks; returns the footer after a last card."""
    card = _read_card(parts)
    footer = parts[card.end :] if is_last else []
    own = [part.block for part in (parts[: card.end] if is_last else parts) if part.kind != DAMAGED]
    problem = _problem(card, is_last)
    if problem is not None:
        entries.reject(own, *problem)
        return footer
    assert card.title is not None  # _problem says so
    abstract = "\n\n".join(part.block.text.strip() for part in card.abstract)
    entries.add(
        own,
        card.title.block.text.strip(),
        abstract,
        line=card.title.block.line,
        arxiv_id=card.arxiv_id,
        upvotes=card.upvotes,
        comments=card.comments,
        card_links=card.card_links,
        stars=card.stars,
    )
    return footer


def _problem(card: _Card, is_last: bool) -> tuple[str, str] | None:
    """Why the card is no entry (reason, detail), before Entries applies the shared rules."""
    if card.title is None:
        if is_last and card.cut and not card.abstract:
            return "truncated_entry", "the file ends after an upvote button"
        return "abstract_without_title", "a card with no title"
    if card.title.kind == DAMAGED:
        return "abstract_without_title", "the card's title block is damaged"
    if any(part.kind == DAMAGED for part in card.abstract):
        return "title_without_abstract", "the card's abstract is damaged"
    if not card.closed:
        if is_last and card.cut and card.abstract:
            return "truncated_entry", "the last card ends inside its abstract: a capture cut off"
        return "title_without_abstract", "no abstract closed by the paper's URL again (or by the byline)"
    return None


# --- the page ------------------------------------------------------------------------------


def _listing(values: dict[str, str], date_line: str | None, preamble: list[_Part]) -> str:
    """The capture's own URL says; else its date line (a day: daily) or the heading naming it.

    The same rule as the markdown reader's; the nav links name every listing, so they say nothing.
    """
    if listing := listing_of(values.get("url")):
        return listing
    if date_line is not None:
        return "daily"
    for text in [values.get("title", "")] + [part.block.text.strip() for part in preamble]:
        folded = text.casefold().lstrip("# ")
        if folded.startswith("trending papers"):
            return "trending"
        if folded.startswith("week ") and folded[5:6].isdigit():
            return "weekly"
    return "unknown"


def _read_preamble(
    parsed: ParsedDigest, entries: Entries, preamble: list[_Part], config_year: int | None, stated_day: dt.date | None
) -> None:
    """Page chrome to header blocks; the first date line dates the digest, as in the sample layout."""
    seen_date = False  # a date line, valid or not: any other is extra
    for part in preamble:
        text = part.block.text.strip()
        if part.kind == DAMAGED:
            continue  # rejected already
        if part.kind != DATE:
            if "\n" in text or len(text) > TITLE_MAX_CHARS:
                entries.reject([part.block], "abstract_without_title", "a paragraph before the first card")
            else:
                parsed.header_block_count += 1
        elif seen_date:
            entries.reject([part.block], "extra_date_line", "a digest has one date line")
        else:
            seen_date = True
            resolved = dates.resolve_date(dates.parse_date_line(text), parsed.source_name, config_year, capture_day=stated_day)
            if resolved.date is None:
                entries.reject([part.block], "invalid_date", resolved.error or "")
            else:
                parsed.date_line, parsed.digest_date, parsed.date_source = text, resolved.date, resolved.source


def read_text_export(parsed: ParsedDigest, decoded: DecodedText, config_year: int | None) -> None:
    """Fill `parsed` from a plain-text export of a papers page."""
    blocks = split_blocks(decoded.text)
    values, taken = front_matter(blocks)
    entries = Entries(parsed)
    damaged_front_matter = sum(reject_if_damaged(block, decoded, entries) for block in blocks[:taken])
    parts = [
        _Part(block, DAMAGED, None) if reject_if_damaged(block, decoded, entries) else _classify(block)
        for block in blocks[taken:]
    ]
    preamble, cards = _split_cards(parts)
    if not cards:
        read_unrecognized(parsed, decoded, why="a text export with no paper card: front matter or page chrome only")
        return
    parsed.block_count = len(blocks)
    parsed.header_block_count = taken - damaged_front_matter
    stated_day = capture_day(values)
    _read_preamble(parsed, entries, preamble, config_year, stated_day)
    parsed.listing = _listing(values, parsed.date_line, preamble)
    if parsed.digest_date is None:
        fallback = dates.resolve_date(None, parsed.source_name, config_year, capture_day=stated_day)
        parsed.digest_date, parsed.date_source = fallback.date, fallback.source
    if parsed.digest_date is None:
        parsed.status = "undated"
        parsed.error = "no valid date line, no date in the capture's front matter and no ISO date in the file name"
        for card in cards:
            entries.reject(
                [part.block for part in card if part.kind != DAMAGED], "undated_digest", "the digest has no usable date"
            )
        return
    for number, card in enumerate(cards, start=1):
        footer = _add_card(entries, card, is_last=number == len(cards))
        # After the last card: the page's footer (site links, "System theme"), page chrome.
        parsed.header_block_count += sum(part.kind != DAMAGED for part in footer)
