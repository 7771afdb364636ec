"""The parts of a Hugging Face papers page as a scraper writes it in markdown: card lines and cards.

A card is a run of blocks: maybe an upvote link (`[57](https://huggingface.co/login?next=%2Fpapers%2FID)`),
a level-3 heading holding the title (`### [Title](https://huggingface.co/papers/ID)` or `### Title`),
the abstract (the paper link's text, or a plain paragraph, maybe hard-wrapped), then card lines: the
author count and publication date, the GitHub badge, the comment count, and on the trending page
the upvote link and an `arXiv Page` badge. Its links: pipeline.read.formats.markdown_links.
"""

import re
from dataclasses import dataclass, field
from typing import NamedTuple

from pipeline.read.dates import parse_date_line
from pipeline.read.formats.common import arxiv_id_in_url, count_of
from pipeline.read.formats.markdown_links import (
    MdLink,
    closing_bracket,
    links_only,
    paper_link,
    paper_named_by,
    parse_link,
    plain_text,
    whole_link,
)
from pipeline.read.links import Link, canonicalize
from pipeline.read.parsed import Block

# --- card lines ------------------------------------------------------------------------------


class CardLine(NamedTuple):
    """What a card line says; the fields it does not hold are None."""

    upvotes: int | None = None
    comments: int | None = None
    stars: int | None = None
    paper: str | None = None  # the arXiv id the line names (an upvote's login URL, an arXiv badge)
    links: tuple[Link, ...] = ()  # the card's GitHub repo, its project page


_BULLET = re.compile(r"[*•·-]\s+")
_AUTHORS = re.compile(r"[0-9]+\s+authors?", re.IGNORECASE)
_PUBLISHED = re.compile(r"Published on\s+(.+)", re.IGNORECASE)
_COMMENTS = re.compile(r"([0-9][0-9,]*)\s+comments?", re.IGNORECASE)
_GITHUB_BADGE = re.compile(r"GitHub(?:\s+(\S+))?", re.IGNORECASE)
_ARXIV_BADGE = re.compile(r"arXiv(?:\s+Page)?", re.IGNORECASE)
_PROJECT_BADGE = re.compile(r"Project(?:\s+Page)?|Website", re.IGNORECASE)


def is_byline(text: str, bare_date: bool) -> bool:
    """`* 5 authors`, `Published on Mar 11`, `4 authors · Mar 13`: parts of authors count and date.

    A date alone is a byline only where `bare_date` says so (the trending page's mobile
    card); on a daily page it is a date line.
    """
    bullet = _BULLET.match(text)
    parts = [part.strip() for part in text[bullet.end() if bullet else 0 :].split("·")]
    for part in parts:
        if _AUTHORS.fullmatch(part):
            continue
        published = _PUBLISHED.fullmatch(part)
        if published and parse_date_line(published[1]) is not None:
            continue
        if (bare_date or len(parts) > 1) and parse_date_line(part) is not None:
            continue
        return False
    return True


def upvote_link(text: str, definitions: dict[str, str]) -> CardLine | None:
    """`[57](https://huggingface.co/login?next=%2Fpapers%2FID)`: a count linking to the login or the paper."""
    link = whole_link(text, definitions)
    if link is None or "\n" in link.label:
        return None
    count = count_of(link.label)
    url = link.url
    # A count linking elsewhere (a paper's #community) is no upvote button.
    if count is None or url is not None and "/login" not in url and (arxiv_id_in_url(url) is None or "#" in url):
        return None
    return CardLine(upvotes=count, paper=paper_named_by(url))


def _badge(link: MdLink) -> CardLine | None:
    label = plain_text(link.label)
    url = link.url
    if comments := _COMMENTS.fullmatch(label):
        return CardLine(comments=int(comments[1].replace(",", "")))
    if github := _GITHUB_BADGE.fullmatch(label):
        repo = canonicalize(url) if url else None
        return CardLine(stars=count_of(github[1]) if github[1] else None, links=(repo,) if repo else ())
    if _ARXIV_BADGE.fullmatch(label):
        return CardLine(paper=arxiv_id_in_url(url or ""))
    if _PROJECT_BADGE.fullmatch(label):
        page = canonicalize(url) if url else None
        return CardLine(links=(page,) if page else ())
    return None


def combine(first: CardLine, second: CardLine) -> CardLine:
    """Both lines' values; where both hold one, the first's."""
    return CardLine(
        first.upvotes if first.upvotes is not None else second.upvotes,
        first.comments if first.comments is not None else second.comments,
        first.stars if first.stars is not None else second.stars,
        first.paper or second.paper,
        first.links + tuple(link for link in second.links if link.url not in {known.url for known in first.links}),
    )


def card_line(text: str, definitions: dict[str, str], bare_date: bool) -> CardLine | None:
    """The values of a card line (byline, comments, badges); None for a block that is none.

    A block of several lines is card lines when each line is one: in markdown, lines with
    no blank line between them are one paragraph, as if written on one line.
    """
    before, values = _trailing_card_lines(text.strip(), definitions, bare_date)
    return None if before else values


def _one_card_line(text: str, definitions: dict[str, str], bare_date: bool) -> CardLine | None:
    if is_byline(text, bare_date):
        return CardLine()
    if comments := _COMMENTS.fullmatch(text):
        return CardLine(comments=int(comments[1].replace(",", "")))
    links = links_only(text, definitions)
    if links is None:
        return None
    values = CardLine()
    for link in links:
        badge = _badge(link)
        if badge is None:
            return None
        values = combine(values, badge)
    return values


# --- cards -----------------------------------------------------------------------------------


@dataclass
class Card:
    """One card of the page: its blocks and what they say."""

    blocks: list[Block]
    title_line: int
    title: str = ""
    abstract: str = ""
    has_abstract: bool = False
    has_lines: bool = False  # any card line after the abstract
    unclosed: str | None = None  # "title" or "abstract": a link opened there is never closed
    values: CardLine = field(default_factory=CardLine)
    papers: list[str] = field(default_factory=list)  # arXiv ids of the title's and abstract's links

    @property
    def arxiv_id(self) -> str | None:
        return self.papers[0] if self.papers else self.values.paper

    def set_title(self, heading: str, definitions: dict[str, str]) -> None:
        link = paper_link(heading, definitions)
        if link is not None:
            self.title = plain_text(link.label)
            self._name_paper(link.url)
            return
        if heading.startswith("["):
            close = closing_bracket(heading, 0)
            if close < 0:
                self.unclosed = "title"
            elif close == len(heading) - 1:
                heading = heading[1:-1]  # `[Title]`: a shortcut reference, its definition lost
        self.title = plain_text(heading)

    def title_is_card_line(self) -> bool:
        """A heading reading `10 authors`, `57` or `GitHub 1.32k`: a scrape gone wrong, not a title."""
        title = self.title
        return count_of(title) is not None or is_byline(title, bare_date=True) or _badge(MdLink(title, None)) is not None

    def set_abstract(self, text: str, definitions: dict[str, str]) -> None:
        self.has_abstract = True
        text = text.strip()
        link = paper_link(text, definitions)
        if link is not None:
            self.abstract = plain_text(link.label)
            self._name_paper(link.url)
            return
        if text.startswith("[") and closing_bracket(text, 0) < 0:
            self.unclosed = self.unclosed or "abstract"
        self.abstract = plain_text(text)

    def take_line(self, block: Block, line: CardLine, byline: bool = True) -> None:
        """A card line; an upvote link (byline=False) may come before the abstract."""
        self.blocks.append(block)
        self.has_lines = self.has_lines or byline
        self.values = combine(self.values, line)

    def _name_paper(self, url: str | None) -> None:
        if (paper := paper_named_by(url)) and paper not in self.papers:
            self.papers.append(paper)


_TITLE_HEADING = re.compile(r"###[ \t]+\S")
# The line break before a card's heading inside a block.
_BEFORE_HEADING = re.compile(r"\n(?=###[ \t]+\S)")


def split_at_headings(blocks: list[Block]) -> list[Block]:
    """The blocks, each `### ` line starting a new one.

    In markdown a heading interrupts a paragraph: a card written with no blank line
    before its heading is still a card of its own, not a paragraph of the card before.
    """
    split: list[Block] = []
    for block in blocks:
        start = 0
        for end in [match.start() for match in _BEFORE_HEADING.finditer(block.text)] + [len(block.text)]:
            split.append(Block(block.line + block.text.count("\n", 0, start), block.text[start:end], block.offset + start))
            start = end + 1
    return split
_OTHER_HEADING = re.compile(r"#{1,6}[ \t]")


def _trailing_card_lines(text: str, definitions: dict[str, str], bare_date: bool) -> tuple[str, CardLine | None]:
    """The text before its last lines that are card lines, and their values (None: it ends with none)."""
    lines = text.split("\n")
    values: CardLine | None = None
    while lines and (line := _one_card_line(lines[-1].strip(), definitions, bare_date)) is not None:
        values = combine(line, values or CardLine())
        lines.pop()
    return "\n".join(lines), values


class _Page:
    """Blocks, in page order, into cards and loose blocks (chrome, date line, strays)."""

    def __init__(self, definitions: dict[str, str], trending: bool):
        self.definitions = definitions
        self.trending = trending
        self.items: list[Card | Block] = []
        self.card: Card | None = None
        self.pending: tuple[Block, CardLine] | None = None  # an upvote link waiting for its card's title

    def feed(self, block: Block) -> None:
        text = block.text.strip()
        if _TITLE_HEADING.match(text):
            self._start_card(block, text)
        elif (upvote := upvote_link(text, self.definitions)) is not None:
            self._upvote(block, upvote)
        elif (line := card_line(text, self.definitions, self.trending)) is not None and self.card is not None:
            self.card.take_line(block, line)
        elif self.card is not None and not self.card.has_abstract and not self.card.has_lines and self._may_be_abstract(text):
            self.card.blocks.append(block)
            self.card.set_abstract(text, self.definitions)
        else:
            self._close()
            self.items.append(block)

    def finish(self) -> list[Card | Block]:
        self._close()
        return self.items

    def _may_be_abstract(self, text: str) -> bool:
        # A heading or a date line is never a card's abstract: the card has none.
        return not _OTHER_HEADING.match(text) and parse_date_line(text) is None

    def _start_card(self, block: Block, text: str) -> None:
        self._close(keep_pending=True)
        after_hashes = text[3:].strip()
        heading, _, rest = after_hashes.partition("\n")
        if heading.startswith("[") and closing_bracket(heading, 0) < 0:
            # A title link wrapped onto the next lines: the heading runs to the line where it ends.
            link = parse_link(after_hashes, 0, self.definitions)
            if link is not None and after_hashes[link[1] : link[1] + 1] in ("", "\n"):
                heading, rest = after_hashes[: link[1]], after_hashes[link[1] + 1 :]
        card = Card([], title_line=block.line)
        if self.pending is not None:
            upvote_block, upvote = self.pending
            card.blocks.append(upvote_block)
            card.values = upvote
            self.pending = None
        card.blocks.append(block)
        card.set_title(heading.strip(), self.definitions)
        # No blank line between the heading and the abstract, maybe nor the card lines.
        abstract, lines = _trailing_card_lines(rest, self.definitions, self.trending)
        if abstract.strip():
            card.set_abstract(abstract, self.definitions)
        if lines is not None:
            card.has_lines = True
            card.values = combine(card.values, lines)
        self.card = card

    def _upvote(self, block: Block, upvote: CardLine) -> None:
        """An upvote link: the open card's (trending: it follows the byline), else the next card's."""
        card = self.card
        if card is not None and card.values.upvotes is None:
            names_this_card = upvote.paper is not None and upvote.paper == card.arxiv_id
            if names_this_card or self.trending and upvote.paper is None:
                card.take_line(block, upvote, byline=False)
                return
        self._close()
        self.pending = (block, upvote)

    def _close(self, keep_pending: bool = False) -> None:
        if self.card is not None:
            self.items.append(self.card)
            self.card = None
        if self.pending is not None and not keep_pending:
            # An upvote link no title followed: card metadata with no card.
            self.items.append(self.pending[0])
            self.pending = None


def read_page(blocks: list[Block], definitions: dict[str, str], trending: bool) -> list[Card | Block]:
    """The cards and the loose blocks of a page, in page order."""
    page = _Page(definitions, trending)
    for block in blocks:
        page.feed(block)
    return page.finish()
