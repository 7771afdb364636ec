"""The pandas baseline: a straightforward pandas implementation of the same parse and tables.

What a data scientist would write first: every block of every file in one DataFrame,
vectorized string methods for the header, date line, titles and abstracts, paper ids
from the normalized title, links from a regular expression, and the appearances,
papers and repo_links tables by groupby. It handles the layout of the real (and the
generated) digests, not every hostile input the papertrends reader handles; the
benchmark compares its counts with the warehouse's so the comparison stays honest.
"""

import hashlib
import re
from pathlib import Path

import pandas as pd

HEADER = {"new", "get trending papers in your email inbox!", "subscribe", "byak and the research community"}
_DATE_LINE = r"^[A-Z][a-z]{2,8}\.? \d{1,2}(?:, \d{4})?$"
_ISO_IN_NAME = r"(\d{4}-\d{2}-\d{2})"
_LINK = (
    r"((?:https?://|www\.)[^\s<>\"'{}\\|^`\[\]]+"
    r"|(?<![\w@./-])(?:[a-z0-9-]+\.)+(?:io|com|org|net|ai|cn)(?![\w-])(?:/[^\s<>\"'{}\\|^`\[\]]*)?)"
)


def read_blocks(paths: list[Path]) -> pd.DataFrame:
    frames = []
    for path in paths:
        text = path.read_bytes().decode("utf-8").replace("\r\n", "\n")
        blocks = pd.Series(text.split("\n\n"), dtype="string").str.strip()
        frames.append(pd.DataFrame({"source_name": path.name, "block": range(len(blocks)), "text": blocks}))
    return pd.concat(frames, ignore_index=True)


def parse(paths: list[Path]) -> dict[str, pd.DataFrame]:
    """Entries of the digests, then the appearances, papers and repo_links tables."""
    blocks = read_blocks(paths)
    blocks = blocks[blocks["text"].str.len() > 0]
    blocks = blocks[~blocks["text"].str.lower().isin(HEADER)]
    is_date = blocks["text"].str.match(_DATE_LINE)
    date_lines = blocks[is_date].drop_duplicates("source_name").set_index("source_name")["text"]
    body = blocks[~is_date].copy()
    body["index"] = body.groupby("source_name").cumcount()
    titles = body[body["index"] % 2 == 0].assign(position=lambda frame: frame["index"] // 2 + 1)
    abstracts = body[body["index"] % 2 == 1].assign(position=lambda frame: frame["index"] // 2 + 1)
    entries = titles.merge(abstracts, on=["source_name", "position"], suffixes=("_title", "_abstract"))
    entries = entries.rename(columns={"text_title": "title", "text_abstract": "abstract"})

    # The date: "Mar 12, 2023" carries its year; "Mar 12" takes it from the file name.
    names = pd.Series(date_lines.index, index=date_lines.index)
    name_year = names.str.extract(_ISO_IN_NAME)[0].str[:4]
    line_year = date_lines.str.extract(r", (\d{4})$")[0]
    year = line_year.fillna(name_year)
    month_day = date_lines.str.replace(r", \d{4}$", "", regex=True)
    digest_date = pd.to_datetime(month_day + " " + year, format="%b %d %Y").dt.date
    entries["digest_date"] = entries["source_name"].map(digest_date)

    normalized = (
        entries["title"].str.normalize("NFKC").str.casefold().str.replace(r"[\W_]+", " ", regex=True).str.strip()
    )
    entries["paper_id"] = normalized.map(lambda title: hashlib.sha256(title.encode("utf-8")).hexdigest()[:16])
    entries = entries.sort_values(["digest_date", "source_name", "position"], kind="stable")

    appearances = entries[["source_name", "paper_id", "digest_date", "position"]].reset_index(drop=True)
    papers = entries.groupby("paper_id", sort=False).agg(
        title=("title", "first"),
        abstract=("abstract", "first"),
        first_seen_date=("digest_date", "min"),
        last_seen_date=("digest_date", "max"),
    )
    papers = papers.reset_index().sort_values(["first_seen_date", "paper_id"], ignore_index=True)

    found = entries[["paper_id", "abstract"]].set_index("paper_id")["abstract"].str.extractall(_LINK)[0]
    links = found.reset_index(level="match", drop=True).rename("raw_url").reset_index()
    url = links["raw_url"].str.replace(r"[.,;:!?)'\"*]+$", "", regex=True)
    url = url.str.replace(r"(?:\.git)?/*$", "", regex=True).str.replace(r"[.,;:!?)'\"*]+$", "", regex=True)
    url = url.str.replace(r"^(?:https?://)?", "https://", regex=True, flags=re.IGNORECASE)
    host = url.str.extract(r"^https://([^/:]+)")[0].str.lower()
    links["url"] = "https://" + host + url.str.replace(r"^https://[^/:]+", "", regex=True)
    links["host"] = host
    repo_links = links.drop_duplicates(["paper_id", "url"]).sort_values(["paper_id", "url"], ignore_index=True)
    return {"appearances": appearances, "papers": papers, "repo_links": repo_links}
