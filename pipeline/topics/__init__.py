"""Topics of the papers: the terms of each paper's title and abstract (pipeline.topics.terms).

The bounds of a term are here, apart from the polars code, so the checks can name them
without importing polars.
"""

MAX_TERM_CHARS = 60
MAX_PHRASE_WORDS = 3
MIN_WORD_CHARS = 3
