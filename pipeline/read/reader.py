"""Read a digest: blocks of text into entries (title, abstract) and rejects.

The layout (DESIGN.md): header blocks, a date line, then title and abstract pairs,
blocks separated by blank lines. Every block ends up counted as header, as the date
line, in an entry, or in a reject with a reason; `ParsedDigest.accounted_blocks`
states that invariant.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NamedTuple

from pipeline.read import dates
from pipeline.read.decoding import CONTROL_CHARACTERS, REPLACEMENT, DecodedText, NotText, decode_digest
from pipeline.read.identity import find_arxiv_id, paper_id
from pipeline.read.links import Link, extract_links, find_all, link_hint_positions, links_at

HEADER_LINES = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "subscribe",
        "byak and the research community",
        "daily papers",
    }
)
# Titles in the samples are at most 174 characters and abstracts at least 1,347;
# arXiv caps abstracts at 1,920. A title is one line of at most TITLE_MAX_CHARS.
TITLE_MAX_CHARS = 300
# No real abstract comes near this; a longer block means merged blocks or a file that
# is no digest. Its entry is rejected, so the papers table keeps to the bound its
# checks enforce (pipeline.expectations).
ABSTRACT_MAX_CHARS = 5_000

REJECT_REASONS = (
    "binary_file",  # the file is not text: one reject holds its first bytes
    "control_characters",  # a block holding NUL or other control characters
    "abstract_without_title",  # an abstract-shaped block where a title was due
    "title_without_abstract",  # a title followed by another title, or by nothing
    "truncated_entry",  # the last title and a short last block: a capture cut off
    "invalid_date",  # a date line naming no real date (Feb 30)
    "extra_date_line",  # a second date line
    "undated_digest",  # no usable date for the digest: its entries cannot be dated
    "repeated_entry",  # the same paper again in one digest
    "oversized_entry",  # a title whose abstract is longer than ABSTRACT_MAX_CHARS
    "undecodable_bytes",  # a block holding bytes its file's encoding cannot read (shown as U+FFFD)
)
DIGEST_STATUSES = ("ok", "duplicate", "empty", "binary", "undated", "unreadable")

# The characters of decoding.CONTROL_CHARACTERS, for the blocks of a text that holds one.
_CONTROL = re.compile(f"[{re.escape(CONTROL_CHARACTERS)}]")
_BINARY_PREVIEW_BYTES = 4096


# Named tuples, not dataclasses: a digest makes hundreds of these, and a tuple is made
# several times faster than a frozen dataclass.
class Block(NamedTuple):
    line: int  # 1-based line of the block's first line
    text: str
    offset: int = 0  # index of the block's first character in the digest's text


class Entry(NamedTuple):
    position: int  # 1-based rank in the digest
    line: int  # 1-based line of the title
    title: str
    abstract: str
    paper_id: str
    arxiv_id: str | None
    links: tuple[Link, ...]


class Reject(NamedTuple):
    line: int
    reason: str
    raw_text: str
    detail: str


@dataclass
class ParsedDigest:
    source_name: str
    digest_id: str
    status: str  # one of DIGEST_STATUSES ("duplicate" is set later, across digests)
    encoding: str | None
    byte_size: int
    date_line: str | None = None
    digest_date: object = None  # datetime.date
    date_source: str | None = None
    error: str | None = None
    block_count: int = 0
    header_block_count: int = 0
    entries: list[Entry] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def accounted_blocks(self) -> int:
        """Header + date line + 2 x entries + rejected: equals block_count."""
        return (
            self.header_block_count
            + (self.date_line is not None)
            + 2 * len(self.entries)
            + len(self.rejects)
        )


def split_blocks(text: str) -> list[Block]:
    """Runs of non-blank lines of a normalized text (decoding.normalize_text).

    Normalized, a blank line is an empty one, so blocks are what lies between runs
    of two or more newlines: one str.split, not a loop over lines.
    """
    blocks: list[Block] = []
    line, offset = 1, 0
    for piece in text.split("\n\n"):
        # An odd run of newlines leaves one at the start of the next piece.
        body = piece.lstrip("\n")
        if body:
            skipped = len(piece) - len(body)
            blocks.append(Block(line + skipped, body, offset + skipped))
        line += piece.count("\n") + 2
        offset += len(piece) + 2
    return blocks


class _Hints:
    """Where in a digest's blocks a link or an arXiv id may be.

    A few scans of the whole lower-cased text replace a lower() and the same scans
    per abstract; most blocks hold neither.
    """

    def __init__(self, text: str, blocks: list[Block]):
        lowered = text.lower()
        self.starts = [block.offset for block in blocks]
        # lower() lengthens a few characters (U+0130): then offsets differ, and every
        # block is read on its own.
        self.exact = len(lowered) == len(text)
        self.links: dict[int, list[int]] = {}  # block offset -> link hint positions in it
        self.arxiv: set[int] = set()  # offsets of the blocks that may name an arXiv id
        if self.exact:
            for position in link_hint_positions(lowered):
                self.links.setdefault(self._block_at(position), []).append(position)
            self.arxiv.update(map(self._block_at, find_all(lowered, "arx")))

    def _block_at(self, position: int) -> int:
        return self.starts[bisect_right(self.starts, position) - 1]

    def may_name_arxiv(self, block: Block) -> bool:
        return not self.exact or block.offset in self.arxiv

    def links_in(self, block: Block, stripped: str) -> tuple[Link, ...]:
        """The links of the block, whose text stripped is `stripped`."""
        if not self.exact:
            return tuple(extract_links(stripped))
        positions = self.links.get(block.offset)
        if not positions:
            return ()
        shift = block.offset + len(block.text) - len(block.text.lstrip())
        return tuple(links_at(stripped, [position - shift for position in positions]))


def is_title_shaped(text: str) -> bool:
    return "\n" not in text and len(text.strip()) <= TITLE_MAX_CHARS


def _is_header(block: Block) -> bool:
    return block.text.strip().casefold() in HEADER_LINES


class _EntryCollector:
    """Pairs titles with abstracts, keeping positions and rejecting repeats."""

    def __init__(self, parsed: ParsedDigest, hints: _Hints):
        self.parsed = parsed
        self.hints = hints
        self.seen_papers: set[str] = set()

    def reject(self, block: Block, reason: str, detail: str) -> None:
        self.parsed.rejects.append(Reject(block.line, reason, block.text, detail))

    def add(self, title: Block, abstract: Block) -> None:
        key = paper_id(title.text)
        if key in self.seen_papers:
            detail = f"paper {key} already listed in this digest"
            self.reject(title, "repeated_entry", detail)
            self.reject(abstract, "repeated_entry", detail)
            return
        self.seen_papers.add(key)
        title_text, abstract_text = title.text.strip(), abstract.text.strip()
        hints = self.hints
        may_name_arxiv = hints.may_name_arxiv(title) or hints.may_name_arxiv(abstract)
        self.parsed.entries.append(
            Entry(
                position=len(self.parsed.entries) + 1,
                line=title.line,
                title=title_text,
                abstract=abstract_text,
                paper_id=key,
                arxiv_id=find_arxiv_id(title_text, abstract_text) if may_name_arxiv else None,
                links=hints.links_in(abstract, abstract_text),
            )
        )


def _pair_entries(blocks: list[Block], collector: _EntryCollector) -> None:
    """Title/abstract pairing, robust to a missing abstract or title.

    A title is title-shaped; anything else is an abstract. After a title, a
    title-shaped block is still its (short) abstract unless the block after it is
    abstract-shaped, in which case the first title had no abstract.
    """
    index = 0
    while index < len(blocks):
        title = blocks[index]
        if not is_title_shaped(title.text):
            collector.reject(title, "abstract_without_title", "abstract-shaped block where a title was due")
            index += 1
            continue
        if index + 1 == len(blocks):
            collector.reject(title, "title_without_abstract", "last block: a title with no abstract")
            return
        abstract = blocks[index + 1]
        if is_title_shaped(abstract.text):
            is_last = index + 2 == len(blocks)
            if is_last:
                detail = "the last title is followed only by a short block"
                collector.reject(title, "truncated_entry", detail)
                collector.reject(abstract, "truncated_entry", detail)
                return
            if not is_title_shaped(blocks[index + 2].text):
                collector.reject(title, "title_without_abstract", "followed by another title")
                index += 1
                continue
        if len(abstract.text.strip()) > ABSTRACT_MAX_CHARS:
            detail = f"abstract of {len(abstract.text.strip()):,} characters, over {ABSTRACT_MAX_CHARS:,}"
            collector.reject(title, "oversized_entry", detail)
            collector.reject(abstract, "oversized_entry", detail)
        else:
            collector.add(title, abstract)
        index += 2


def _read_not_text(parsed: ParsedDigest, raw: bytes, decoded: NotText) -> ParsedDigest:
    parsed.status = decoded.reason
    parsed.error = decoded.detail
    if decoded.reason == "binary":
        # One block stands for the whole file, so the loss is visible in rejects.
        preview = raw[:_BINARY_PREVIEW_BYTES].decode("latin-1")
        shown = f"first {min(len(raw), _BINARY_PREVIEW_BYTES)} of {len(raw)} bytes, as Latin-1"
        parsed.block_count = 1
        parsed.rejects.append(Reject(1, "binary_file", preview, shown))
    return parsed


def parse_digest(raw: bytes, source_name: str, config_year: int | None = None) -> ParsedDigest:
    """Parse one digest file's bytes. Never raises on any input."""
    decoded = decode_digest(raw)
    parsed = ParsedDigest(
        source_name=source_name,
        digest_id=decoded.digest_id,
        status="ok",
        encoding=decoded.encoding if isinstance(decoded, DecodedText) else None,
        byte_size=len(raw),
    )
    if isinstance(decoded, NotText):
        return _read_not_text(parsed, raw, decoded)

    blocks = split_blocks(decoded.text)
    parsed.block_count = len(blocks)
    collector = _EntryCollector(parsed, _Hints(decoded.text, blocks))

    def damaged(block: Block) -> bool:
        """Reject a block holding control characters or bytes the decoding replaced."""
        # Both found while decoding: the per-block tests run only when the text holds one.
        if decoded.has_control_characters and _CONTROL.search(block.text):
            collector.reject(block, "control_characters", "holds NUL or other control characters")
            return True
        if decoded.replaced_bytes and REPLACEMENT in block.text:
            collector.reject(block, "undecodable_bytes", f"holds bytes that are not {decoded.encoding} (shown as U+FFFD)")
            return True
        return False

    index = 0
    date_line: dates.DateLine | None = None
    # Header blocks and the date line, in any order, before the first entry.
    while index < len(blocks):
        block = blocks[index]
        if damaged(block):
            pass
        elif _is_header(block):
            parsed.header_block_count += 1
        elif (candidate := dates.parse_date_line(block.text)) is not None:
            if date_line is not None or parsed.rejects and parsed.rejects[-1].reason == "invalid_date":
                collector.reject(block, "extra_date_line", "a digest has one date line")
            else:
                resolved = dates.resolve_date(candidate, source_name, config_year)
                if resolved.date is None:
                    collector.reject(block, "invalid_date", resolved.error or "")
                else:
                    date_line = candidate
                    parsed.date_line = block.text.strip()
                    parsed.digest_date = resolved.date
                    parsed.date_source = resolved.source
        else:
            break
        index += 1

    if parsed.digest_date is None:
        fallback = dates.resolve_date(None, source_name, config_year)
        parsed.digest_date, parsed.date_source = fallback.date, fallback.source

    body = blocks[index:]
    if parsed.digest_date is None:
        parsed.status = "undated"
        parsed.error = "no valid date line and no ISO date in the file name"
        for block in body:
            collector.reject(block, "undated_digest", "the digest has no usable date")
        return parsed

    clean: list[Block] = []
    for block in body:
        if damaged(block):
            continue
        if dates.parse_date_line(block.text) is not None:
            collector.reject(block, "extra_date_line", "a digest has one date line")
        else:
            clean.append(block)
    _pair_entries(clean, collector)
    parsed.rejects.sort(key=lambda reject: reject.line)
    return parsed
