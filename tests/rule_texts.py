"""The rules of every check in words, typed in from docs/validation.md: the oracle of the
rule texts the suites and the checks across tables report."""

RULE_TEXTS = {
    "digests": [
        "source_name is set",
        "source_name is unique (the key)",
        "digest_id is 64 lower-case hex digits",
        "digest_id is unique among the rows whose duplicate_of is null",
        "digest_date is set where the digest was read (status ok or duplicate)",
        "date_source is one of date_line, capture, file_name, config, reference_year",
        "status is one of ok, duplicate, empty, binary, undated, unreadable, unrecognized",
        "entry_count is not negative",
        "reject_count is not negative",
        "duplicate_of, where set, is the source_name of another row with the same digest_id, one that is no copy (its duplicate_of is null)",
        "format is one of sample, markdown, markdown-ref, text-export, trending, daily-papers-json, unrecognized",
        "listing is one of daily, weekly, monthly, trending, search, unknown",
        "entry_block_count is not negative",
        "date_source is set where the digest was read (status ok or duplicate)",
    ],
    "papers": [
        "paper_id is set",
        "paper_id is unique (the key)",
        "title is set",
        "title holds a letter or a digit (not blank, not only punctuation or invisible characters)",
        "title is 1 to 300 characters (the reader's title bound)",
        "abstract is 1 to 5,000 characters",
        "arxiv_id, where set, is an arXiv id (2303.12345)",
        "last_seen_date >= first_seen_date",
    ],
    "appearances": [
        "(digest_id, position) is unique",
        "(digest_id, paper_id) is unique: a paper once per digest",
        "position is at least 1",
        "position is at most the digest's entry_count",
        "upvotes, where set, is not negative",
        "comments, where set, is not negative",
        "arxiv_id, where set, is an arXiv id (2303.12345)",
    ],
    "repo_links": [
        "(paper_id, url) is unique",
        "url starts with https:// and a host",
        "kind is one of github, gitlab, gitee, bitbucket, huggingface, github_pages, anonymous_review, project_page, other",
        "owner is set where the url names a repository (github/gitlab/gitee/bitbucket host/owner/repo...)",
        "repo is set where the url names a repository (github/gitlab/gitee/bitbucket host/owner/repo...)",
        "source is one of abstract, card",
    ],
    "rejects": [
        "reason is one of binary_file, control_characters, abstract_without_title, title_without_abstract, "
        "truncated_entry, invalid_date, extra_date_line, undated_digest, repeated_entry, oversized_entry, undecodable_bytes, "
        "unrecognized_format, markup_title, invalid_item",
        "line is at least 1",
    ],
    "repo_stars": [
        "(url, day) is unique (the key)",
        "url starts with https:// and a host",
        "day is set",
        "stars is not negative",
    ],
    "paper_terms": [
        "(paper_id, term) is unique (the key)",
        "term is set",
        "term is not blank",
        "term is 3 to 60 characters (the term rules' bounds)",
        "in_title is set",
    ],
}
CROSS_RULE_TEXTS = {
    "papers_paper_id_unique": "paper_id is unique across all parts of papers",
    "appearances_paper_in_papers": "every appearances.paper_id exists in papers",
    "repo_links_paper_in_papers": "every repo_links.paper_id exists in papers",
    "paper_terms_paper_in_papers": "every paper_terms.paper_id exists in papers",
    "appearances_digest_in_digests": "every appearances.digest_id exists in digests",
    "rejects_digest_in_digests": "every rejects.digest_id exists in digests",
    "appearance_count_is_entry_count": "the appearance count of each digest (status ok, duplicate_of null) equals its entry_count",
    "reject_count_is_reject_rows": "the rejects rows of each digest number its reject_count; a copy (duplicate_of set) has none",
    "markup_titles_per_digest": "no digest has more than 1% of its entries titled with markup or a link",
}
# The checks publishing requires, in the order a build runs them.
REQUIRED_CHECK_NAMES = (
    "digests_expectations",
    "papers_expectations",
    "appearances_expectations",
    "repo_links_expectations",
    "rejects_expectations",
    "repo_stars_expectations",
    "paper_terms_expectations",
    "cross_table_integrity",
)
