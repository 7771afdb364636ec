"""Explicit Arrow schemas of the staging files and the published tables.

Each column carries its description, used for the Dagster column schema and
checked against docs/data-dictionary.md by the tests.
"""

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True

    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable, metadata={"description": self.description})


def _schema(columns: list[Column]) -> pa.Schema:
    return pa.schema([column.field() for column in columns])


UTC_TIMESTAMP = pa.timestamp("us", tz="UTC")
# A list of names, as Parquet files hold it (its items are called "element" there).
NAMES = pa.list_(pa.field("element", pa.string()))

LINK_STRUCT = pa.struct(
    [
        ("url", pa.string()),
        ("raw_url", pa.string()),
        ("host", pa.string()),
        ("kind", pa.string()),
        ("owner", pa.string()),
        ("repo", pa.string()),
    ]
)

PUBLISHED_COLUMNS: dict[str, list[Column]] = {
    "digests": [
        Column("digest_id", pa.string(), "sha256 (hex) of the normalized text (NFC, LF, trailing whitespace and a leading BOM or zero-width run stripped); of the raw bytes for a file that is not text; of `unreadable`, a NUL byte and the file name for one that could not be read", False),
        Column("source_name", pa.string(), "file name, relative to the digests directory (key)", False),
        Column("date_line", pa.string(), "the date line as written, null when the digest has no valid one"),
        Column("digest_date", pa.date32(), "resolved date of the digest, null when no date could be resolved"),
        Column("date_source", pa.string(), "where the year came from: date_line, capture, file_name, config or reference_year"),
        Column("entry_count", pa.int32(), "entries (papers) read from the file", False),
        Column("reject_count", pa.int32(), "blocks of the file that are no entry (see rejects)", False),
        Column("byte_size", pa.int64(), "size of the raw file in bytes; 0 when it could not be read", False),
        Column("parser_version", pa.string(), "version of the reader that parsed the file", False),
        Column("ingested_at", UTC_TIMESTAMP, "when this warehouse first ingested this content (UTC); kept by rebuilds", False),
        Column("duplicate_of", pa.string(), "source_name of the first file with the same digest_id; null for the digest itself"),
        Column("status", pa.string(), "ok, duplicate, empty, binary, undated, unreadable or unrecognized", False),
        Column("error", pa.string(), "why a digest yielded no entries, null when status is ok or duplicate"),
        Column("encoding", pa.string(), "text encoding the file was read with (utf-8, utf-8-bom, utf-16-le-bom, cp1252 ...)"),
        Column("block_count", pa.int32(), "blocks (runs of non-blank lines) in the file", False),
        Column("header_block_count", pa.int32(), "blocks of page header and chrome outside the entries (new, Subscribe ..., front matter, page headings) in the file", False),
        Column("format", pa.string(), "the capture's format, told from its content: sample, markdown, markdown-ref, text-export, trending, daily-papers-json or unrecognized", False),
        Column("listing", pa.string(), "the page captured: daily, weekly, monthly, trending, search or unknown", False),
        Column("entry_block_count", pa.int32(), "blocks read into entries (2 per entry in the sample layout; a card's blocks in others)", False),
    ],
    "papers": [
        Column("paper_id", pa.string(), "first 16 hex digits of the sha256 of the normalized title (key)", False),
        Column("title", pa.string(), "title as first seen", False),
        Column("abstract", pa.string(), "abstract as first seen", False),
        Column("arxiv_id", pa.string(), "arXiv identifier (2303.12345) when a capture carries one"),
        Column("first_seen_date", pa.date32(), "first digest_date the paper appears on", False),
        Column("last_seen_date", pa.date32(), "last digest_date the paper appears on", False),
        Column("authors", NAMES, "author names, as the first capture listing them gave them; null when none did"),
        Column("keywords", NAMES, "the daily-papers JSON's ai_keywords, from the first capture giving them; null when none did"),
    ],
    "appearances": [
        Column("digest_id", pa.string(), "the digest the paper appears in", False),
        Column("paper_id", pa.string(), "the paper", False),
        Column("digest_date", pa.date32(), "date of the digest", False),
        Column("position", pa.int32(), "1-based rank of the paper in the digest", False),
        Column("line", pa.int32(), "1-based line of the title in the raw file (the item's 1-based index in a JSON digest)", False),
        Column("upvotes", pa.int32(), "upvotes the card showed that day; null when the capture shows none"),
        Column("comments", pa.int32(), "comments the card showed that day; null when the capture shows none"),
        Column("arxiv_id", pa.string(), "arXiv id this card named; papers.arxiv_id is the first one seen"),
    ],
    "repo_links": [
        Column("paper_id", pa.string(), "the paper whose abstract or card holds the link", False),
        Column("url", pa.string(), "canonical url: https, lower-case host, no trailing punctuation, slash or .git", False),
        Column("raw_url", pa.string(), "the link as first written", False),
        Column("host", pa.string(), "lower-case host name", False),
        Column("kind", pa.string(), "github, gitlab, gitee, bitbucket, huggingface, github_pages, anonymous_review, project_page or other", False),
        Column("owner", pa.string(), "account that owns the repository or pages site, where the host has one"),
        Column("repo", pa.string(), "repository (or dataset, model, space) name, where the host has one"),
        Column("source", pa.string(), "where the link was first seen: abstract, or card (the card's GitHub badge or project page)", False),
    ],
    "rejects": [
        Column("digest_id", pa.string(), "the digest the block comes from", False),
        Column("source_name", pa.string(), "file the block comes from", False),
        Column("line", pa.int32(), "1-based line where the block starts in the raw file", False),
        Column("reason", pa.string(), "why the block is no entry (docs/reading.md lists the reasons)", False),
        Column("raw_text", pa.string(), "the block's text, normalized as for digest_id", False),
        Column("detail", pa.string(), "a human-readable explanation", False),
    ],
    "repo_stars": [
        Column("url", pa.string(), "canonical url of the repository a card or the JSON showed stars for", False),
        Column("day", pa.date32(), "digest_date of the captures that showed them (any listing; byte-identical copies count once)", False),
        Column("stars", pa.int64(), "the stars shown that day (the largest, if digests of the day differ)", False),
    ],
    "paper_terms": [
        Column("paper_id", pa.string(), "the paper", False),
        Column("term", pa.string(), "a word or 2- or 3-word phrase of its title or abstract, as docs/topics.md defines them", False),
        Column("in_title", pa.bool_(), "the term is in the title (else only in the abstract)", False),
    ],
}
PUBLISHED_SCHEMAS = {table: _schema(columns) for table, columns in PUBLISHED_COLUMNS.items()}
TABLES = tuple(PUBLISHED_COLUMNS)

# Per-digest staging: what the parse of one file produced, before consolidation.
STAGED_DIGEST_SCHEMA = pa.schema(
    [
        field
        for field in PUBLISHED_SCHEMAS["digests"]
        if field.name not in ("ingested_at", "duplicate_of")
    ]
    + [
        pa.field("parsed_at", UTC_TIMESTAMP, nullable=False),
        pa.field("raw_sha256", pa.string(), nullable=False),
        pa.field("config_year", pa.int32()),
    ]
)
STAGED_ENTRY_SCHEMA = pa.schema(
    [
        pa.field("digest_id", pa.string(), nullable=False),
        pa.field("source_name", pa.string(), nullable=False),
        pa.field("digest_date", pa.date32()),
        pa.field("position", pa.int32(), nullable=False),
        pa.field("line", pa.int32(), nullable=False),
        pa.field("paper_id", pa.string(), nullable=False),
        pa.field("title", pa.string(), nullable=False),
        pa.field("abstract", pa.string(), nullable=False),
        pa.field("arxiv_id", pa.string()),
        pa.field("links", pa.list_(LINK_STRUCT), nullable=False),
    ]
)
STAGED_REJECT_SCHEMA = PUBLISHED_SCHEMAS["rejects"]
# The schema of each kind of staged file (pipeline.staging.STAGED_KINDS).
STAGED_SCHEMAS = {"digests": STAGED_DIGEST_SCHEMA, "entries": STAGED_ENTRY_SCHEMA, "rejects": STAGED_REJECT_SCHEMA}


def data_dictionary_markdown() -> str:
    """docs/data-dictionary.md's tables, generated so that they cannot drift from the schemas."""
    parts = []
    for table, columns in PUBLISHED_COLUMNS.items():
        parts.append(f"#### `{table}`\n\n| column | type | null | meaning |\n|---|---|---|---|")
        for column in columns:
            nullable = "yes" if column.nullable else "no"
            parts.append(f"| `{column.name}` | {column.type} | {nullable} | {column.description} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    print(data_dictionary_markdown(), end="")
