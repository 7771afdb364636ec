"""Turn a digest file's bytes into normalized text, or say why it is not text."""

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
# Above this share of control bytes, a file with no BOM is binary.
_BINARY_CONTROL_SHARE = 0.05


@dataclass(frozen=True)
class DecodedText:
    text: str  # normalized: NFC, LF line endings, trailing whitespace stripped
    encoding: str  # the encoding the bytes were read with
    digest_id: str  # sha256 hex of `text` in UTF-8
    has_control_characters: bool  # any of CONTROL_BYTES in `text`


@dataclass(frozen=True)
class NotText:
    reason: str  # "empty" or "binary"
    detail: str
    digest_id: str  # sha256 hex of the raw bytes


def normalize_text(text: str) -> str:
    """NFC, LF line endings, no trailing whitespace on any line or at the end."""
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
    if len(sample) < 4 or len(sample) % 2:
        return None
    even_nuls = sample[0::2].count(0) / (len(sample) // 2)
    odd_nuls = sample[1::2].count(0) / (len(sample) // 2)
    if odd_nuls > 0.3 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.3 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _decode(raw: bytes) -> tuple[str, str] | None:
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom):].decode(encoding), encoding + "-bom"
            except UnicodeDecodeError:
                return None
    if raw.startswith(_BINARY_MAGIC):
        return None
    utf16 = _utf16_without_bom(raw)
    if utf16:
        try:
            return raw.decode(utf16), utf16
        except UnicodeDecodeError:
            return None
    sample = raw[:65536]
    control_bytes = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    if control_bytes > _BINARY_CONTROL_SHARE * len(sample):
        return None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # Legacy captures: Windows-1252 is a superset of Latin-1's printable range;
    # Latin-1 decodes any byte, so it is the last resort, never a failure.
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"


def decode_digest(raw: bytes) -> DecodedText | NotText:
    if not raw.strip():
        return NotText("empty", f"no text ({len(raw)} bytes)", sha256_hex(raw))
    decoded = _decode(raw)
    if decoded is None:
        return NotText("binary", f"not text in any known encoding ({len(raw)} bytes)", sha256_hex(raw))
    text, encoding = decoded
    text = normalize_text(text)
    if not text:
        return NotText("empty", f"only whitespace ({len(raw)} bytes)", sha256_hex(raw))
    encoded = text.encode("utf-8")
    # In UTF-8 these bytes stand only for themselves, never inside another character;
    # bytes.translate finds them several times faster than a regex scan of the text.
    has_control = len(encoded.translate(None, CONTROL_BYTES)) != len(encoded)
    return DecodedText(text, encoding, sha256_hex(encoded), has_control)
