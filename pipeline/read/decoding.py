"""Turn a digest file's bytes into normalized text, or say why it is not text.

Decoding is decided per file (a BOM, UTF-16's NUL pattern, UTF-8, else Windows-1252),
but damage is kept to the lines it is in: a UTF-8 file with a few broken bytes keeps
its UTF-8 text, and only the broken lines hold U+FFFD, whose blocks the reader rejects
(`undecodable_bytes`); a UTF-16 file with a stray byte, or a Windows-1252 file with a
byte that encoding leaves undefined, likewise.
"""

import codecs
import hashlib
import unicodedata
from dataclasses import dataclass

# Signatures of common binary formats: such a file is never a capture.
_BINARY_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"\xff\xd8\xff",
    b"%PDF-",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x7fELF",
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Bytes that never occur in text: C0 controls except tab, LF, VT, FF, CR, and DEL.
CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\x0b\x0c\r") + b"\x7f"
# Control characters in decoded text: those bytes' characters, and the C1 controls
# (U+0080-U+009F), which no capture holds as text (text once mis-read as Latin-1 and
# saved again as UTF-8 shows them).
CONTROL_CHARACTERS = CONTROL_BYTES.decode("ascii") + "".join(chr(code) for code in range(0x80, 0xA0))
_C1 = frozenset(chr(code) for code in range(0x80, 0xA0))
# Above this share of control bytes, a file with no BOM is binary.
_BINARY_CONTROL_SHARE = 0.05
# Above this share of characters replaced, a file is not text in the encoding it seemed to be in.
_BINARY_REPLACED_SHARE = 0.05
REPLACEMENT = "\ufffd"
# BOM (again: the honoured one is gone), zero-width space, word joiner: invisible, no content.
_INVISIBLE_LEAD = "\ufeff\u200b\u2060"


@dataclass(frozen=True)
class DecodedText:
    text: str  # normalized: NFC, LF line endings, trailing whitespace stripped
    encoding: str  # the encoding the bytes were read with
    digest_id: str  # sha256 hex of `text` in UTF-8
    has_control_characters: bool  # any of CONTROL_CHARACTERS in `text`
    replaced_bytes: bool = False  # broken bytes became U+FFFD: their blocks are rejected


@dataclass(frozen=True)
class NotText:
    reason: str  # "empty" or "binary"
    detail: str
    digest_id: str  # sha256 hex of the raw bytes


def normalize_text(text: str) -> str:
    """No leading invisible characters, NFC, LF line endings, no trailing whitespace on any line or at the end."""
    # A second BOM or a zero-width space before the first line would hide the page header.
    text = text.lstrip(_INVISIBLE_LEAD)
    if "\r" in text:  # a one-character test is a memchr; each replace is a slower scan
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    # split("\n"), not splitlines(): form feeds and U+2028 are text here, not line breaks.
    return "\n".join(line.rstrip() for line in text.split("\n")).rstrip()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 saved without a BOM shows as a NUL in every other byte."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    pairs = len(sample) // 2
    even_nuls = sample[0::2].count(0) / pairs
    odd_nuls = sample[1::2].count(0) / pairs
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _with_replacements(raw: bytes, encoding: str, label: str) -> tuple[str, str, bool] | None:
    """The bytes in a Unicode encoding, broken sequences as U+FFFD; None when that is most of them."""
    try:
        return raw.decode(encoding), label, False
    except UnicodeDecodeError:
        pass
    text = raw.decode(encoding, errors="replace")
    if text.count(REPLACEMENT) > _BINARY_REPLACED_SHARE * max(len(text), 1):
        return None
    return text, label, True


def _utf8_or_legacy(raw: bytes) -> tuple[str, str, bool] | None:
    """UTF-8 when at least half the non-ASCII lines are UTF-8, else Windows-1252, the broken bytes replaced; None when binary."""
    try:
        return raw.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass
    valid = broken = 0
    # splitlines ends a line at LF, CRLF or CR alike: a CR-only capture has lines too.
    for line in raw.splitlines():
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            valid += 1
        except UnicodeDecodeError:
            broken += 1
    if valid and valid >= broken:
        # A UTF-8 capture with a few broken lines: keep its UTF-8, mark what is broken.
        return raw.decode("utf-8", errors="replace"), "utf-8", True
    # Legacy captures: Windows-1252, a superset of Latin-1's printable range. Its five
    # undefined bytes become U+FFFD, rejecting their blocks only; Latin-1 would read them,
    # and every curly quote and dash, as C1 controls, which are never text.
    return _with_replacements(raw, "cp1252", "cp1252")


def _decode(raw: bytes) -> tuple[str, str, bool] | None:
    """(text, encoding, whether bytes were replaced), or None for a file that is no text."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            return _with_replacements(raw[len(bom) :], encoding, encoding + "-bom")
    if raw.startswith(_BINARY_MAGIC):
        return None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return _with_replacements(raw, utf16, utf16)
    sample = raw[:65536]
    control_bytes = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    if control_bytes > _BINARY_CONTROL_SHARE * len(sample):
        return None
    return _utf8_or_legacy(raw)


def has_control(text: str) -> bool:
    encoded = text.encode("utf-8")
    # In UTF-8 these bytes stand only for themselves, never inside another character;
    # bytes.translate finds them faster than a scan of the text.
    if len(encoded.translate(None, CONTROL_BYTES)) != len(encoded):
        return True
    return not text.isascii() and not _C1.isdisjoint(text)


def decode_digest(raw: bytes) -> DecodedText | NotText:
    if not raw.strip():
        return NotText("empty", f"no text ({len(raw)} bytes)", sha256_hex(raw))
    decoded = _decode(raw)
    if decoded is None:
        return NotText("binary", f"not text in any known encoding ({len(raw)} bytes)", sha256_hex(raw))
    text, encoding, replaced = decoded
    text = normalize_text(text)
    if not text:
        return NotText("empty", f"only whitespace ({len(raw)} bytes)", sha256_hex(raw))
    return DecodedText(text, encoding, sha256_hex(text.encode("utf-8")), has_control(text), replaced)
