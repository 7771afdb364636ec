"""Read a digest file's bytes: decode them, tell the format, and read the entries and rejects.

Never raises on any input. Every block ends up counted as a header, as the date line,
in an entry, or in a reject with a reason (`ParsedDigest.accounted_blocks` states it).
"""

from pipeline.read.decoding import DecodedText, NotText, decode_digest
from pipeline.read.formats import READERS, detect_format
from pipeline.read.formats.unrecognized import read_unrecognized
from pipeline.read.parsed import ParsedDigest, Reject

_BINARY_PREVIEW_BYTES = 4096


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
    parsed.format = detect_format(decoded.text)
    reader = READERS.get(parsed.format)
    if reader is None:
        read_unrecognized(parsed, decoded)
    else:
        reader(parsed, decoded, config_year)
    parsed.rejects.sort()  # by line first (a Reject is a tuple that starts with its line)
    return parsed
