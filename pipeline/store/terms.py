"""The terms of the papers, kept in the staging database between builds.

A paper is tokenized when its text (title and abstract as published) or the term rules
(pipeline/topics/) changed since it last was; the others keep their staged terms. The
staged terms of every paper are then exactly those of its current text: the
deletions and insertions are one transaction, so a crash leaves the previous state.
"""

import contextlib

import duckdb
import polars as pl

from pipeline.store.versions import terms_fingerprint
from pipeline.topics.terms import extract_terms

# Papers tokenized per polars call: bounds the memory of a first build of a long history.
TOKENIZE_BATCH = 5_000

_TEXTS_SQL = """
CREATE TEMP TABLE paper_texts AS
SELECT paper_id, title, abstract, sha256(concat_ws(chr(31), title, abstract)) AS text_sha256
FROM paper_rows
"""
# Tokenized papers that are gone, or whose text or term rules changed.
_OUTDATED_SQL = """
CREATE TEMP TABLE outdated_papers AS
SELECT t.paper_id
FROM tokenized_papers t
WHERE NOT EXISTS (
    SELECT 1 FROM paper_texts p
    WHERE p.paper_id = t.paper_id AND p.text_sha256 = t.text_sha256 AND t.terms_fingerprint = $fingerprint
)
"""
_UNTOKENIZED_SQL = """
SELECT paper_id, title, abstract, text_sha256
FROM paper_texts
ANTI JOIN tokenized_papers USING (paper_id)
ORDER BY paper_id
LIMIT $batch
"""


def update_terms(con: duckdb.DuckDBPyConnection) -> None:
    """Bring staged_terms up to the papers of the temp table `paper_rows`, in one transaction."""
    fingerprint = {"fingerprint": terms_fingerprint()}
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(_TEXTS_SQL)
        con.execute(_OUTDATED_SQL, fingerprint)
        con.execute("DELETE FROM staged_terms WHERE paper_id IN (SELECT paper_id FROM outdated_papers)")
        con.execute("DELETE FROM tokenized_papers WHERE paper_id IN (SELECT paper_id FROM outdated_papers)")
        # Batch after batch: the papers of a batch are tokenized when the next is asked for.
        while (papers := pl.DataFrame(con.sql(_UNTOKENIZED_SQL, params={"batch": TOKENIZE_BATCH}).to_arrow_table())).height:
            terms = extract_terms(papers.select("paper_id", "title", "abstract")).to_arrow()
            con.register("new_terms", terms)
            con.execute("INSERT INTO staged_terms BY NAME SELECT paper_id, term, in_title FROM new_terms")
            con.unregister("new_terms")
            con.register("new_papers", papers.select("paper_id", "text_sha256").to_arrow())
            con.execute("INSERT INTO tokenized_papers SELECT paper_id, text_sha256, $fingerprint FROM new_papers", fingerprint)
            con.unregister("new_papers")
        con.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(duckdb.TransactionException):
            con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS paper_texts")
        con.execute("DROP TABLE IF EXISTS outdated_papers")
