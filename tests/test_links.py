"""Link extraction on the awkward cases of the samples, and the published repo_links."""

import pytest

from pipeline.read.links import CODE_KINDS, LINK_KINDS, canonicalize, extract_links

# (text around the link, as in the samples) -> (url, kind, owner, repo)
AWKWARD = [
    ("Code: https://github.com/Haochen-Wang409/HPM.", ("https://github.com/Haochen-Wang409/HPM", "github", "Haochen-Wang409", "HPM")),
    ("(available at https://github.com/NVlabs/gbrl). GBRL", ("https://github.com/NVlabs/gbrl", "github", "NVlabs", "gbrl")),
    ("(https://github.com/LZY-the-boys/Twin-Mergin.)", ("https://github.com/LZY-the-boys/Twin-Mergin", "github", "LZY-the-boys", "Twin-Mergin")),
    ("\\textcolor[rgb]{1, 0, 0}{Code available at http://www.bhchen.cn/}.", ("https://www.bhchen.cn", "project_page", None, None)),
    ("at https://github.com/wangzhiyaoo/SVFR.git.", ("https://github.com/wangzhiyaoo/SVFR", "github", "wangzhiyaoo", "SVFR")),
    ("at https://github.com/ihaeyong/PFNR.git. We", ("https://github.com/ihaeyong/PFNR", "github", "ihaeyong", "PFNR")),
    ("and https://github.com/HKUDS/LLMRec.git", ("https://github.com/HKUDS/LLMRec", "github", "HKUDS", "LLMRec")),
    (
        "at https://github.com/huawei-noah/noah-research/tree/master/Focus-DETR and",
        ("https://github.com/huawei-noah/noah-research/tree/master/Focus-DETR", "github", "huawei-noah", "noah-research"),
    ),
    (
        "and https://github.com/facebookresearch/luckmatters/tree/master/ssl.",
        ("https://github.com/facebookresearch/luckmatters/tree/master/ssl", "github", "facebookresearch", "luckmatters"),
    ),
    (
        "and https://gitee.com/mindspore/models/tree/master/research/cv/Focus-DETR.",
        ("https://gitee.com/mindspore/models/tree/master/research/cv/Focus-DETR", "gitee", "mindspore", "models"),
    ),
    ("at http://github.com/ddgoodgood/TRCE.", ("https://github.com/ddgoodgood/TRCE", "github", "ddgoodgood", "TRCE")),
    ("Project website: vid2robot.github.io", ("https://vid2robot.github.io", "github_pages", "vid2robot", None)),
    (
        "Our code is available~https://anonymous.4open.science/r/BIB-ICLR2023-Submission/README.md{here.}",
        ("https://anonymous.4open.science/r/BIB-ICLR2023-Submission/README.md", "anonymous_review", None, None),
    ),
    (
        "at https://huggingface.co/datasets/davidbrandfonbrener/color-filtered-c4",
        ("https://huggingface.co/datasets/davidbrandfonbrener/color-filtered-c4", "huggingface", "davidbrandfonbrener", "color-filtered-c4"),
    ),
    ("page: https://sgvaze.github.io/genecis/.", ("https://sgvaze.github.io/genecis", "github_pages", "sgvaze", None)),
    ("at https://serl-robot.github.io/", ("https://serl-robot.github.io", "github_pages", "serl-robot", None)),
    ("see https://agi-labs.github.io/manipulate-by-seeing/.", ("https://agi-labs.github.io/manipulate-by-seeing", "github_pages", "agi-labs", None)),
]


@pytest.mark.parametrize(("text", "expected"), AWKWARD, ids=[case[1][0] for case in AWKWARD])
def test_awkward_links(text, expected):
    links = extract_links(text)
    assert [(link.url, link.kind, link.owner, link.repo) for link in links] == [expected]


def test_awkward_links_as_published_from_the_samples(sample_settings):
    from tests.helpers import rows

    published = {row["url"]: (row["url"], row["kind"], row["owner"], row["repo"]) for row in rows(sample_settings.layout, "repo_links")}
    for _, expected in AWKWARD:
        assert published[expected[0]] == expected
    assert {row["kind"] for row in rows(sample_settings.layout, "repo_links")} <= set(LINK_KINDS)


def test_canonical_form():
    link = canonicalize("HTTP://GitHub.COM/Owner/Repo/")
    assert (link.url, link.host, link.raw_url) == ("https://github.com/Owner/Repo", "github.com", "HTTP://GitHub.COM/Owner/Repo/")
    assert canonicalize("https://example.org/a_(b)").url == "https://example.org/a_(b)"
    assert canonicalize("https://gitlab.com/group/project.git").repo == "project"
    assert canonicalize("https://bitbucket.org/team/tool").kind == "bitbucket"
    assert canonicalize("https://arxiv.org/abs/2303.12345").kind == "other"
    # A pages site, but first of all the anonymous review host.
    assert canonicalize("https://openreview-anon.github.io/x").kind == "anonymous_review"
    assert canonicalize("https://openreview.github.io/x").kind == "github_pages"


@pytest.mark.parametrize(
    "text",
    [
        "e.g. this works.In practice",  # a missing space is not a link
        "results in Fig.3 and Tab.2",
        "mail me at someone@example.com",
        "version 1.2.3 of the model",
    ],
)
def test_not_links(text):
    assert extract_links(text) == []


# Where a hint ends a word, sits next to other text, or where lower() lengthens a character.
HINT_EDGES = [
    "see x.com. Then",
    "(vid.github.io)",
    "at www.foo.eu today",
    "HTTPS://Foo.EU/x.",
    "İstanbul: https://x.eu/a and vid.github.io",
    "a.io.b.io. c.IO d.co/ e.in/x",
    "https://a.eu/x,https://b.eu/y",
    "x" * 300 + ".io/" + ")" * 20,
]


@pytest.mark.parametrize("text", HINT_EDGES)
def test_hints_lead_to_every_link(text):
    from tests.helpers import links_by_definition

    assert extract_links(text) == links_by_definition(text)
    assert extract_links(text)  # each case holds a link


def test_reader_finds_the_links_of_an_indented_abstract():
    from pipeline.read.reader import parse_digest
    from tests.helpers import abstract, render

    text = " " * 12 + abstract("links") + " Code: www.foo.eu and x.com.\nsecond line"
    parsed = parse_digest(render("Mar 12", [("A title", text)]).encode(), "x.txt")
    assert [link.url for link in parsed.entries[0].links] == ["https://www.foo.eu", "https://x.com"]


def test_one_link_per_canonical_url():
    text = "https://github.com/a/b. Also https://github.com/a/b.git and github.com/a/b"
    assert [link.url for link in extract_links(text)] == ["https://github.com/a/b"]


def test_code_kinds_are_kinds():
    assert set(CODE_KINDS) < set(LINK_KINDS)


# A non-ASCII character that is no letter, mark or number ends a link (text -> url, owner,
# repo): each of these is the one repository github.com/acme/tool, or keeps its letter case.
NON_ASCII_ENDS = [
    ("Code is at “https://github.com/acme/tool”.", ("https://github.com/acme/tool", "acme", "tool")),
    ("Code: https://github.com/acme/tool…", ("https://github.com/acme/tool", "acme", "tool")),
    ("Code: https://github.com/acme/tool\u200b and data.", ("https://github.com/acme/tool", "acme", "tool")),
    ("We release https://github.com/acme/tool—a toolkit for X.", ("https://github.com/acme/tool", "acme", "tool")),
    ("See https://github.com/acme/tool’s README.", ("https://github.com/acme/tool", "acme", "tool")),
    ("Code: https://github.com/acme/tool.git”", ("https://github.com/acme/tool", "acme", "tool")),
    ("代码：https://github.com/Acme-Lab/ToolKit。", ("https://github.com/Acme-Lab/ToolKit", "Acme-Lab", "ToolKit")),
    ("(www.github.com/Acme/Tool…)", ("https://github.com/Acme/Tool", "Acme", "Tool")),
    ("Code: https://github.com/Acme/Tool🚀 now", ("https://github.com/Acme/Tool", "Acme", "Tool")),
    ("Page: “vid2robot.github.io/demo”", ("https://vid2robot.github.io/demo", "vid2robot", None)),
    # Inside the path, it ends the link there: what follows is no part of it.
    ("See https://github.com/acme/to—ol", ("https://github.com/acme/to", "acme", "to")),
    ("See https://github.com/acme/t”ool", ("https://github.com/acme/t", "acme", "t")),
    # Non-ASCII letters, marks and numbers stay, up to the character that ends the link.
    ("Code: https://github.com/acme/café”", ("https://github.com/acme/café", "acme", "café")),
    ("Code: https://github.com/acme/cafe\u0301—ok", ("https://github.com/acme/cafe\u0301", "acme", "cafe\u0301")),
    ("Code: https://github.com/acme/tool٣…", ("https://github.com/acme/tool٣", "acme", "tool٣")),
]


# ASCII ids: mutmut runs tests by id in a process that collected them once already, where
# pytest no longer finds ids holding escaped non-ASCII characters.
NON_ASCII_END_IDS = [
    "curly quotes", "ellipsis", "zero-width space", "em dash", "curly apostrophe", ".git and curly quote",
    "ideographic full stop", "www and ellipsis", "emoji", "project page in curly quotes",
    "em dash inside the path", "curly quote inside the path", "latin letter kept", "combining mark kept",
    "arabic-indic digit kept",
]  # fmt: skip


@pytest.mark.parametrize("char", [" ", "\t", "<", ">", '"', "{", "}", "\\", "|", "^", "`", "[", "]", "\u2019"])
def test_a_card_field_holding_a_character_no_link_holds_is_no_link(char):
    # Card fields (a JSON githubRepo, a badge's target) reach canonicalize whole.
    assert canonicalize(f"https://github.com/owner/repo{char}script") is None
    assert canonicalize(f"https://github.com/owner{char}x/repo") is None


@pytest.mark.parametrize("char", ["&", "(", "~", "%", "=", "+", "@", "!", "$", ",", ";", "é"])
def test_a_card_field_of_link_characters_is_a_link(char):
    link = canonicalize(f"https://github.com/owner/repo{char}x")
    assert (link.url, link.owner, link.repo) == (f"https://github.com/owner/repo{char}x", "owner", f"repo{char}x")


@pytest.mark.parametrize(("text", "expected"), NON_ASCII_ENDS, ids=NON_ASCII_END_IDS)
def test_a_non_ascii_character_that_is_no_letter_mark_or_number_ends_a_link(text, expected):
    assert [(link.url, link.owner, link.repo) for link in extract_links(text)] == [expected]


def test_non_ascii_letters_of_a_project_page_stay():
    links = extract_links("项目主页：https://example.cn/项目”。 हिंदी: https://example.in/हिन्दी।")
    assert [(link.url, link.kind) for link in links] == [
        ("https://example.cn/项目", "project_page"),
        ("https://example.in/हिन्दी", "project_page"),  # vowel signs and virama are marks
    ]


def test_one_repository_however_the_link_ends():
    text = (
        "github.com/acme/tool, “https://github.com/acme/tool” https://github.com/acme/tool… "
        "https://github.com/acme/tool\u200b https://github.com/acme/tool—a https://github.com/acme/tool’s"
    )
    assert [(link.url, link.owner, link.repo) for link in extract_links(text)] == [("https://github.com/acme/tool", "acme", "tool")]


# Links next to non-ASCII characters: the hints lead to each (text -> urls).
NON_ASCII_HINT_EDGES = [
    ("见“vid.github.io/demo”。", ["https://vid.github.io/demo"]),
    ("see x.com/a… and y.io/b—z", ["https://x.com/a", "https://y.io/b"]),
    ("https://github.com/a/b\u200bgithub.com/c/d", ["https://github.com/a/b", "https://github.com/c/d"]),
    ("https://x.eu/a—https://y.eu/b", ["https://x.eu/a", "https://y.eu/b"]),
    ("İstanbul: “https://x.eu/a” and vid.github.io…", ["https://x.eu/a", "https://vid.github.io"]),
]


@pytest.mark.parametrize(
    ("text", "urls"),
    NON_ASCII_HINT_EDGES,
    ids=["cjk quotes", "ellipsis and em dash", "zero-width space between two", "em dash between two", "dotted capital I lowered"],
)
def test_hints_lead_to_links_ended_by_non_ascii_characters(text, urls):
    from tests.helpers import links_by_definition

    assert [link.url for link in extract_links(text)] == urls
    assert extract_links(text) == links_by_definition(text)


def test_reader_ends_links_at_non_ascii_punctuation():
    from pipeline.read.reader import parse_digest
    from tests.helpers import abstract, render

    entries = [
        ("Curly quotes", abstract("quotes") + " Code is at “https://github.com/acme/tool”."),
        ("Em dash", abstract("dash") + " We release https://github.com/acme/tool—a toolkit."),
        ("Project page", abstract("page") + " Page: https://example.cn/项目…"),
    ]
    parsed = parse_digest(render("Mar 12", entries).encode(), "x.txt")
    assert [[(link.url, link.repo) for link in entry.links] for entry in parsed.entries] == [
        [("https://github.com/acme/tool", "tool")],
        [("https://github.com/acme/tool", "tool")],
        [("https://example.cn/项目", None)],
    ]
