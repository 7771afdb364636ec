"""Small builders for test digests and table readers."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.table_parts import read_published
from pipeline.config import Layout

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "warehouse" / "raw"
HEADER = ["new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community"]


def abstract(seed: str, sentences: int = 12) -> str:
    """An abstract-shaped block: several sentences, well over a title's length."""
    return " ".join(f"Sentence {n} about {seed} shows a clear and repeatable effect." for n in range(sentences))


def links_by_definition(text: str) -> list:
    """Every distinct link of every whitespace-delimited word: what extract_links must give
    while it reads only the words its hints point at."""
    from pipeline.read.links import _LINK, canonicalize

    found: dict[str, object] = {}
    for word in text.split():
        for match in _LINK.finditer(word):
            link = canonicalize(match.group(0))
            if link:
                found.setdefault(link.url, link)
    return list(found.values())


def render(date_line: str | None, entries: list[tuple[str, str]], header: list[str] | None = None) -> str:
    """A digest in the layout of DESIGN.md: blocks separated by one blank line."""
    blocks = list(HEADER if header is None else header)
    if date_line is not None:
        blocks.append(date_line)
    for title, text in entries:
        blocks += [title, text]
    return "\n\n".join(blocks)


def read_table(layout: Layout, table: str) -> pa.Table:
    return read_published(layout, table)


def rows(layout: Layout, table: str) -> list[dict]:
    return read_table(layout, table).to_pylist()
