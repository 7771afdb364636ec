"""Markdown links as a scraper writes a Hugging Face papers page: inline (`[text](url)`) or by
reference (`[text][12]` and a definition `[12]: url`, which may be missing: then the link has
no target), and the papers their targets name.
"""

import re
from typing import NamedTuple
from urllib.parse import unquote

from pipeline.read.formats.common import arxiv_id_in_url, unescape_markdown


class MdLink(NamedTuple):
    label: str  # as written: escapes kept, lines not joined
    url: str | None  # None: a reference whose definition is missing


_SPECIAL = re.compile(r"[\\\[\]]")
# `(url)`, `(<url>)` or `(url "title")`; parentheses inside a URL only in balanced pairs.
_INLINE_TARGET = re.compile(r"\(\s*<?([^\s<>()]*(?:\([^\s<>()]*\)[^\s<>()]*)*)>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'))?\s*\)")
_REFERENCE_TARGET = re.compile(r"\[([^\[\]\n]*)\]")
_DEFINITION = re.compile(r"\[([^\[\]\n]+)\]:\s*<?(\S+?)>?(?:\s+.*)?")
# What may stand between the links of a line of links: "[Daily](..) / [Weekly](..)".
_SEPARATORS = re.compile(r"[\s/|·•]*")


def closing_bracket(text: str, start: int) -> int:
    """Where the `]` closing the `[` at `start` is (escapes skipped, nested pairs counted); -1 if nowhere.

    One scan from `start`, visiting only backslashes and brackets: linear in the text.
    """
    depth, escaped = 0, -1
    for match in _SPECIAL.finditer(text, start):
        at = match.start()
        if at == escaped:
            continue
        char = match.group()
        if char == "\\":
            escaped = at + 1
        elif char == "[":
            depth += 1
        else:
            depth -= 1
            if depth <= 0:
                return at
    return -1


def parse_link(text: str, start: int, definitions: dict[str, str]) -> tuple[MdLink, int] | None:
    """The link whose `[` is text[start], and where it ends; None if no link opens there."""
    close = closing_bracket(text, start)
    return _link_closed_at(text, start, close, definitions) if close >= 0 else None


def _link_closed_at(text: str, start: int, close: int, definitions: dict[str, str]) -> tuple[MdLink, int] | None:
    """The link whose text runs from the `[` at `start` to the `]` at `close`, and where it ends."""
    label = text[start + 1 : close]
    if match := _INLINE_TARGET.match(text, close + 1):
        return MdLink(label, _absolute(match[1] or None)), match.end()
    if match := _REFERENCE_TARGET.match(text, close + 1):
        key = (match[1] or label).strip().casefold()  # `[text][]` refers by its text
        return MdLink(label, _absolute(definitions.get(key))), match.end()
    return None


def _absolute(url: str | None) -> str | None:
    """A site-relative URL (`/papers/ID`, as HTML-to-markdown tools keep them) on huggingface.co, whose page this is."""
    if url and url.startswith("/") and not url.startswith("//"):
        return "https://huggingface.co" + url
    return url


def whole_link(text: str, definitions: dict[str, str]) -> MdLink | None:
    """The link a text is, when it is one link and nothing else."""
    text = text.strip()
    if not text.startswith("["):
        return None
    found = parse_link(text, 0, definitions)
    return found[0] if found is not None and found[1] == len(text) else None


def paper_link(text: str, definitions: dict[str, str]) -> MdLink | None:
    """The link a title or abstract block is: one link, whose text may hold unbalanced brackets.

    Scrapers leave brackets in a link's text unescaped (`t in [0, 1)`), which no balanced
    reading closes: then the text runs from the first `[` to the last `]` before the
    target, when the block ends with that target and it is a paper's page (as a card's
    title and abstract links are), so a paragraph that merely opens with `[MASK]` and ends
    with a link stays a paragraph.
    """
    if (link := whole_link(text, definitions)) is not None:
        return link
    text = text.strip()
    if not text.startswith("["):
        return None
    for close in (text.rfind("]("), text.rfind("][")):
        found = _link_closed_at(text, 0, close, definitions) if close > 0 else None
        if found is not None and found[1] == len(text) and paper_named_by(found[0].url):
            return found[0]
    return None


def links_only(text: str, definitions: dict[str, str]) -> list[MdLink] | None:
    """The links of a text made of links and separators only; None for any other text."""
    links: list[MdLink] = []
    position = 0
    while True:
        separators = _SEPARATORS.match(text, position)
        position = separators.end() if separators else position
        if position == len(text):
            return links or None
        if text[position] != "[":
            return None
        found = parse_link(text, position, definitions)
        if found is None:
            return None
        links.append(found[0])
        position = found[1]


def definitions_in(text: str) -> dict[str, str] | None:
    """The link definitions of a block made only of them (`[12]: https://...`); None for any other block."""
    found: dict[str, str] = {}
    for line in text.split("\n"):
        match = _DEFINITION.fullmatch(line.strip())
        if match is None:
            return None
        found.setdefault(match[1].strip().casefold(), match[2])  # the first definition wins
    return found


def plain_text(markdown: str) -> str:
    """What a reader of the page sees: hard-wrapped lines joined, markdown escapes undone."""
    return unescape_markdown(" ".join(line.strip() for line in markdown.split("\n") if line.strip()))


# The upvote button's target for anonymous visitors: login?next=/papers/<id>, URL-encoded.
_LOGIN_PAPER = re.compile(r"[?&]next=/papers/([0-9]{4}\.[0-9]{4,5})(?![0-9])")


def paper_named_by(url: str | None) -> str | None:
    """The arXiv id a paper, arXiv or upvote (login) URL names."""
    if not url:
        return None
    if paper := arxiv_id_in_url(url):
        return paper
    match = _LOGIN_PAPER.search(unquote(url))
    return match[1] if match else None
