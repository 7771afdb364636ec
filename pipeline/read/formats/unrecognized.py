"""A file in no format papertrends reads: refused whole, every block a reject, never an entry."""

from pipeline.read.decoding import DecodedText
from pipeline.read.parsed import Entries, ParsedDigest, split_blocks


def read_unrecognized(parsed: ParsedDigest, decoded: DecodedText, why: str | None = None) -> None:
    """Refuse the file: status unrecognized, each block rejected as unrecognized_format."""
    blocks = split_blocks(decoded.text)
    # Whatever a reader found before it gave up is dropped: the file is refused whole.
    parsed.entries, parsed.rejects = [], []
    parsed.header_block_count = parsed.entry_block_count = 0
    parsed.date_line = parsed.digest_date = parsed.date_source = None
    parsed.listing = "unknown"
    parsed.format = "unrecognized"
    parsed.status = "unrecognized"
    parsed.error = why or "in no format papertrends reads (docs/reading.md lists them)"
    parsed.block_count = len(blocks)
    Entries(parsed).reject(blocks, "unrecognized_format", parsed.error)
