"""The terms of a paper: the words and 2- and 3-word phrases of its title and abstract.

`extract_terms(papers)` reads columns `paper_id`, `title`, `abstract` and gives one row
per (paper_id, term): `paper_id`, `term`, `in_title`, sorted by paper_id then term.
The rules, applied to the title and to the abstract separately (a null is an empty text;
characters are Unicode code points, so a letter with a separate combining accent is two):

1. Lower case: Unicode lower-casing of the whole text. No other normalization (no NFKC).
2. Markup removed, in this order; each removed span is replaced by a line break, so it
   also ends a phrase (patterns as written in `MARKUP`), but for LaTeX accents:
   - LaTeX accents `\\"`, `\\'`, `\\``, `\\^`, `\\~`, `\\=`, `\\.` before an ASCII letter, or
     before one in braces, leave the letter (`schr\\"odinger` -> `schrodinger`, `\\'{e}` -> `e`);
   - display math `$$...$$` (may span lines), then inline math `$...$` (one line, not empty;
     a line break is any of LF, VT, FF, CR, NEL, U+2028, U+2029);
   - LaTeX commands: a backslash, ASCII letters, then any number of `{...}` arguments
     without nested braces, arguments included (`\\emph{x}`, `\\cite{key}`, `\\tau`);
   - markdown links `[text](target)` (text without brackets or line breaks, target without
     parentheses or whitespace): replaced by their text, with a break on each side;
   - HTML tags (`<b>`, `</sub>`, `<br/>`, `<a href="...">`: `<`, optional `/`, an ASCII
     letter and letters/digits, optionally whitespace and anything but `<>`, optional `/`,
     `>`), before URLs so that a tag's URL goes with the tag;
   - URLs: `http://`, `https://` or `www.` up to the next whitespace (Unicode White_Space,
     here and below); then bare hosts such as `github.com/...` or `x.github.io`:
     dot-separated names of `a-z0-9-` ending in `.com`, `.org`, `.net`, `.io`, `.ai`, `.co`
     or `.edu`, starting with `a-z0-9` where no word character precedes (the regex's `\\b`:
     letters, marks, decimal digits, `_`) and ending where no letter, mark, digit or `_`
     follows, with an optional `/path` up to the next whitespace (`data.company`,
     `x.coms` and the `ve.com` of `naïve.com` are no hosts);
   - HTML entities (`&amp;`, `&#39;`, `&#x27;`), after URLs so that one cannot split a URL.
3. Words: maximal runs of letters, combining marks and digits of any script (Unicode
   categories L, M, N), where a single ASCII hyphen between two such characters joins
   (`pre-training`, `state-of-the-art`, `λ-calculus` are one word each). Every other
   character except a space or a tab is a break: punctuation, symbols, `_`, apostrophes,
   line breaks, other dashes, a hyphen not between two word characters.
4. A word is dropped when it has fewer than 3 characters (hyphens included, before
   folding), has no letter once folded (rule 5: a number such as `2024` or `3-4`, or
   the `1990` of `1990s`), or is a stop word: the
   word itself or its folded form (rule 5) is in `STOP_WORDS` (common English words and
   contractions, plus paper boilerplate), so `results` goes with `result`.
5. Plural folding of each kept word, the first rule that applies (length in characters,
   hyphens included):
   - 5 or more characters ending in `ies`: `ies` -> `y` (studies -> study; ties -> tie by the last rule);
   - 5 or more characters ending in `sses`, `ches`, `shes` or `xes`: drop `es`
     (classes -> class, patches -> patch, meshes -> mesh, boxes -> box);
   - 4 or more characters ending in `s` but not `ss`, `us`, `is` or `-s`: drop `s`
     (models -> model; loss, corpus, analysis, llm-s and the 3-letter gas stay).
   A hyphenated word folds at its end only (vision-language-models -> vision-language-model).
   Known misfolds: bias -> bia, biases -> biase, series -> sery, species -> specy,
   movies -> movy, caches -> cach, lens -> len, analyses -> analyse,
   hypotheses -> hypothese; news -> new, a stop word, so news is dropped; gpus, apis
   and cpus stay.
6. Terms: every kept (folded) word, and every 2 or 3 consecutive kept words with only
   spaces or tabs between them in the text after rule 2, joined by one space. So a
   phrase never spans a dropped word, a break character or a removed markup span.
7. A term longer than `MAX_TERM_CHARS` (60) characters, spaces included, is dropped
   (its words and shorter phrases stay).
8. One row per (paper_id, term); `in_title` is true when the term is a term of the title
   (whether or not the abstract has it too).

`subsumed_terms(paper_terms)` gives the terms a report can hide: term t is subsumed when
some longer term u (2 or 3 words) holds t as consecutive whole words and t and u are
terms of exactly the same papers, so u shows everything t would.
"""

import polars as pl

from pipeline.topics import MAX_PHRASE_WORDS, MAX_TERM_CHARS, MIN_WORD_CHARS

_ENGLISH = """
about above across after again against all almost along already also although always among
and another any are around because been before being below between both but can cannot could
did does doing done down due during each either else enough etc even ever every few for from
further had has have having her here hers herself him himself his how however into its itself
just least less let like many may might more most much must neither nor not now off often once
one only onto other others otherwise our ours ourselves out over own per rather same she should
since some still such than that the their theirs them themselves then there thereby therefore
these they this those though through throughout thus too toward towards under until upon very
via was were what when where whereas whether which while who whom whose why will with within
without would yet you your yours
ain aren couldn didn doesn don hadn hasn haven isn mightn mustn needn shan shouldn wasn weren won wouldn
"""
# Words every abstract uses, whatever its topic. Singular forms: rule 4 also drops plurals.
_BOILERPLATE = """
able achieve achieved achieving additionally address approach based demonstrate demonstrated
different effective effectively enable enabling existing experiment experimental extensive
first furthermore include including introduce introduced leverage leveraging method moreover
new novel outperform outperformed outperforming paper particular particularly present
presented propose proposed provide provided recent recently respectively result several show
shown significant significantly specifically three two use used using various well work
"""
STOP_WORDS: frozenset[str] = frozenset((_ENGLISH + _BOILERPLATE).split())

_BREAK = "\n"
# What "one line" excludes: the mandatory line breaks of Unicode (LF, VT, FF, CR, NEL, LS, PS).
_LINE_BREAKS = r"\n\x0b\x0c\r\x85\u2028\u2029"
# A bare host starts at a word boundary (`\b`), so no host is cut out of a word's middle
# (`naïve.com`), and ends where no word character (or `_`) follows: the character after
# it, if any, is matched and put back (group 1), as the regex engine has no look-ahead.
_BARE_HOST = r"\b[a-z0-9](?:[a-z0-9-]*\.)+(?:com|org|net|io|ai|co|edu)(?:/\S*|([^\p{L}\p{M}\p{N}_])|$)"
# (pattern, replacement) applied in order to the lower-cased text; see rule 2.
MARKUP: tuple[tuple[str, str], ...] = (
    (r"\\[\"'`^~=.](?:([a-z])|\{([a-z])\})", "${1}${2}"),
    (r"\$\$[^$]*\$\$", _BREAK),
    (rf"\$[^${_LINE_BREAKS}]+\$", _BREAK),
    (r"\\[a-z]+(?:\{[^{}]*\})*", _BREAK),
    (rf"\[([^\[\]{_LINE_BREAKS}]*)\]\([^()\s]*\)", _BREAK + "${1}" + _BREAK),
    (r"</?[a-z][a-z0-9]*(?:\s[^<>]*)?/?>", _BREAK),
    (r"(?:https?://|www\.)\S*", _BREAK),
    (_BARE_HOST, _BREAK + "${1}"),
    (r"&(?:[a-z][a-z0-9]*|#[0-9]+|#x[0-9a-f]+);", _BREAK),
)

_WORD_CHARS = r"\p{L}\p{M}\p{N}"
WORD = rf"[{_WORD_CHARS}]+(?:-[{_WORD_CHARS}]+)*"
# A word, or one character that is neither a word's nor a space or tab: a break.
_PIECE = rf"{WORD}|[^ \t{_WORD_CHARS}]"

TERMS_SCHEMA = {"paper_id": pl.String, "term": pl.String, "in_title": pl.Boolean}


def fold_plural(word: pl.Expr) -> pl.Expr:
    """Rule 5: the singular of a lower-case word by suffix."""
    length = word.str.len_chars()
    drops_es = pl.any_horizontal(word.str.ends_with(suffix) for suffix in ("sses", "ches", "shes", "xes"))
    keeps_s = pl.any_horizontal(word.str.ends_with(suffix) for suffix in ("ss", "us", "is", "-s"))
    return (
        pl.when((length >= 5) & word.str.ends_with("ies"))
        .then(word.str.head(-3) + "y")
        .when((length >= 5) & drops_es)
        .then(word.str.head(-2))
        .when((length >= 4) & word.str.ends_with("s") & ~keeps_s)
        .then(word.str.head(-1))
        .otherwise(word)
    )


def clean_text(text: pl.Expr) -> pl.Expr:
    """Rules 1 and 2: lower case, markup replaced by breaks."""
    cleaned = text.fill_null("").str.to_lowercase()
    for pattern, replacement in MARKUP:
        cleaned = cleaned.str.replace_all(pattern, replacement)
    return cleaned


def _is_kept(piece: pl.Expr, word: pl.Expr) -> pl.Expr:
    """Rule 4: the piece is a word, long enough, its folded form has a letter, and neither is a stop word."""
    return (
        piece.str.contains(rf"^[{_WORD_CHARS}]")
        & (piece.str.len_chars() >= MIN_WORD_CHARS)
        & word.str.contains(r"\p{L}")
        & ~piece.is_in(STOP_WORDS)
        & ~word.is_in(STOP_WORDS)
    )


def extract_terms(papers: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per (paper_id, term) of the papers' titles and abstracts; see the module docstring.

    Rules 4 and 5 are applied once per distinct piece (the vocabulary), and terms are sorted
    and deduplicated as word numbers (a word's rank in the sorted vocabulary) before they are spelled.
    """
    frame = papers.lazy().select(pl.col("paper_id").cast(pl.String), pl.col("title", "abstract").cast(pl.String)).collect()
    paper_ids = frame.get_column("paper_id").drop_nulls().unique().sort()
    paper = pl.col("paper_id").rank("dense")  # 1 + the paper_id's index in paper_ids
    texts = pl.concat(
        [
            frame.select(paper=paper, in_title=pl.lit(True), text=pl.col("title")),
            frame.select(paper=paper, in_title=pl.lit(False), text=pl.col("abstract")),
        ]
    )
    # A break first in every text, so a run of kept words never crosses from one text into the next.
    piece_lists = (_BREAK + clean_text(pl.col("text"))).str.extract_all(_PIECE)
    pieces = texts.select("paper", "in_title", piece=piece_lists).explode("piece")

    vocabulary = (
        pieces.select(pl.col("piece").unique())
        .with_columns(word=fold_plural(pl.col("piece")))
        .filter(_is_kept(pl.col("piece"), pl.col("word")))
        .with_columns(number=(pl.col("word").rank("dense") - 1).cast(pl.UInt32))
    )
    words = vocabulary.get_column("word").unique().sort()  # words[number]
    number = pl.col("piece").replace_strict(vocabulary["piece"], vocabulary["number"], default=None, return_dtype=pl.UInt32)
    # Every piece that is not a kept word starts a new run: kept words adjacent in the text share a run.
    kept = (
        pieces.select("paper", "in_title", number=number)
        .with_columns(run=pl.col("number").is_null().cum_sum())
        .drop_nulls("number")
    )
    # back{k}: the number of the word k words before, when it is in the same run.
    back = [
        pl.when(pl.col("run").shift(k) == pl.col("run")).then(pl.col("number").shift(k)).alias(f"back{k}")
        for k in range(MAX_PHRASE_WORDS)
    ]
    kept = kept.select("paper", "in_title", *back)
    # A term of n words ends at each word with n - 1 words before it in its run: word{i} is its (i+1)th word.
    slots = [f"word{i}" for i in range(MAX_PHRASE_WORDS)]
    grams = pl.concat(
        [
            kept.filter(pl.col(f"back{length - 1}").is_not_null()).select(
                "paper",
                "in_title",
                *[
                    (pl.col(f"back{length - 1 - i}") if i < length else pl.lit(None, pl.UInt32)).alias(slot)
                    for i, slot in enumerate(slots)
                ],
            )
            for length in range(1, MAX_PHRASE_WORDS + 1)
        ]
    )
    # Word numbers follow the words' order and a shorter term's missing words sort first, so
    # sorting the numbers sorts the spelled terms (a space sorts before any word character).
    # Sorted with a title occurrence first, the first row of each (paper, term) is the one kept.
    keys = ["paper", *slots]
    terms = grams.sort(
        [*keys, "in_title"], descending=[False] * len(keys) + [True], nulls_last=[True] + [False] * MAX_PHRASE_WORDS + [False]
    )
    terms = terms.filter(pl.any_horizontal(pl.col(key).ne_missing(pl.col(key).shift(1)) for key in keys))
    term = pl.concat_str([pl.lit(words).gather(pl.col(slot)) for slot in slots], separator=" ", ignore_nulls=True)
    return (
        terms.select(paper_id=pl.lit(paper_ids).gather(pl.col("paper") - 1), term=term, in_title="in_title")
        .filter(pl.col("term").str.len_chars() <= MAX_TERM_CHARS)
        .cast(TERMS_SCHEMA)  # type: ignore[arg-type]
    )


def subsumed_terms(paper_terms: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Terms t with a longer term u holding t as consecutive words, t and u of exactly the same papers.

    Reads `paper_id` and `term` (terms of at most `MAX_PHRASE_WORDS` words, as extract_terms
    gives); returns column `term`, sorted. The shared papers are counted, not assumed: the
    rule holds for any subset of rows, not only a whole extract_terms result.
    """
    pairs = paper_terms.lazy().select(pl.col("paper_id").cast(pl.String), pl.col("term").cast(pl.String)).unique()
    papers_per_term = pairs.group_by("term").agg(papers=pl.len())
    words = pl.col("longer").str.split(" ")
    word_count = words.list.len()
    # Every run of consecutive words shorter than the whole phrase.
    shorter = [
        pl.when((start + length <= word_count) & (word_count > length)).then(words.list.slice(start, length).list.join(" "))
        for length in range(1, MAX_PHRASE_WORDS)
        for start in range(MAX_PHRASE_WORDS - length + 1)
    ]
    shared = (
        pairs.filter(pl.col("term").str.contains(" "))
        .select("paper_id", longer="term")
        .with_columns(term=pl.concat_list(shorter))
        .explode("term")
        .drop_nulls("term")
        .unique()
        .join(pairs, on=["paper_id", "term"], how="semi")
        .group_by("term", "longer")
        .agg(shared_papers=pl.len())
    )
    subsumed = (
        shared.join(papers_per_term, on="term")
        .join(papers_per_term.select(longer="term", longer_papers="papers"), on="longer")
        .filter((pl.col("shared_papers") == pl.col("papers")) & (pl.col("papers") == pl.col("longer_papers")))
        .select("term")
        .unique()
        .sort("term")
    )
    return subsumed.collect()
