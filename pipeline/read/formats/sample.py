"""The sample layout (the five shipped digests): header blocks, a date line, then title
and abstract blocks, blocks separated by blank lines.

After a title, the next block is its abstract, unless that block is title-shaped and the
block after it is not: then the first title had no abstract. Header blocks and the date
line may come in any order before the first entry; another block before the date line is
rejected, never read as an entry.
"""

from bisect import bisect_right

from pipeline.read import dates
from pipeline.read.decoding import DecodedText
from pipeline.read.formats.common import reject_if_damaged
from pipeline.read.links import Link, extract_links, link_hint_positions, links_at
from pipeline.read.parsed import TITLE_MAX_CHARS, Block, Entries, ParsedDigest, split_blocks

HEADER_LINES = frozenset(
    {
        "new",
        "get trending papers in your email inbox!",
        "subscribe",
        "byak and the research community",
        "daily papers",
    }
)


def is_header(text: str) -> bool:
    """A block of header lines: one a block, or several with no blank line between them."""
    return all(line.strip().casefold() in HEADER_LINES for line in text.strip().split("\n"))


class _Hints:
    """Where in a digest's blocks a link may be.

    A few scans of the whole lower-cased text replace a lower() and the same scans
    per abstract; most blocks hold no link.
    """

    def __init__(self, text: str, blocks: list[Block]):
        lowered = text.lower()
        self.starts = [block.offset for block in blocks]
        # lower() lengthens a few characters (U+0130): then offsets differ, and every
        # block is read on its own.
        self.exact = len(lowered) == len(text)
        self.links: dict[int, list[int]] = {}  # block offset -> link hint positions in it
        if self.exact:
            for position in link_hint_positions(lowered):
                self.links.setdefault(self._block_at(position), []).append(position)

    def _block_at(self, position: int) -> int:
        return self.starts[bisect_right(self.starts, position) - 1]

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


def _starts_entry(blocks: list[Block], index: int) -> bool:
    """A title followed by an abstract-shaped block: the first entry, which ends the header blocks."""
    following = blocks[index + 1].text if index + 1 < len(blocks) else ""
    return is_title_shaped(blocks[index].text) and not is_title_shaped(following) and not is_header(following)


class _EntryCollector:
    """Pairs of title and abstract blocks into entries (pipeline.read.parsed.Entries)."""

    def __init__(self, entries: Entries, hints: _Hints):
        self.entries = entries
        self.hints = hints

    def reject(self, block: Block, reason: str, detail: str) -> None:
        self.entries.reject([block], reason, detail)

    def add(self, title: Block, abstract: Block) -> None:
        title_text, abstract_text = title.text.strip(), abstract.text.strip()
        # Entries.add finds the arXiv id; the hints spare a search of the blocks that hold no link.
        self.entries.add([title, abstract], title_text, abstract_text, links=self.hints.links_in(abstract, abstract_text))


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
        collector.add(title, abstract)
        index += 2


def read_sample(parsed: ParsedDigest, decoded: DecodedText, config_year: int | None) -> None:
    """Fill `parsed` from a text in the sample layout."""
    source_name = parsed.source_name
    parsed.listing = "daily"
    blocks = split_blocks(decoded.text)
    parsed.block_count = len(blocks)
    entries = Entries(parsed)
    collector = _EntryCollector(entries, _Hints(decoded.text, blocks))

    def damaged(block: Block) -> bool:
        return reject_if_damaged(block, decoded, entries)

    index = 0
    # Set by the first date line, valid or not: any later one is extra. A flag, not the
    # last reject's reason, which a damaged block rejected in between would hide.
    date_taken = False
    # Blocks before the date line that are neither header nor entry (chrome this reader
    # does not know); if no date line follows, they are read with the entries.
    unplaced: list[Block] = []
    # Header blocks and the date line, in any order, before the first entry.
    while index < len(blocks):
        block = blocks[index]
        if damaged(block):
            pass
        elif is_header(block.text):
            parsed.header_block_count += 1
        elif (candidate := dates.parse_date_line(block.text)) is not None:
            if date_taken:
                collector.reject(block, "extra_date_line", "a digest has one date line")
            else:
                date_taken = True
                for stray in unplaced:
                    if is_title_shaped(stray.text):
                        collector.reject(stray, "title_without_abstract", "a title-shaped block before the date line")
                    else:
                        collector.reject(stray, "abstract_without_title", "abstract-shaped block before the date line")
                unplaced = []
                resolved = dates.resolve_date(candidate, source_name, config_year)
                if resolved.date is None:
                    collector.reject(block, "invalid_date", resolved.error or "")
                else:
                    parsed.date_line = block.text.strip()
                    parsed.digest_date = resolved.date
                    parsed.date_source = resolved.source
        elif date_taken or _starts_entry(blocks, index):
            break
        else:
            unplaced.append(block)
        index += 1

    if parsed.digest_date is None:
        fallback = dates.resolve_date(None, source_name, config_year)
        parsed.digest_date, parsed.date_source = fallback.date, fallback.source

    body = unplaced + blocks[index:]
    if parsed.digest_date is None:
        parsed.status = "undated"
        parsed.error = "no valid date line before the first entry and no ISO date in the file name"
        for block in body:
            collector.reject(block, "undated_digest", "the digest has no usable date")
        return

    clean: list[Block] = []
    for block in body:
        if damaged(block):
            continue
        if dates.parse_date_line(block.text) is not None:
            collector.reject(block, "extra_date_line", "a digest has one date line")
        else:
            clean.append(block)
    _pair_entries(clean, collector)
