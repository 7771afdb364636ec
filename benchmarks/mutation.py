"""`make mutation`: mutation testing of the core modules, written to benchmarks/MUTATION.md.

Runs mutmut (3.x, pinned in the dev group; configured in pyproject.toml [tool.mutmut])
over the core modules with the fast tests of each, then reads the result mutmut keeps
per source file (mutants/<path>.meta: exit code by mutant name) and writes the score per
module, the overall score and every surviving mutant with the reason it is left alive
(SURVIVOR_REASONS below, keyed by mutant name, so a new run keeps the reasons).

    python benchmarks/mutation.py                      # fresh run of every mutant
    python benchmarks/mutation.py 'pipeline.read.*'    # only the mutants matching a glob
    python benchmarks/mutation.py --keep               # reuse mutants/ (mutmut's cache)
    python benchmarks/mutation.py --report-only        # rewrite MUTATION.md from mutants/

Score = (killed + timeout) / (mutants with a verdict), as mutmut's badge counts it:
a mutant that hangs the tests is detected. "no tests" mutants (no selected test calls the
function) count as not killed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MUTANTS = REPO / "mutants"
OUT = REPO / "benchmarks" / "MUTATION.md"
MUTMUT = Path(sys.executable).parent / "mutmut"

# Targets of issue 20: 90 % in these modules, 80 % overall.
STRICT_MODULES = ("pipeline/read/reader.py", "pipeline/read/identity.py", "pipeline/read/links.py", "pipeline/read/dates.py", "pipeline/read/decoding.py")
STRICT_TARGET = 90.0
OVERALL_TARGET = 80.0
WALL_BOUND_MINUTES = 30  # a full run, on 2 cores

# mutmut 3.8.1's exit codes (mutmut/stats.py status_by_exit_code), folded into our columns.
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", 36: "timeout", 37: "killed"}
TIMEOUT_CODES = {-24, 24, 152, 255}
SEGFAULT_CODES = {-11, -9}

# Why each surviving mutant may stay alive: equivalent (no input tells it from the
# original) or harmless (the difference cannot reach a table). Keyed by mutant name.
_CODEC = "equivalent: Python's codec names are case-insensitive and UTF-8 is the default of encode/decode"
_UNREACHABLE_DUMPS = "equivalent: unreachable; an item json.loads gave, at most MAX_DEPTH deep, is always serializable, so this guard against a crash never runs"
_SPLIT_ONCE = "equivalent: a papers URL holds /papers/date/ once, so splitting at the first, the last or every one gives the same day after it"
_ENCODE_NEVER_FAILS = "equivalent: the text comes from decoding bytes, which gives no lone surrogates, so encoding it to UTF-8 never needs an error handler"
_NO_QUOTE_OR_BRACKET = "equivalent: the replacement holds no quote and no bracket, so the strings and the nesting are read the same"
_NEVER_EMPTY = "equivalent: the default only stands for no bracket at all, and a text is read as JSON only when it opens with a bracket or a brace"
_NO_RECURSION = "equivalent: unreachable; _too_deep refuses anything nested deeper than 64 levels first, far below the depth at which json.loads recurses too deep"
_HINTS_ONLY_SPEED = "equivalent: the link hints only spare a search (Entries.add finds the links itself when none are given, and reading each block on its own gives the same links)"
_SQL_CASE = "equivalent: DuckDB reads SQL keywords, unquoted table, column and view names (views registered from Python too) and $parameter names whatever their case"
_JSON_LAYOUT = "harmless: the file is read back only with json.loads, whatever its indentation and key order"
_ASIDE_NAME = "equivalent: the name a parquet/ directory of the earlier layout is moved aside to; that directory is deleted right after the switch, whatever its name"
_BUILD_DIR_NAME = "harmless: a build's directory only has to have a new name (readers go through the parquet link); this one still holds the time to the microsecond"
_UNDER_THE_LOCK = "equivalent: nothing else deletes in parquet-builds/ while the build holds the warehouse lock, so the entry just listed is there to unlink"
_FIRST_RUN = "equivalent: the part a run starts with is read only while rows are pending, and the first rows set it before any are pending"
_INT64_FOR_SPEED = "harmless: int32 columns stay int32; GX then compares them with their bounds value by value instead of vectorized, with the same results (the step is for speed)"
_DATA_SOURCE_NAME = "equivalent: the name of the one data source of an ephemeral GX context that lives for one validation; no result or page shows it"
_ZIP_STRICT = "equivalent: a cursor's rows have exactly as many values as its description has names"
_ONE_VALUE_PER_RUN_END = "equivalent: run_end_encode gives one value per run end, so the two lists zipped are always of one length"
SURVIVOR_REASONS: dict[str, str] = {
    # pipeline/read/decoding.py
    "pipeline.read.decoding.x__with_replacements__mutmut_17": "equivalent: max(len, 2) differs from max(len, 1) only for a text of 0 or 1 characters, where 0 or 1 U+FFFD is on the same side of 5 % of either",
    "pipeline.read.decoding.x__utf8_or_legacy__mutmut_3": _CODEC,
    "pipeline.read.decoding.x__utf8_or_legacy__mutmut_8": "equivalent: starting both counts at 1 adds 1 to each side of `valid >= broken`; `valid` was 0 only when some line is broken, and then 1 >= broken + 1 is false as `0 and ...` was",
    "pipeline.read.decoding.x__utf16_without_bom__mutmut_2": "harmless: the UTF-16 sniff looks at 4097 bytes, not 4096; one more byte moves a share by under 1/2048 (the sample size is a speed bound, not a rule)",
    "pipeline.read.decoding.x__decode__mutmut_21": "harmless: the control-byte share is taken over 65537 bytes, not 65536; one byte moves it by 1/65536 (the sample size is a speed bound, not a rule)",
    "pipeline.read.decoding.x_has_control__mutmut_4": _CODEC,
    "pipeline.read.decoding.x_decode_digest__mutmut_49": _CODEC,
    "pipeline.read.decoding.x__utf8_or_legacy__mutmut_12": _CODEC,
    "pipeline.read.decoding.x__utf8_or_legacy__mutmut_23": _CODEC,
    "pipeline.read.decoding.x__utf8_or_legacy__mutmut_26": _CODEC,
    "pipeline.read.decoding.x__utf8_or_legacy__mutmut_39": _CODEC,
    # pipeline/read/reader.py
    "pipeline.read.reader.x__read_not_text__mutmut_9": _CODEC,
    # pipeline/read/parsed.py
    "pipeline.read.parsed.xǁEntriesǁadd__mutmut_66": "equivalent: the one reader that passes links (sample) passes the links extract_links finds in the same abstract, found faster",
    # pipeline/read/formats/
    "pipeline.read.formats.x__bare_paper_urls__mutmut_2": "equivalent: the substring test only spares a search that finds no paper URL without it",
    "pipeline.read.formats.x__bare_paper_urls__mutmut_6": "equivalent: a text is a text export from 2 bare paper URLs on, so none and 1 are alike",
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_13": _ENCODE_NEVER_FAILS,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_15": _CODEC,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_16": _ENCODE_NEVER_FAILS,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_17": _ENCODE_NEVER_FAILS,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_19": _NO_QUOTE_OR_BRACKET,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_21": _NO_QUOTE_OR_BRACKET,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_27": _NO_QUOTE_OR_BRACKET,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_30": "equivalent: without the deletion every byte stays, and the bytes that are no bracket step the depth by 0",
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_32": _NEVER_EMPTY,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_34": _NEVER_EMPTY,
    "pipeline.read.formats.daily_json.x__too_deep__mutmut_40": _NEVER_EMPTY,
    "pipeline.read.formats.daily_json.x__load_items__mutmut_4": "equivalent: strict=None is falsy, as False is",
    "pipeline.read.formats.daily_json.x__load_items__mutmut_8": _NO_RECURSION,
    "pipeline.read.formats.daily_json.x__load_items__mutmut_9": _NO_RECURSION,
    "pipeline.read.formats.daily_json.x__load_items__mutmut_10": _NO_RECURSION,
    "pipeline.read.formats.daily_json.x__read_item__mutmut_53": "equivalent: the line-break substitution changes nothing in a summary without a line break",
    "pipeline.read.formats.daily_json.x__shape_problem__mutmut_60": "equivalent: the default only stands for a missing summary, and neither '' nor 'XXXX' holds a control character or U+FFFD",
    "pipeline.read.formats.daily_json.x_read_daily_json__mutmut_38": "equivalent: with no date line the day is the items' own day or an ISO date (with its year) in the file name, so the configured year is never read",
    "pipeline.read.formats.common.x_capture_day__mutmut_8": "equivalent: the default only stands for a missing url, and neither '' nor 'XXXX' holds /papers/date/",
    "pipeline.read.formats.common.x_capture_day__mutmut_17": _SPLIT_ONCE,
    "pipeline.read.formats.common.x_capture_day__mutmut_18": _SPLIT_ONCE,
    "pipeline.read.formats.common.x_capture_day__mutmut_21": _SPLIT_ONCE,
    "pipeline.read.formats.common.x_day_in__mutmut_3": "equivalent: the default only stands for a missing value, and neither '' nor 'XXXX' holds a day",
    "pipeline.read.formats.x__starts_as_markdown__mutmut_5": "equivalent: partition('XX\\nXX') finds no separator and gives the whole text; _PAGE_HEADING.match is anchored at the start and cannot cross the first line's end, so the whole text matches exactly when its first line does",
    "pipeline.read.formats.daily_json.x__raw_text__mutmut_8": _UNREACHABLE_DUMPS,
    "pipeline.read.formats.markdown.x__merge_copies__mutmut_28": "equivalent: only papers[0] is read (Card.arxiv_id); repeating the first copy's papers after it changes nothing",
    "pipeline.read.formats.sample.xǁ_Hintsǁ__init____mutmut_4": _HINTS_ONLY_SPEED,
    "pipeline.read.formats.sample.xǁ_EntryCollectorǁadd__mutmut_5": _HINTS_ONLY_SPEED,
    "pipeline.read.formats.markdown.x__merge_copies__mutmut_37": "equivalent: a first copy's problem comes from its title (a card line as the heading; an unclosed title is never merged), which every later copy of that title shares, or from being the last card, which a first copy with later copies is not; so a good later copy never meets a first copy with a problem",
    "pipeline.read.formats.sample.xǁ_EntryCollectorǁadd__mutmut_9": _HINTS_ONLY_SPEED,
    "pipeline.read.formats.sample.x_read_sample__mutmut_27": "equivalent: None is falsy, as False is",
    "pipeline.read.formats.sample.x__starts_entry__mutmut_9": "equivalent: the default only stands for no block after the last one, and 'XXXX' is title-shaped (one line, at most 300 characters) as '' is, so a last block never starts an entry either way",
    "pipeline.read.formats.sample.x_read_sample__mutmut_90": "equivalent: resolve_date gives an error with every invalid date, so the fallback text is never used",
    "pipeline.read.formats.sample.x_read_sample__mutmut_107": "equivalent: resolve_date with no date line returns the capture day, the file name's date or an error before it reaches config_year, so the configured year is never read",
    # pipeline/read/dates.py
    "pipeline.read.dates.x__reference_year_for__mutmut_9": "equivalent while REFERENCE_YEAR is 2026: stepping back by 2 from 2026 reaches the leap year 2024 as stepping by 1 does",
    # pipeline/read/identity.py
    "pipeline.read.identity.x_paper_id__mutmut_7": _CODEC,
    # pipeline/read/links.py
    "pipeline.read.links.x__words_at__mutmut_3": "equivalent: any start below 0 lets the first position (0 or more) through, as -1 does",
    "pipeline.read.links.x__words_at__mutmut_4": "equivalent: a position equal to word_end would be the whitespace after the word, and no hint ('://', 'www.', '.io') starts with whitespace",
    "pipeline.read.links.x__words_at__mutmut_21": "equivalent: \\S* matches at every position, so the match is never None",
    "pipeline.read.links.x__links_in_words__mutmut_4": "equivalent: the dot test only skips the regex; a word whose dots are all in its trailing punctuation holds no host with a dot, so the regex finds no link in it either",
    "pipeline.read.links.x__links_in_words__mutmut_5": "equivalent: the dot test only skips the regex; a word whose dots are all in its leading punctuation holds no host with a dot after them, so the regex finds no link in it either",
    "pipeline.read.links.x__links_in_words__mutmut_12": "equivalent in output (only slower): scanning from a word to the end of the text finds the later words' links again, in the same order, and the first sighting of each url is kept",
    "pipeline.read.links.x__strip_suffixes__mutmut_22": "equivalent: the slices differ only for end <= 4, where path[0:end] == '.git' would need the path to start with '.git'; a path starts with '/' (or the query's '?', the fragment's '#')",
    "pipeline.read.links.x__classify__mutmut_30": "harmless: only huggingface.co/datasets (or /spaces) alone differs, the index page: the original gives owner 'datasets', the mutant no owner; kind stays huggingface and neither is a repository",
    "pipeline.read.links.x_canonicalize__mutmut_11": "equivalent: urlsplit lower-cases the scheme, and the canonical url is built with 'https://' whatever it was",
    "pipeline.read.links.x_canonicalize__mutmut_17": "equivalent: a missing hostname becomes 'xxxx' instead of '', and a host with no dot is refused like an empty one",
    "pipeline.read.links.x_link_hint_positions__mutmut_12": "equivalent: with no '://' or 'www.' the positions come from finditer, already sorted, so sorting them changes nothing",
    "pipeline.read.links.x_find_all__mutmut_13": "equivalent: the needles '://' and 'www.' cannot occur again one character later ('://' would need ':' == '/', 'www.' would need '.' == 'w'), so skipping that position misses nothing",
    "pipeline.read.links.x__words_at__mutmut_9": "equivalent: testing the character after instead of before starts each word one character early (the last character of the word before and the space); a link never spans the space and one character holds no link, so the same links are found",
    "pipeline.read.links.x__url_char_class__mutmut_17": "equivalent: a Unicode general category starts with L, M, N, P, S, Z or C, never X, so adding X to the letters tested keeps no other character",
    "pipeline.read.links.x__url_char_class__mutmut_24": "equivalent: the two code points left out, U+10FFFE and U+10FFFF, are noncharacters (category Cn), outside the class either way",
    "pipeline.read.links.x__url_char_class__mutmut_38": "equivalent: the separator adds only the letter X between the ranges, and the class holds every ASCII letter already",
    # pipeline/read/formats/daily_json.py
    "pipeline.read.formats.daily_json.x_read_daily_json__mutmut_91": "equivalent: the text of an item's entry block is never read: Entries.add keeps no block text in an entry, and when it rejects the item the reject's raw_text is replaced by the item's JSON on the next line.",
    "pipeline.read.formats.daily_json.x_read_daily_json__mutmut_94": "equivalent: the text of an item's entry block is never read: Entries.add keeps no block text in an entry, and when it rejects the item the reject's raw_text is replaced by the item's JSON on the next line.",
    "pipeline.read.formats.daily_json.x__raw_text__mutmut_13": "equivalent: Python's codec names are case-insensitive and UTF-8 is the default of encode/decode",
    "pipeline.read.formats.daily_json.x__raw_text__mutmut_17": "equivalent: Python's codec names are case-insensitive and UTF-8 is the default of encode/decode",
    "pipeline.read.formats.daily_json.x__raw_text__mutmut_18": "equivalent: unreachable; an item json.loads gave, at most MAX_DEPTH deep, is always serializable, so this guard against a crash never runs",
    "pipeline.read.formats.daily_json.x__raw_text__mutmut_19": "equivalent: unreachable; an item json.loads gave, at most MAX_DEPTH deep, is always serializable, so this guard against a crash never runs",
    "pipeline.read.formats.daily_json.x_is_json__mutmut_4": "equivalent: strict=None is falsy, as False is",
    # pipeline/read/formats/markdown.py
    "pipeline.read.formats.markdown.x__add_cards__mutmut_40": "equivalent: a Block is the tuple (line, text, offset) and no two blocks of a file start on the same line, so sorting the tuples themselves gives the same order as sorting by line.",
    "pipeline.read.formats.markdown.x__add_cards__mutmut_42": "equivalent: a Block is the tuple (line, text, offset) and no two blocks of a file start on the same line, so sorting the tuples themselves gives the same order as sorting by line.",
    "pipeline.read.formats.markdown.x__loose_blocks__mutmut_1": "equivalent: seen_card and date_taken are only read in `seen_card or date_taken` and are only ever set to True, so starting them at None rather than False takes the same branch every time.",
    "pipeline.read.formats.markdown.x__loose_blocks__mutmut_45": "equivalent: with a date line, resolve_date returns no date only from its `no such date: ...` branch, so resolved.error is never empty here and the `or` fallback is never used.",
    "pipeline.read.formats.markdown.x_read_markdown__mutmut_4": "equivalent: trending is only tested for truth (`if trending`, `not trending`, `self.trending and ...`, `bare_date or ...`), and None is falsy just like False.",
    "pipeline.read.formats.markdown.x_read_markdown_ref__mutmut_4": "equivalent: trending is only tested for truth (`if trending`, `not trending`, `self.trending and ...`, `bare_date or ...`), and None is falsy just like False.",
    "pipeline.read.formats.markdown.x_read_trending__mutmut_3": "equivalent: on the trending page config_year is never read, because date lines are not resolved there (`not trending`), resolve_date gets no date line, and read_unrecognized ignores config_year.",
    "pipeline.read.formats.markdown.x__read__mutmut_67": "equivalent: resolve_date with no date line returns the capture day, the file name's date or an error before it reaches config_year, so the configured year is never read.",
    # pipeline/read/formats/markdown_cards.py
    "pipeline.read.formats.markdown_cards.x__badge__mutmut_34": "equivalent: the url is replaced only when it is None or empty, and neither \"\" nor \"XXXX\" holds an arXiv id, so arxiv_id_in_url returns None either way.",
    "pipeline.read.formats.markdown_cards.xǁCardǁset_abstract__mutmut_21": "equivalent: the test runs only when text starts with `[`, which closing_bracket(text, 0) counts as depth 1, so it returns -1 or an index >= 1, never 0.",
    "pipeline.read.formats.markdown_cards.xǁCardǁset_abstract__mutmut_22": "equivalent: the test runs only when text starts with `[`, which closing_bracket(text, 0) counts as depth 1, so it returns -1 or an index >= 1, never 0.",
    "pipeline.read.formats.markdown_cards.xǁCardǁset_title__mutmut_18": "equivalent: the branch runs only when the heading starts with `[`, which closing_bracket(heading, 0) counts as depth 1, so close is -1 or an index >= 1, never 0.",
    "pipeline.read.formats.markdown_cards.xǁCardǁset_title__mutmut_19": "equivalent: the branch runs only when the heading starts with `[`, which closing_bracket(heading, 0) counts as depth 1, so close is -1 or an index >= 1, never 0.",
    "pipeline.read.formats.markdown_cards.xǁ_Pageǁ_upvote__mutmut_14": "equivalent: has_lines is only ever read for its truth value (feed's `not card.has_lines`, markdown.py's any(...) and `not card.has_lines`), and `has_lines or None` is falsy exactly when `has_lines or False` is.",
    "pipeline.read.formats.markdown_cards.x_split_at_headings__mutmut_15": "equivalent: str.count reads a start of None as 0, as slicing does.",
    "pipeline.read.formats.markdown_cards.x_split_at_headings__mutmut_21": "equivalent: the blocks come from split_blocks, which strips the newlines opening each block, so block.text[0] is never a newline and counting from 1 instead of 0 counts the same newlines.",
    "pipeline.read.formats.markdown_cards.xǁ_Pageǁ_start_card__mutmut_4": "equivalent: _TITLE_HEADING (`###[ \\t]+\\S`) makes text[3] a space or a tab, which .strip() removes anyway, so text[3:].strip() == text[4:].strip().",
    "pipeline.read.formats.markdown_cards.xǁ_Pageǁ_start_card__mutmut_17": "equivalent: the test runs only when the heading starts with `[`, which closing_bracket(heading, 0) counts as depth 1, so it returns -1 or an index >= 1, never 0.",
    "pipeline.read.formats.markdown_cards.xǁ_Pageǁ_start_card__mutmut_18": "equivalent: the test runs only when the heading starts with `[`, which closing_bracket(heading, 0) counts as depth 1, so it returns -1 or an index >= 1, never 0.",
    # pipeline/read/formats/markdown_links.py
    "pipeline.read.formats.markdown_links.x_closing_bracket__mutmut_4": "equivalent: `escaped` is compared with match positions from finditer, which are never negative, so an initial -2 never matches, exactly like -1.",
    "pipeline.read.formats.markdown_links.x_links_only__mutmut_12": "equivalent: _SEPARATORS (`[\\s/|·•]*`) matches the empty string at any position up to len(text), and position never passes len(text), so match() never returns None and the condition is always true.",
    "pipeline.read.formats.markdown_links.x_paper_link__mutmut_28": "equivalent: the loop runs only on a text starting with `[`, so rfind('](') and rfind('][') never return 0: close is -1 or >= 1.",
    "pipeline.read.formats.markdown_links.x_paper_link__mutmut_29": "equivalent: close == 1 only for a text opening `[](` or `[][`, where closing_bracket(text, 0) is 1 too, so whole_link already tried _link_closed_at(text, 0, 1) on the same stripped text and it did not end at len(text); the loop's check fails the same way.",
    "pipeline.read.formats.markdown_links.x_parse_link__mutmut_16": "equivalent: every caller (whole_link, links_only, _Page._start_card) passes the index of a `[`, which closing_bracket counts as depth 1, so close is -1 or an index past start (>= 1), never 0.",
    "pipeline.read.formats.markdown_links.x_parse_link__mutmut_17": "equivalent: every caller (whole_link, links_only, _Page._start_card) passes the index of a `[`, which closing_bracket counts as depth 1, so close is -1 or an index past start (>= 1), never 0.",
    # pipeline/read/formats/text_export.py
    "pipeline.read.formats.text_export.x__classify__mutmut_22": "equivalent: a community URL's value is never read; only the values of upvote, login, paper and GitHub parts are (text_export.py's every `.value` read is guarded by one of those kinds).",
    "pipeline.read.formats.text_export.x__classify__mutmut_37": "equivalent: arxiv_id_in_url searches with re.IGNORECASE, so the host prefix matches the same whatever its case.",
    "pipeline.read.formats.text_export.x__classify__mutmut_73": "equivalent: a number part's value is never read; _read_card takes the comment count from the block's text.",
    "pipeline.read.formats.text_export.x__listing__mutmut_15": "equivalent: the default title is only tested for starting with \"trending papers\" or \"week <digit>\", and \"xxxx\" (casefolded) does neither, just like \"\".",
    "pipeline.read.formats.text_export.x__listing__mutmut_19": "equivalent: the stripped text is casefolded first, and no character's casefold contains an uppercase X (checked over all of Unicode), so the extra X in the lstrip set never strips anything.",
    "pipeline.read.formats.text_export.x__read_card__mutmut_10": "equivalent: the index is 0 at that point (the upvote button is the card's first part), so `index += 1` and `index = 1` both give 1.",
    "pipeline.read.formats.text_export.x__read_card__mutmut_3": "equivalent: the past-the-end sentinel is only compared with the kind names (upvote, login, paper, ...), none of which is \"\" or \"XXXX\".",
    "pipeline.read.formats.text_export.x__read_card__mutmut_49": "equivalent: the extra pass at index == len(parts) reads the sentinel kind, which matches no branch, so it changes nothing but the index.",
    "pipeline.read.formats.text_export.x__read_preamble__mutmut_1": "equivalent: seen_date is only tested for truth, and None is as false as False.",
    "pipeline.read.formats.text_export.x__read_preamble__mutmut_56": "equivalent: a date-line part always parses to a DateLine, and resolve_date given a DateLine returns either a date or a non-empty error (\"no such date: ...\"), so the `or` fallback is never used.",
    "pipeline.read.formats.text_export.x__split_cards__mutmut_6": "equivalent: before the first card the paper id is only compared with paper URL ids, never empty, and never set (only a card has a paper); each card starts it at None",
    "pipeline.read.formats.text_export.x_read_text_export__mutmut_66": "equivalent: resolve_date with no date line never reads config_year (it uses only the capture day and the file name's date).",
    # pipeline/store/consolidate.py
    "pipeline.store.consolidate.x_consolidate__mutmut_4": "equivalent: DuckDB reads setting names and time zone names whatever their case",
    "pipeline.store.consolidate.x_consolidate__mutmut_5": "equivalent: DuckDB reads setting names and time zone names whatever their case",
    "pipeline.store.consolidate.x_consolidate__mutmut_22": _SQL_CASE,
    "pipeline.store.consolidate.x_consolidate__mutmut_24": _SQL_CASE,
    "pipeline.store.consolidate.x_write_manifest__mutmut_15": _JSON_LAYOUT,
    "pipeline.store.consolidate.x_write_manifest__mutmut_16": _JSON_LAYOUT,
    "pipeline.store.consolidate.x_write_manifest__mutmut_18": _JSON_LAYOUT,
    "pipeline.store.consolidate.x_write_manifest__mutmut_19": _JSON_LAYOUT,
    "pipeline.store.consolidate.x_write_manifest__mutmut_20": _JSON_LAYOUT,
    "pipeline.store.consolidate.x_write_manifest__mutmut_21": _JSON_LAYOUT,
    "pipeline.store.consolidate.x__runs_by_part__mutmut_1": _FIRST_RUN,
    "pipeline.store.consolidate.x__runs_by_part__mutmut_2": _FIRST_RUN,
    "pipeline.store.consolidate.x__runs_by_part__mutmut_14": _ONE_VALUE_PER_RUN_END,
    "pipeline.store.consolidate.x__runs_by_part__mutmut_17": _ONE_VALUE_PER_RUN_END,
    "pipeline.store.consolidate.x__runs_by_part__mutmut_18": _ONE_VALUE_PER_RUN_END,
    # pipeline/store/publish.py
    "pipeline.store.publish.x__part_file__mutmut_7": "equivalent: the message is never shown; read_manifest turns any error in the manifest into no manifest, and publishing says so",
    "pipeline.store.publish.x_move_into_place__mutmut_32": _JSON_LAYOUT,
    "pipeline.store.publish.x_move_into_place__mutmut_33": _JSON_LAYOUT,
    "pipeline.store.publish.x_move_into_place__mutmut_35": _JSON_LAYOUT,
    "pipeline.store.publish.x_move_into_place__mutmut_36": _JSON_LAYOUT,
    "pipeline.store.publish.x_move_into_place__mutmut_37": _JSON_LAYOUT,
    "pipeline.store.publish.x_move_into_place__mutmut_38": _JSON_LAYOUT,
    "pipeline.store.publish.x__link_parquet_to__mutmut_9": _ASIDE_NAME,
    "pipeline.store.publish.x__link_parquet_to__mutmut_10": _ASIDE_NAME,
    "pipeline.store.publish.x__now_compact__mutmut_2": _BUILD_DIR_NAME,
    "pipeline.store.publish.x__now_compact__mutmut_3": _BUILD_DIR_NAME,
    "pipeline.store.publish.x__now_compact__mutmut_4": _BUILD_DIR_NAME,
    "pipeline.store.publish.x__remove__mutmut_8": _UNDER_THE_LOCK,
    "pipeline.store.publish.x__remove__mutmut_9": _UNDER_THE_LOCK,
    "pipeline.store.publish.x_record_check__mutmut_26": _JSON_LAYOUT,
    "pipeline.store.publish.x_record_check__mutmut_28": _JSON_LAYOUT,
    "pipeline.store.publish.x_record_check__mutmut_29": _JSON_LAYOUT,
    "pipeline.store.publish.x_unapproved__mutmut_10": "equivalent: a missing file's signature, None or \"\", differs alike from the list the manifest holds, and only that difference is read",
    # pipeline/store/staging.py
    "pipeline.store.staging.x__create__mutmut_6": _SQL_CASE,
    "pipeline.store.staging.x__create__mutmut_10": _SQL_CASE,
    "pipeline.store.staging.x__create__mutmut_11": _SQL_CASE,
    "pipeline.store.staging.x__create__mutmut_17": _SQL_CASE,
    "pipeline.store.staging.x__create__mutmut_18": _SQL_CASE,
    "pipeline.store.staging.x__create__mutmut_21": _SQL_CASE,
    "pipeline.store.staging.x__has_this_layout__mutmut_4": _SQL_CASE,
    "pipeline.store.staging.x__has_this_layout__mutmut_5": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_5": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_12": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_18": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_26": "equivalent: unregistering a name never registered does nothing, and the next register of new_rows replaces the view left behind (the connection ends with the stage)",
    "pipeline.store.staging.x_apply_changes__mutmut_27": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_33": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_34": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_36": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_39": _SQL_CASE,
    "pipeline.store.staging.x_apply_changes__mutmut_46": _SQL_CASE,
    "pipeline.store.staging.x_staged_files__mutmut_4": _SQL_CASE,
    "pipeline.store.staging.x_staged_files__mutmut_5": _SQL_CASE,
    # pipeline/validate/cross_checks.py
    "pipeline.validate.cross_checks.x__run__mutmut_8": "harmless: every column of a table is read, not only those the queries name: the same rows and results, more memory",
    "pipeline.validate.cross_checks.x__run__mutmut_11": "harmless: every column of a table is read, not only those the queries name: the same rows and results, more memory",
    "pipeline.validate.cross_checks.x__run__mutmut_32": _ZIP_STRICT,
    "pipeline.validate.cross_checks.x__run__mutmut_35": _ZIP_STRICT,
    "pipeline.validate.cross_checks.x__run__mutmut_36": _ZIP_STRICT,
    # pipeline/validate/suites.py
    "pipeline.validate.suites.x__ephemeral_context__mutmut_10": "equivalent: GX reads a metric_calculations progress bar of None, or not given, as off",
    "pipeline.validate.suites.x__ephemeral_context__mutmut_12": "equivalent: GX reads a metric_calculations progress bar of None, or not given, as off",
    "pipeline.validate.suites.x__ephemeral_context__mutmut_16": "equivalent: given a project config and no mode, get_context makes an ephemeral context",
    "pipeline.validate.suites.x__ephemeral_context__mutmut_18": "equivalent: given a project config and no mode, get_context makes an ephemeral context",
    "pipeline.validate.suites.x_prepare_frame__mutmut_3": _INT64_FOR_SPEED,
    "pipeline.validate.suites.x_prepare_frame__mutmut_4": _INT64_FOR_SPEED,
    "pipeline.validate.suites.x_validate_frame__mutmut_6": _DATA_SOURCE_NAME,
    "pipeline.validate.suites.x_validate_frame__mutmut_7": _DATA_SOURCE_NAME,
    "pipeline.validate.suites.x_validate_table_files__mutmut_3": "harmless: the digests table (a row per file) is read for every table, not only appearances; the other tables' suites never look at it",
}


def status(code: int | None) -> str:
    if code is None:
        return "not checked"
    if code in TIMEOUT_CODES:
        return "timeout"
    if code in SEGFAULT_CODES:
        return "segfault"
    return STATUS.get(code, "suspicious")


def run_mutmut(names: list[str], max_children: int, keep: bool) -> float:
    if not keep and MUTANTS.exists():
        shutil.rmtree(MUTANTS)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.monotonic()
    # mutmut exits non-zero only when it cannot run (clean tests failing and the like).
    subprocess.run([str(MUTMUT), "run", "--max-children", str(max_children), *names], cwd=REPO, env=env, check=True)
    return time.monotonic() - start


def load_results() -> dict[str, dict[str, int | None]]:
    """Exit code by mutant name, per source file (path relative to the repository)."""
    results: dict[str, dict[str, int | None]] = {}
    for meta in sorted(MUTANTS.rglob("*.py.meta")):
        path = meta.relative_to(MUTANTS).as_posix()[: -len(".meta")]
        data = json.loads(meta.read_text("utf-8"))
        results[path] = data["exit_code_by_key"]
    return results


def diff_line(name: str, path: str) -> tuple[str, str]:
    """The changed lines of a mutant: ("- original", "+ mutant"), from `mutmut show`."""
    shown = subprocess.run([str(MUTMUT), "show", name], cwd=REPO, capture_output=True, text=True)
    minus = [line[1:].strip() for line in shown.stdout.splitlines() if line.startswith("-") and not line.startswith("---")]
    plus = [line[1:].strip() for line in shown.stdout.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return " / ".join(minus) or "?", " / ".join(plus) or "?"


def function_of(name: str) -> str:
    """`pipeline.read.links.x_canonicalize__mutmut_12` -> `canonicalize`; methods keep their class."""
    tail = name.rsplit(".", 1)[-1].rsplit("__mutmut_", 1)[0]
    if tail.startswith("x_"):
        return tail[2:]
    if tail.startswith("xǁ"):
        parts = tail[2:].split("ǁ")
        return ".".join(parts)
    return tail


def score(counts: Counter[str]) -> float | None:
    detected = counts["killed"] + counts["timeout"] + counts["segfault"]
    judged = detected + counts["survived"] + counts["no tests"] + counts["suspicious"]
    return None if judged == 0 else 100.0 * detected / judged


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip()


def write_report(
    results: dict[str, dict[str, int | None]], wall: float | None, names: list[str], max_children: int, note: str = ""
) -> bool:
    per_module: dict[str, Counter[str]] = {}
    survivors: list[tuple[str, str, str]] = []
    for path, codes in results.items():
        counts: Counter[str] = Counter()
        for name, code in codes.items():
            counts[status(code)] += 1
            if status(code) in ("survived", "no tests", "suspicious"):
                survivors.append((path, name, status(code)))
        per_module[path] = counts
    overall: Counter[str] = sum(per_module.values(), Counter())

    commit = git("rev-parse", "--short", "HEAD")
    # The report itself does not count: it changes with every run.
    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no", "--", ".", f":!{OUT.relative_to(REPO)}") else ""
    lines = [
        "# Mutation testing",
        "",
        "Written by `make mutation` (benchmarks/mutation.py): mutmut "
        f"{mutmut_version()} over the core modules with their fast tests ([tool.mutmut] in pyproject.toml).",
        "",
        f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Commit: {commit}{dirty}",
        f"- Wall time: {_wall_text(wall, names)} with --max-children {max_children} on {os.cpu_count()} cores",
        f"- Mutants run: {', '.join(f'`{n}`' for n in names) if names else 'all of only_mutate'}",
        *([f"- Note: {note}"] if note else []),
        "- Score: (killed + timeout) / mutants with a verdict; \"no tests\" counts against it. "
        f"Targets: at least {STRICT_TARGET:.0f} % in {', '.join(Path(m).stem for m in STRICT_MODULES)}; at least {OVERALL_TARGET:.0f} % overall.",
        "",
        "| module | mutants | killed | timeout | survived | no tests | not checked | score | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    met = wall is None or bool(names) or _within_wall_bound(wall)
    for path, counts in sorted(per_module.items()):
        value = score(counts)
        target = ""
        if path in STRICT_MODULES:
            ok = value is not None and value >= STRICT_TARGET
            met &= ok
            target = f"≥ {STRICT_TARGET:.0f} %: {'met' if ok else 'NOT MET'}"
        lines.append(
            f"| {path} | {sum(counts.values())} | {counts['killed']} | {counts['timeout']} | {counts['survived']} "
            f"| {counts['no tests']} | {counts['not checked']} | {fmt(value)} | {target} |"
        )
    overall_score = score(overall)
    # The overall target is over every core module: a run of some mutants (names) cannot meet it.
    overall_ok = overall_score is not None and overall_score >= OVERALL_TARGET and overall["not checked"] == 0 and not names
    met &= overall_ok
    verdict = "not judged (only some mutants run)" if names else ("met" if overall_ok else "NOT MET")
    lines.append(
        f"| **{'these mutants' if names else 'overall'}** | {sum(overall.values())} | {overall['killed']} | {overall['timeout']} "
        f"| {overall['survived']} | {overall['no tests']} | {overall['not checked']} | {fmt(overall_score)} | ≥ {OVERALL_TARGET:.0f} %: {verdict} |"
    )
    if overall["not checked"]:
        lines += ["", f"{overall['not checked']} mutants were not run (a partial run): the overall target is not judged on them."]

    lines += [
        "",
        "## Surviving mutants",
        "",
        "Each survivor with why it is left: equivalent (no input tells it from the original) or harmless. "
        "Reasons are kept in `SURVIVOR_REASONS` in benchmarks/mutation.py; `mutmut show NAME` shows the whole diff.",
        "",
    ]
    if not survivors:
        lines.append("None.")
    else:
        lines += ["| module | function | mutant | original → mutant | status | why |", "|---|---|---|---|---|---|"]
        unexplained = 0
        for path, name, state in sorted(survivors, key=lambda s: (s[0], natural(s[1]))):
            minus, plus = diff_line(name, path)
            why = SURVIVOR_REASONS.get(name, "")
            if not why:
                unexplained += 1
                why = "**not explained yet**"
            short = name.rsplit("__mutmut_", 1)[-1]
            lines.append(f"| {path} | {function_of(name)} | {short} | `{cell(minus)}` → `{cell(plus)}` | {state} | {cell(why)} |")
        if unexplained:
            met = False
            lines += ["", f"{unexplained} survivors have no reason yet: each is a missing test or needs one."]
    OUT.write_text("\n".join(lines) + "\n", "utf-8")
    return met


def _within_wall_bound(wall: float) -> bool:
    return wall / 60 <= WALL_BOUND_MINUTES


def _wall_text(wall: float | None, names: list[str]) -> str:
    if wall is None:
        return "not measured (report only)"
    if names:
        return f"{wall / 60:.1f} min (some mutants only)"
    verdict = "met" if _within_wall_bound(wall) else "NOT MET"
    return f"{wall / 60:.1f} min (bound {WALL_BOUND_MINUTES} min for a full run: {verdict})"


def natural(name: str) -> tuple[str, int]:
    head, _, number = name.rpartition("__mutmut_")
    return head, int(number) if number.isdigit() else 0


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("`", "'")


def mutmut_version() -> str:
    from importlib.metadata import version

    return version("mutmut")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="mutant name globs, e.g. 'pipeline.read.*' (default: every mutant)")
    parser.add_argument("--max-children", type=int, default=2, help="parallel mutant runs (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep mutants/ and mutmut's cached verdicts")
    parser.add_argument("--report-only", action="store_true", help="only rewrite MUTATION.md from mutants/")
    parser.add_argument("--note", default="", help="a line for MUTATION.md's header (how a report-only run's data was made)")
    args = parser.parse_args()

    wall = None if args.report_only else run_mutmut(args.names, args.max_children, keep=args.keep or bool(args.names))
    results = load_results()
    if args.names:
        results = {
            path: {name: code for name, code in codes.items() if any(fnmatch.fnmatch(name, glob) for glob in args.names)}
            for path, codes in results.items()
        }
        results = {path: codes for path, codes in results.items() if codes}
    met = write_report(results, wall, args.names, args.max_children, args.note)
    by_status: defaultdict[str, int] = defaultdict(int)
    for codes in results.values():
        for code in codes.values():
            by_status[status(code)] += 1
    print(f"wrote {OUT.relative_to(REPO)}: {dict(by_status)}; targets {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
