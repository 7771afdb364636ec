"""The terms of a paper (pipeline/topics/terms.py): each rule of the module docstring on
small inputs, the expected terms written out by hand; subsumed_terms against hand-made
tables; and the plain-Python baseline of benchmarks/terms_baseline.py gives the same rows
as extract_terms on a few hundred generated papers.
"""

import random
import sys
import unicodedata

import polars as pl
import pytest

from pipeline.topics.terms import MAX_TERM_CHARS, STOP_WORDS, TERMS_SCHEMA, extract_terms, subsumed_terms
from tests.helpers import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import terms_baseline

PAPERS_SCHEMA = {"paper_id": pl.String, "title": pl.String, "abstract": pl.String}


def papers(*rows: tuple[str, str | None, str | None]) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=PAPERS_SCHEMA, orient="row")


def terms_of(abstract: str | None, title: str | None = None) -> set[str]:
    """The terms of one paper; the rows come sorted by term, one per term."""
    found = extract_terms(papers(("p", title, abstract)))["term"].to_list()
    assert found == sorted(set(found))
    return set(found)


# --- 1. lower case --------------------------------------------------------------------------


def test_text_is_lower_cased_in_any_script_without_other_normalization():
    assert terms_of("GRAPH Networks") == {"graph", "graph network", "network"}
    assert terms_of("ÉTUDE ΔΕΛΤΑ") == {"étude", "étude δελτα", "δελτα"}
    # No NFKC: the ligature ﬁ stays one character, and the word is not "fine-tuning".
    assert terms_of("ﬁne-tuning") == {"ﬁne-tuning"}
    assert terms_of("The ARE Uses") == set()  # stop words are found after lower-casing


# --- 2. markup ------------------------------------------------------------------------------


def test_display_math_is_removed_across_lines_and_breaks_the_phrase():
    assert terms_of("graph $$alpha beta$$ model") == {"graph", "model"}
    assert terms_of("graph $$alpha\nbeta$$ model") == {"graph", "model"}


LINE_BREAKS = ["\n", "\x0b", "\x0c", "\r", "\r\n", "\x85", "\u2028", "\u2029"]


def test_inline_math_is_removed_on_one_line_only():
    assert terms_of("graph $alpha beta$ model") == {"graph", "model"}
    # `$$` alone is not empty inline math: two break characters.
    assert terms_of("graph $$ model") == {"graph", "model"}


@pytest.mark.parametrize("line_break", LINE_BREAKS, ids=["LF", "VT", "FF", "CR", "CRLF", "NEL", "LS", "PS"])
def test_inline_math_and_link_text_end_at_any_line_break(line_break):
    # Across a line break it is no math: the dollars are breaks, the words stay.
    assert terms_of(f"graph $alpha{line_break}beta$ model") == {"graph", "alpha", "beta", "model"}
    # No link either: the brackets are breaks, the URL rule takes the target.
    assert terms_of(f"[graph{line_break}models](https://x.org/a)") == {"graph", "model"}


def test_latex_accents_leave_their_letter():
    assert terms_of(r'Schr\"odinger bridge, Fr\'echet distance, na\"{\i}ve na\"ive G\"{O}del') == {
        "schrodinger", "schrodinger bridge", "bridge", "frechet", "frechet distance", "distance",
        "naive", "godel", "naive godel",
    }  # fmt: skip
    # Every accent; the letter stays part of its word, no break.
    assert terms_of(r"a\'b\`c\^d\~e\=f\.g") == {"abcdefg"}
    # Not an accent: a letter command (rule 3's), or an accent before no ASCII letter.
    assert terms_of(r"graph \v{s}ipka model") == {"graph", "ipka", "ipka model", "model"}
    assert terms_of(r'graph m\"{} model') == {"graph", "model"}


def test_latex_commands_are_removed_with_their_arguments():
    assert terms_of(r"\emph{graph} neural") == {"neural"}
    assert terms_of(r"graph \cite{smith2020}{page} model") == {"graph", "model"}
    assert terms_of(r"graph \Delta model") == {"graph", "model"}  # lower-cased first
    assert terms_of(r"\tau-leaping") == {"leaping"}  # the command ends at the hyphen
    # Nested braces: only the command name goes; the braces are breaks.
    assert terms_of(r"\textbf{deep {nested} words}") == {"deep", "nested", "word"}
    # A backslash before a non-letter is a break character.
    assert terms_of(r"graph\_model") == {"graph", "model"}


def test_markdown_links_keep_their_text_between_breaks():
    assert terms_of("neural [graph models](https://x.org/a) training") == {
        "neural", "graph", "graph model", "model", "training",
    }  # fmt: skip
    # A target with a space is no link: brackets are breaks, the URL rule takes the target.
    assert terms_of("[graph models](https://x.org/a b)") == {"graph", "graph model", "model"}


def test_urls_are_removed_up_to_whitespace():
    assert terms_of("graph https://example.org/a_b?q=1 model") == {"graph", "model"}
    assert terms_of("graph HTTP://Example.org/Path model") == {"graph", "model"}
    assert terms_of("graph www.example.net/deep-learning model") == {"graph", "model"}
    # Entities go after URLs: one cannot cut a URL short.
    assert terms_of("graph https://x.org/?q=1&amp;topic=vision model") == {"graph", "model"}


def test_bare_hosts_are_removed_only_where_no_word_character_follows():
    assert terms_of("code github.com/user/repo-name today") == {"code", "today"}
    assert terms_of("project page: vision-lab.github.io, today") == {"project", "page", "project page", "today"}
    assert terms_of("graph example.com model") == {"graph", "model"}  # the space stays: still a break
    assert terms_of("graph example.com") == {"graph"}  # at the end of the text
    assert terms_of("data.company") == {"data", "company"}
    assert terms_of("data.coms") == {"data", "com"}
    assert terms_of("example.coé") == {"example", "coé"}  # a letter of any script follows
    assert terms_of("example.co\u0301") == {"example", "co\u0301"}  # a combining mark follows
    assert terms_of("example.com_x") == {"example", "com"}  # `_` follows
    assert terms_of("graph café.com") == {"graph", "café", "graph café", "com"}  # names are a-z0-9- only


def test_bare_hosts_start_where_no_word_character_precedes():
    # Not `ve.com` or `oles.com` out of the middle of a word: no host, every word stays.
    assert terms_of("graph naïve.com model") == {"graph", "naïve", "graph naïve", "com", "com model", "model"}
    assert terms_of("graph écoles.com model") == {"graph", "école", "graph école", "com", "com model", "model"}
    assert terms_of("graph foo_bar.com") == {"graph", "foo", "graph foo", "bar", "com"}  # `_` is a word character
    # A hyphen or a space is no word character: the host after it goes.
    assert terms_of("graph naïve-x.com model") == {"graph", "naïve", "graph naïve", "model"}
    assert terms_of("graph a.com b.com model") == {"graph", "model"}  # hosts one space apart


def test_html_tags_and_entities_are_removed():
    assert terms_of("graph <b>neural</b> model") == {"graph", "neural", "model"}
    # Tags go before URLs: the URL of a tag goes with it.
    assert terms_of('graph <a href="https://x.org">link</a> <br/> model') == {"graph", "link", "model"}
    assert terms_of("graph&amp;model, graph&#39;model, graph&#x27;model &AMP; end") == {"graph", "model", "end"}
    # `<` followed by a space opens no tag; an unclosed entity is a break and a word.
    assert terms_of("alpha < beta gamma > delta") == {"alpha", "beta", "beta gamma", "gamma", "delta"}
    assert terms_of("graph &unknown model") == {"graph", "unknown", "unknown model", "model"}
    # Anything up to `>` after the tag name and a space is the tag's.
    assert terms_of("alpha <beta gamma> delta") == {"alpha", "delta"}


# --- 3. words -------------------------------------------------------------------------------


def test_a_single_ascii_hyphen_between_word_characters_joins():
    assert terms_of("state-of-the-art pre-training") == {"state-of-the-art", "pre-training", "state-of-the-art pre-training"}
    assert terms_of("λ-calculus gpt-4") == {"λ-calculus", "gpt-4", "λ-calculus gpt-4"}
    assert terms_of("graph--model") == {"graph", "model"}
    assert terms_of("-graph model-") == {"graph", "graph model", "model"}  # a hyphen at an end is a break
    assert terms_of("graph–model, graph—model, graph\u2010model") == {"graph", "model"}  # other dashes break


def test_word_characters_are_letters_marks_and_digits_of_any_script():
    assert terms_of("日本語 テキスト") == {"日本語", "テキスト", "日本語 テキスト"}
    assert terms_of("e\u0301tude resnet50") == {"e\u0301tude", "resnet50", "e\u0301tude resnet50"}
    assert terms_of("model's accuracy, model’s graph_model") == {"model", "accuracy", "graph"}


def test_only_spaces_and_tabs_join_words_into_a_phrase():
    assert terms_of("graph  \t model") == {"graph", "model", "graph model"}
    assert terms_of("graph\nmodel, graph\u00a0model, graph\u2003model, graph\rmodel") == {"graph", "model"}


# --- 4. dropped words -----------------------------------------------------------------------


def test_words_of_fewer_than_three_characters_are_dropped_and_break_phrases():
    assert terms_of("xy graph") == {"graph"}
    assert terms_of("gan graph") == {"gan", "graph", "gan graph"}
    assert terms_of("graph xy model") == {"graph", "model"}
    assert terms_of("a-b") == {"a-b"}  # three characters, the hyphen counted
    assert terms_of("e\u0301 e\u0301t") == {"e\u0301t"}  # a combining mark counts as a character


def test_words_without_a_letter_are_dropped():
    assert terms_of("graph 2024 model") == {"graph", "model"}
    assert terms_of("3-4 ٢٠٢٤ ⅫⅫⅫ ²³⁴") == set()  # digits of other scripts, roman numerals
    assert terms_of("100k 3-d") == {"100k", "3-d", "100k 3-d"}  # one letter is enough
    # Checked once folded: a plural of a number is a number.
    assert terms_of("graph 1990s model 3-4s") == {"graph", "model"}
    assert terms_of("2020ies") == {"2020y"}  # folded to a letter


def test_stop_words_and_their_plurals_are_dropped():
    assert terms_of("the graph of the models") == {"graph", "model"}
    assert terms_of("graph results model") == {"graph", "model"}  # results -> result, a stop word
    assert terms_of("uses approaches papers others don't news") == set()
    assert terms_of("ain't mightn't mustn't needn't shan't") == set()  # contraction stems
    assert {"the", "result", "approach", "don", "new"} <= STOP_WORDS
    # A stop word joined by a hyphen is part of a word.
    assert terms_of("the-art") == {"the-art"}


# --- 5. plural folding ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "folded"),
    [
        # ies -> y at 5 or more characters; 4-character "ties" falls to the last rule.
        ("studies", "study"), ("flies", "fly"), ("ties", "tie"), ("lies", "lie"),
        # sses, ches, shes, xes: drop es, at 5 or more characters.
        ("classes", "class"), ("bosses", "boss"), ("patches", "patch"), ("meshes", "mesh"), ("boxes", "box"),
        ("axes", "axe"),  # 4 characters: the last rule
        # s, at 4 or more characters, unless ss, us or is.
        ("models", "model"), ("gans", "gan"), ("gas", "gas"), ("loss", "loss"), ("corpus", "corpus"),
        ("analysis", "analysis"), ("gpus", "gpus"), ("apis", "apis"),
        # The documented misfolds.
        ("bias", "bia"), ("biases", "biase"), ("series", "sery"), ("species", "specy"), ("movies", "movy"),
        ("caches", "cach"), ("lens", "len"), ("analyses", "analyse"), ("hypotheses", "hypothese"),
        # Hyphenated words fold at their end; other scripts have other plurals.
        ("vision-language-models", "vision-language-model"), ("cross-entropies", "cross-entropy"),
        ("multi-class", "multi-class"), ("λόγος", "λόγος"),
        # A hyphen before the final s: no plural (folding would end the word in a hyphen).
        ("llm-s", "llm-s"), ("reverse-s", "reverse-s"),
    ],
)  # fmt: skip
def test_plural_folding(word, folded):
    assert terms_of(word) == {folded}


def test_singular_and_plural_are_one_term():
    assert terms_of("model models MODELS") == {"model", "model model", "model model model"}


# --- 6. phrases -----------------------------------------------------------------------------


def test_phrases_are_two_and_three_consecutive_kept_words():
    assert terms_of("alpha beta gamma delta") == {
        "alpha", "beta", "gamma", "delta", "alpha beta", "beta gamma", "gamma delta", "alpha beta gamma", "beta gamma delta",
    }  # fmt: skip


def test_phrases_never_span_a_break():
    assert terms_of("graph of model") == {"graph", "model"}  # a dropped word
    assert terms_of("graph, model. Graph; model") == {"graph", "model"}  # punctuation
    assert terms_of("graph <i>model</i>") == {"graph", "model"}  # markup


def test_phrases_never_span_the_title_and_the_abstract_or_two_papers():
    frame = papers(("p1", "Alpha Beta", "gamma delta"), ("p2", "epsilon", "zeta"))
    assert extract_terms(frame).rows() == [
        ("p1", "alpha", True), ("p1", "alpha beta", True), ("p1", "beta", True),
        ("p1", "delta", False), ("p1", "gamma", False), ("p1", "gamma delta", False),
        ("p2", "epsilon", True), ("p2", "zeta", False),
    ]  # fmt: skip


# --- 7. longest term ------------------------------------------------------------------------


def test_terms_of_60_characters_stay_and_of_61_go():
    assert MAX_TERM_CHARS == 60
    assert terms_of("q" * 60) == {"q" * 60}
    assert terms_of("q" * 61) == set()
    left, right = "k" * 29, "v" * 30  # 29 + space + 30 = 60
    assert terms_of(f"{left} {right}") == {left, right, f"{left} {right}"}
    longer = "v" * 31
    assert terms_of(f"{left} {longer}") == {left, longer}  # its words stay
    a, b, c = "k" * 19, "v" * 19, "z" * 20  # 19 + 1 + 19 + 1 + 20 = 60
    assert terms_of(f"{a} {b} {c}") == {a, b, c, f"{a} {b}", f"{b} {c}", f"{a} {b} {c}"}
    assert terms_of(f"{a} {b} {c}z") == {a, b, c + "z", f"{a} {b}", f"{b} {c}z"}


# --- 8. rows --------------------------------------------------------------------------------


def test_one_row_per_paper_and_term_in_title_when_the_title_has_it():
    frame = papers(("p2", "Graph models", "Graph models, graph models and graphs."), ("p1", None, "graph"))
    assert extract_terms(frame).rows() == [
        ("p1", "graph", False),
        ("p2", "graph", True), ("p2", "graph model", True), ("p2", "model", True),
    ]  # fmt: skip
    # A paper listed twice is still one paper.
    twice = papers(("p1", "graph", None), ("p1", None, "model"))
    assert extract_terms(twice).rows() == [("p1", "graph", True), ("p1", "model", False)]


def test_null_texts_are_empty():
    assert extract_terms(papers(("p", None, None))).rows() == []
    assert extract_terms(papers(("p", "graph", None))).rows() == [("p", "graph", True)]
    assert extract_terms(papers(("p", None, "graph"))).rows() == [("p", "graph", False)]
    # Columns of nulls only (dtype Null), and an integer paper_id, read as strings.
    frame = pl.DataFrame({"paper_id": [7], "title": [None], "abstract": ["graph"]})
    assert extract_terms(frame).rows() == [("7", "graph", False)]


def test_an_empty_input_gives_the_schema():
    for empty in (papers(), papers().lazy()):
        result = extract_terms(empty)
        assert result.schema == pl.Schema(TERMS_SCHEMA) and result.height == 0
    assert extract_terms(papers(("p", "of the", "2024 $x$"))).schema == pl.Schema(TERMS_SCHEMA)


def test_the_example_of_docs_topics_md():
    title = "Vision-Language Models for 3D Scene Graphs"
    abstract = r"We propose \emph{SceneVLM}, a model that learns scene graphs from $N$ images of the <i>real</i> world. Code: https://github.com/x/y."
    rows = extract_terms(papers(("2401.00001", title, abstract)))
    assert {term: in_title for _, term, in_title in rows.rows()} == {
        "vision-language": True, "vision-language model": True, "model": True,
        "scene": True, "graph": True, "scene graph": True,
        "learn": False, "learn scene": False, "learn scene graph": False,
        "image": False, "real": False, "world": False, "code": False,
    }  # fmt: skip
    assert subsumed_terms(rows)["term"].to_list() == [
        "graph", "learn", "learn scene", "model", "scene", "scene graph", "vision-language",
    ]  # fmt: skip


# --- subsumed_terms -------------------------------------------------------------------------


def subsumed(*rows: tuple[str, str]) -> list[str]:
    table = pl.DataFrame(list(rows), schema={"paper_id": pl.String, "term": pl.String}, orient="row")
    return subsumed_terms(table)["term"].to_list()


def test_a_term_of_exactly_the_papers_of_a_longer_term_is_subsumed():
    assert subsumed(("p1", "graph"), ("p1", "graph neural"), ("p1", "neural")) == ["graph", "neural"]
    assert subsumed(("p1", "neural"), ("p1", "graph neural network"), ("p2", "neural"), ("p2", "graph neural network")) == [
        "neural"
    ]
    assert subsumed(("p1", "neural network"), ("p1", "graph neural network")) == ["neural network"]
    # Repeated rows change nothing.
    assert subsumed(("p1", "graph"), ("p1", "graph"), ("p1", "graph neural")) == ["graph"]


def test_a_term_is_not_subsumed_when_a_paper_has_it_without_the_longer_term():
    assert subsumed(("p1", "graph"), ("p1", "graph neural"), ("p2", "graph")) == []
    # Nor when the longer term has a paper the shorter lacks (possible in part of a table).
    assert subsumed(("p1", "graph"), ("p1", "graph neural"), ("p2", "graph neural")) == []


def test_only_consecutive_whole_words_are_held():
    assert subsumed(("p1", "graph network"), ("p1", "graph neural network")) == []
    assert subsumed(("p1", "net"), ("p1", "neural network")) == []
    assert subsumed(("p1", "neural net"), ("p1", "neural network")) == []
    assert subsumed(("p1", "graph"), ("p1", "graph")) == []  # not longer


def test_subsumed_terms_of_extracted_terms():
    frame = papers(("p1", None, "graph neural network"), ("p2", None, "neural network training"))
    # p1 alone: graph, graph neural (in graph neural network); p2 alone: training, network
    # training (in neural network training); both: neural, network (in neural network).
    assert subsumed_terms(extract_terms(frame))["term"].to_list() == [
        "graph", "graph neural", "network", "network training", "neural", "training",
    ]  # fmt: skip


def test_subsumed_terms_of_nothing():
    result = subsumed_terms(pl.DataFrame(schema={"paper_id": pl.String, "term": pl.String}))
    assert result.schema == pl.Schema({"term": pl.String}) and result.height == 0


# --- the benchmark's plain-Python baseline --------------------------------------------------

_FRAGMENTS = [
    "Graph", "neural", "Networks", "studies", "classes", "boxes", "the", "and", "of", "models",
    "state-of-the-art", "pre-training", "λ-calculus", "ÉTUDE", "e\u0301tude", "naïve", "ΟΔΟΣ", "日本語", "テキスト",
    "2024", "3-4", "1990s", "3-4s", "x2", "ab", "gpt-4", "don't", "model’s", "--", "-", ",", ".", ";", "(", ")", "_", "—",
    "$x^2$", "$$\\sum_i x_i$$", "$", "\\emph{bold}", "\\tau", "\\cite{a}{b}", "[link text](https://x.org/a)",
    "https://github.com/a/b", "www.x.org/y", "github.com/a/b", "x.github.io", "data.company", "site.com\u0301",
    "ve.com", "_x.io", "-lab.org", '\\"o', "\\'{e}", '\\"{\\i}', "\\=", "\u2028", "\r", "\x85", "Ⅻx.com", "\u200dx.com", "llm-s",
    "<b>", "</sub>", "<br/>", "<a href='https://x.org/graph'>", "&amp;", "&#39;", "&#x27;", "\t", "\n", "\xa0", "\u2003",
    # U+001C is whitespace to Python's `\s`, not to polars': the baseline must not use `\s`.
    "\x1c", "<b\x1cclass>", "https://x.org/\x1cgraph", "[link](x.org/\x1cmodel)",
    "İstanbul", "ǅemal", "Ⅻ", "²", "ﬁne", "ẞtraße", "ΣΑΣ", "q" * 30, "v" * 31,
]  # fmt: skip
# Blocks assigned long before the Unicode versions of both Python's unicodedata and polars'
# regex engine, so that the two agree on every character's category.
_BLOCKS = [
    (0x00A0, 0x017F),
    (0x0300, 0x036F),
    (0x0370, 0x03FF),
    (0x0400, 0x04FF),
    (0x05D0, 0x05EA),
    (0x2000, 0x206F),
    (0x3041, 0x3096),
]


def _generated_text(rng: random.Random, pieces: int) -> str | None:
    if rng.random() < 0.05:
        return None
    parts = []
    for _ in range(pieces):
        if rng.random() < 0.15:
            low, high = rng.choice(_BLOCKS)
            character = chr(rng.randint(low, high))
            parts.append(character if unicodedata.category(character) != "Cn" else "?")
        else:
            parts.append(rng.choice(_FRAGMENTS))
        parts.append(rng.choice([" ", " ", " ", ""]))
    return "".join(parts)


def test_the_baseline_gives_the_same_rows_as_extract_terms():
    rng = random.Random(23)
    generated = [
        (f"p{number:03d}", _generated_text(rng, rng.randint(0, 8)), _generated_text(rng, rng.randint(0, 80)))
        for number in range(300)
    ]
    expected = [row for paper in generated for row in terms_baseline.python_terms(*paper)]
    assert extract_terms(papers(*generated)).rows() == expected
    # The comparison covers what it should: titles, phrases of three words, scripts, hyphens.
    assert len(expected) > 3000 and any(in_title for _, _, in_title in expected)
    assert any(term.count(" ") == 2 for _, term, _ in expected)
    assert any(not term.isascii() for _, term, _ in expected) and any("-" in term for _, term, _ in expected)
