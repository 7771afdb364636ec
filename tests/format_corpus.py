"""Made-up Daily Papers captures rendered in the formats that readers of captures meet.

Each render function turns a `Capture` (the papers of one list page) into the text a
real tool would have saved for that page:

    markdown           a scraper's markdown of the page (inline links)
    markdown_ref       the same page as reference-style markdown ([text][12] + definitions)
    text_export        a plain-text export: each link's target on a line of its own
    trending           markdown of https://huggingface.co/papers/trending (cards twice)
    daily_papers_json  the JSON array of https://huggingface.co/api/daily_papers

The shapes imitate captures seen in the wild; `FIELDS` says which `CardEntry` fields
each format carries, so a round-trip test knows what a reader can get back.
Standard library only: tests import this without the project's dependencies.
"""

import datetime as dt
import json
import textwrap
from dataclasses import dataclass
from urllib.parse import quote

HF = "https://huggingface.co"
LISTINGS = ("daily", "weekly", "monthly", "trending", "search")
# The day used for dates when a capture has neither a list day nor a retrieval time.
DEFAULT_DAY = dt.date(2026, 3, 12)
# A search capture needs a query for its URL; Capture has no field for one.
SEARCH_QUERY = "counterfactual"
# The markdown escapes scrapers apply to text (backslash first, so it is not doubled).
MARKDOWN_SPECIALS = ("\\", "_", "*", "[", "]")
ELLIPSIS = "\u2026"
TRENDING_CUT = 200  # characters kept of a shortened trending abstract


@dataclass(frozen=True)
class CardEntry:
    title: str
    abstract: str
    arxiv_id: str | None = None
    upvotes: int | None = None
    comments: int | None = None
    authors: tuple[str, ...] = ()
    github_repo: str | None = None  # full URL: https://github.com/owner/repo
    github_stars: int | None = None
    project_page: str | None = None
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capture:
    entries: tuple[CardEntry, ...]
    day: dt.date | None  # the list's day (None: a page without one, like trending)
    listing: str = "daily"
    retrieved: dt.datetime | None = None

    def __post_init__(self):
        if self.listing not in LISTINGS:
            raise ValueError(f"unknown listing {self.listing!r}; expected one of {LISTINGS}")


# ---------------------------------------------------------------------------------------
# Small pieces shared by the formats


def paper_url(arxiv_id: str) -> str:
    return f"{HF}/papers/{arxiv_id}"


def login_url(arxiv_id: str | None) -> str:
    """The upvote button's target: the site sends anonymous visitors to log in first."""
    path = f"/papers/{arxiv_id}" if arxiv_id else "/papers"
    return f"{HF}/login?next={quote(path, safe='')}"


def escape_markdown(text: str) -> str:
    for char in MARKDOWN_SPECIALS:
        text = text.replace(char, "\\" + char)
    return text


def format_stars(stars: int) -> str:
    """Stars as the site's GitHub badge shows them: 950, 1.32k, 12.5k, 110k, 2.1M."""
    if stars < 1000:
        return str(stars)
    for scale, suffix in ((1_000_000, "M"), (1000, "k")):
        if stars >= scale:
            value = stars / scale
            # Three significant digits, trailing zeros dropped (1.50k reads 1.5k).
            digits = 2 if value < 10 else 1 if value < 100 else 0
            shown = f"{value:.{digits}f}"
            if "." in shown:
                shown = shown.rstrip("0").rstrip(".")
            return shown + suffix
    raise AssertionError("unreachable")


def list_day(capture: Capture) -> dt.date:
    """The day dates are counted from: the list's day, else the day it was retrieved."""
    if capture.day is not None:
        return capture.day
    if capture.retrieved is not None:
        return capture.retrieved.date()
    return DEFAULT_DAY


def published_on(capture: Capture, index: int) -> dt.date:
    """The arXiv date of a card: a day or two before the list's day, by card index."""
    return list_day(capture) - dt.timedelta(days=1 + index % 2)


def short_date(day: dt.date, shown_year: int | None) -> str:
    """'Mar 12' within the shown year, 'Mar 12, 2026' otherwise (as the site does)."""
    text = f"{day:%b} {day.day}"
    return text if day.year == shown_year else f"{text}, {day.year}"


def _current_year(capture: Capture) -> int | None:
    # The site leaves the year out of dates in the year the page is viewed.
    return capture.retrieved.year if capture.retrieved is not None else None


def listing_url(capture: Capture) -> str:
    day = list_day(capture)
    if capture.listing == "daily":
        return f"{HF}/papers/date/{day.isoformat()}"
    if capture.listing == "weekly":
        year, week, _ = day.isocalendar()
        return f"{HF}/papers/week/{year}-W{week:02d}"
    if capture.listing == "monthly":
        return f"{HF}/papers/month/{day:%Y-%m}"
    if capture.listing == "trending":
        return f"{HF}/papers/trending"
    return f"{HF}/papers?q={quote(SEARCH_QUERY)}"


def date_line(capture: Capture) -> str | None:
    """The line above the first card naming the list's day, week or month."""
    if capture.day is None or capture.listing in ("trending", "search"):
        return None
    if capture.listing == "weekly":
        year, week, _ = capture.day.isocalendar()
        return f"Week {week}, {year}"
    if capture.listing == "monthly":
        return f"{capture.day:%B %Y}"
    return short_date(capture.day, _current_year(capture))


def nav_links(capture: Capture) -> list[tuple[str, str]]:
    """The Daily / Weekly / Monthly switch, pointing at the list's day."""
    day = list_day(capture)
    year, week, _ = day.isocalendar()
    return [
        ("Daily", f"{HF}/papers/date/{day.isoformat()}"),
        ("Weekly", f"{HF}/papers/week/{year}-W{week:02d}"),
        ("Monthly", f"{HF}/papers/month/{day:%Y-%m}"),
    ]


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def authors_text(count: int) -> str:
    return plural(count, "author")


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _front_matter(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(["---", *(f"{key}: {value}" for key, value in pairs), "---"])


# ---------------------------------------------------------------------------------------
# markdown and markdown_ref: one card builder, two ways of writing a link


class _InlineLinks:
    def link(self, text: str, url: str | None) -> str:
        return f"[{text}]({url})" if url else text


class _ReferenceLinks:
    """Numbers every link in order of appearance; the definitions go at the end.

    Each occurrence gets its own number, even for a URL seen before (the title and the
    abstract of a card point at the same page under two numbers), as the brief's
    example shows; tools differ on this.
    """

    def __init__(self):
        self.urls: list[str] = []

    def link(self, text: str, url: str | None) -> str:
        if not url:
            return text
        self.urls.append(url)
        return f"[{text}][{len(self.urls)}]"

    def definitions(self) -> str:
        return "\n".join(f"[{number}]: {url}" for number, url in enumerate(self.urls, start=1))


def _chrome_blocks(capture: Capture, links, heading: str) -> list[str]:
    # Built top to bottom: reference numbers follow the order of appearance.
    blocks = [links.link("Hugging Face", f"{HF}/"), "Get trending papers in your email inbox!"]
    blocks += [links.link("Subscribe", f"{HF}/papers"), f"# {heading}"]
    blocks.append(" / ".join(links.link(text, url) for text, url in nav_links(capture)))
    return blocks


def _markdown_card(capture: Capture, index: int, entry: CardEntry, links, wrap: int | None) -> list[str]:
    url = paper_url(entry.arxiv_id) if entry.arxiv_id else None
    blocks = []
    if entry.upvotes is not None:
        blocks.append(links.link(str(entry.upvotes), login_url(entry.arxiv_id)))
    blocks.append("### " + links.link(escape_markdown(entry.title), url))
    # Scrapers give the abstract either as the card's link text or as a bare paragraph;
    # alternate so that a reader meets both.
    abstract = escape_markdown(entry.abstract)
    abstract = links.link(abstract, url) if index % 2 == 0 else abstract
    if wrap is not None:
        # Only spaces break lines: URLs and words stay whole, as in hard-wrapped files.
        abstract = textwrap.fill(abstract, width=wrap, break_long_words=False, break_on_hyphens=False)
    blocks.append(abstract)
    if entry.authors:
        bullet = ("* ", "· ", "")[index % 3]  # the three author-line shapes seen
        blocks.append(bullet + authors_text(len(entry.authors)))
    blocks.append("Published on " + short_date(published_on(capture, index), _current_year(capture)))
    if entry.github_repo:
        stars = "" if entry.github_stars is None else " " + format_stars(entry.github_stars)
        blocks.append(links.link(f"GitHub{stars}", entry.github_repo))
    if entry.comments is not None:
        blocks.append(links.link(plural(entry.comments, "comment"), f"{url}#community" if url else None))
    return blocks


def _markdown_blocks(capture: Capture, links, wrap: int | None, with_front_matter: bool) -> list[str]:
    blocks = []
    if with_front_matter and capture.retrieved is not None:
        blocks.append(_front_matter([("url", listing_url(capture)), ("retrieved", _iso(capture.retrieved))]))
    blocks += _chrome_blocks(capture, links, "Daily Papers")
    line = date_line(capture)
    if line is not None:
        blocks.append(line)
    for index, entry in enumerate(capture.entries):
        blocks += _markdown_card(capture, index, entry, links, wrap)
    return blocks


def render_markdown(capture: Capture) -> str:
    """Inline-link markdown; the front matter is there when the capture has a retrieval time."""
    return "\n\n".join(_markdown_blocks(capture, _InlineLinks(), None, True)) + "\n"


def render_markdown_ref(capture: Capture, wrap: int = 80, with_definitions: bool = True) -> str:
    """Reference-style markdown, abstracts hard-wrapped at `wrap` columns.

    with_definitions=False drops the `[n]: url` lines, as in files saved without them.
    No front matter: the tools that write this style do not add one.
    """
    links = _ReferenceLinks()
    blocks = _markdown_blocks(capture, links, wrap, False)
    if with_definitions and links.urls:
        blocks.append(links.definitions())
    return "\n\n".join(blocks) + "\n"


# ---------------------------------------------------------------------------------------
# trending


def render_trending(capture: Capture) -> str:
    """Markdown of the trending page: no date line, every card twice, front matter when
    the capture has a retrieval time.

    The page holds a desktop and a mobile layout of each card; the scraper keeps both,
    one right after the other (interleaved per card: A, A, B, B, ...), as in captures
    of the real page. The desktop copy says "Published on Mar 11", the mobile one
    "Mar 11". Every third card (index 2, 5, ...) shows its abstract cut at
    TRENDING_CUT characters and an ellipsis.
    """
    links = _InlineLinks()
    blocks = []
    # The page shows no day: a scraper's front matter is what dates the capture.
    if capture.retrieved is not None:
        blocks.append(_front_matter([("url", f"{HF}/papers/trending"), ("retrieved", _iso(capture.retrieved))]))
    blocks += _chrome_blocks(capture, links, "Trending Papers")
    for index, entry in enumerate(capture.entries):
        for published_prefix in ("Published on ", ""):
            blocks += _trending_card(capture, index, entry, published_prefix)
    return "\n\n".join(blocks) + "\n"


def _trending_card(capture: Capture, index: int, entry: CardEntry, published_prefix: str) -> list[str]:
    url = paper_url(entry.arxiv_id) if entry.arxiv_id else None
    links = _InlineLinks()
    abstract = entry.abstract
    if index % 3 == 2 and len(abstract) > TRENDING_CUT:
        abstract = abstract[:TRENDING_CUT].rstrip() + ELLIPSIS  # cut before escaping
    byline = published_prefix + short_date(published_on(capture, index), _current_year(capture))
    if entry.authors:
        byline = f"{authors_text(len(entry.authors))} · {byline}"
    blocks = ["### " + links.link(escape_markdown(entry.title), url), escape_markdown(abstract), byline]
    # On this page the upvote button sits below the byline.
    if entry.upvotes is not None:
        blocks.append(links.link(str(entry.upvotes), login_url(entry.arxiv_id)))
    badges = []
    if entry.github_repo:
        stars = "" if entry.github_stars is None else " " + format_stars(entry.github_stars)
        badges.append(links.link(f"GitHub{stars}", entry.github_repo))
    if entry.arxiv_id:
        badges.append(links.link("arXiv Page", f"https://arxiv.org/abs/{entry.arxiv_id}"))
    if badges:
        blocks.append(" ".join(badges))
    return blocks


# ---------------------------------------------------------------------------------------
# text_export

# The site's top bar, as an export lists it before the page's own links.
_TOP_BAR = (
    ("Hugging Face", f"{HF}/"),
    ("Models", f"{HF}/models"),
    ("Datasets", f"{HF}/datasets"),
    ("Spaces", f"{HF}/spaces"),
    ("Docs", f"{HF}/docs"),
    ("Pricing", f"{HF}/pricing"),
    ("Log In", f"{HF}/login"),
    ("Sign Up", f"{HF}/join"),
)


def render_text_export(capture: Capture) -> str:
    """A plain-text export: every link is its text, a blank line, then its URL alone.

    Per card, as in real exports: the upvote button (" [-] 57", "-" for no count) and
    its login URL come first, then title, URL, abstract, URL, the author count, "·",
    the date, the GitHub badge and the comment count with its #community URL.
    """
    meta = [("title", '"Daily Papers - Hugging Face"'), ("url", listing_url(capture))]
    if capture.retrieved is not None:
        meta.append(("exported", _iso(capture.retrieved)))
    blocks = [_front_matter(meta), "# Daily Papers - Hugging Face"]
    for text, url in _TOP_BAR:
        blocks += [text, url]
    blocks += ["Get trending papers in your email inbox!", "Subscribe", login_url(None)]
    blocks += ["Daily Papers", f"{HF}/papers"]
    for text, url in nav_links(capture):
        blocks += [text, url]
    line = date_line(capture)
    if line is not None:
        blocks.append(line)
    for index, entry in enumerate(capture.entries):
        blocks += _text_card(capture, index, entry)
    return "\n\n".join(blocks) + "\n"


def _text_card(capture: Capture, index: int, entry: CardEntry) -> list[str]:
    url = paper_url(entry.arxiv_id) if entry.arxiv_id else None

    def pair(text: str, target: str | None) -> list[str]:
        return [text, target] if target else [text]

    count = "-" if entry.upvotes is None else str(entry.upvotes)
    # The leading space is the button's icon, which the export leaves as a space.
    blocks = pair(f" [-] {count}", login_url(entry.arxiv_id) if entry.arxiv_id else None)
    blocks += pair(entry.title, url)
    blocks += pair(entry.abstract, url)
    if entry.authors:
        blocks.append(authors_text(len(entry.authors)))
    blocks += ["·", "Published on " + short_date(published_on(capture, index), _current_year(capture))]
    if entry.github_repo:
        stars = "" if entry.github_stars is None else " " + format_stars(entry.github_stars)
        blocks += [f"GitHub{stars}", entry.github_repo]
    if entry.comments is not None:
        blocks += pair(str(entry.comments), f"{url}#community" if url else None)
    return blocks


# ---------------------------------------------------------------------------------------
# daily_papers_json


def _api_time(day: dt.date, hour: int, minute: int, second: int = 0) -> str:
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}.000Z"


def daily_papers_item(capture: Capture, index: int, entry: CardEntry) -> dict:
    """One item of the API's array; optional fields are absent when None or empty."""
    if not entry.arxiv_id:
        raise ValueError(f"the daily-papers API always has an id; entry {index} has none")
    published = _api_time(published_on(capture, index), 17, 59, index % 60)
    paper: dict = {
        "id": entry.arxiv_id,
        "authors": [{"name": name, "hidden": False} for name in entry.authors],
        "publishedAt": published,
        "submittedOnDailyAt": _api_time(list_day(capture), (3 + 2 * index) % 24, (17 * index) % 60),
        "title": entry.title,
        "summary": entry.abstract,
    }
    optional = {
        "upvotes": entry.upvotes,
        "githubRepo": entry.github_repo,
        "githubStars": entry.github_stars,
        "projectPage": entry.project_page,
        "ai_keywords": list(entry.keywords) or None,
    }
    paper.update({key: value for key, value in optional.items() if value is not None})
    if not paper["authors"]:
        del paper["authors"]
    item: dict = {"paper": paper, "publishedAt": published, "title": entry.title}
    item["thumbnail"] = f"https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/{entry.arxiv_id}.png"
    if entry.comments is not None:
        item["numComments"] = entry.comments
    item["isAuthorParticipating"] = False  # a field readers should ignore
    return item


def render_daily_papers_json(capture: Capture) -> str:
    """The API's JSON array, pretty-printed; non-ASCII kept as is, as the API sends it."""
    items = [daily_papers_item(capture, index, entry) for index, entry in enumerate(capture.entries)]
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------
# The registry

FORMATS = {
    "markdown": render_markdown,
    "markdown_ref": render_markdown_ref,
    "text_export": render_text_export,
    "trending": render_trending,
    "daily_papers_json": render_daily_papers_json,
}

# What a reader can get back from each format. "n_authors": the count only, no names.
# trending shortens every third abstract; markdown formats escape _ * [ ] \ in text.
_CARD = {"title", "abstract", "arxiv_id", "upvotes", "n_authors", "github_repo", "github_stars"}
FIELDS = {
    "markdown": _CARD | {"comments"},
    "markdown_ref": _CARD | {"comments"},  # without definitions: no arxiv_id or github_repo
    "text_export": _CARD | {"comments"},
    "trending": _CARD,
    "daily_papers_json": _CARD | {"comments", "authors", "project_page", "keywords"},
}


def can_render(name: str, capture: Capture) -> bool:
    """JSON needs an arXiv id on every entry; the other formats take any capture."""
    return name != "daily_papers_json" or all(entry.arxiv_id for entry in capture.entries)


# ---------------------------------------------------------------------------------------
# Hand-made captures (titles and abstracts are invented)

_A1 = CardEntry(
    title="Sparse_MoE at Scale: Routing *Every* Token Through [MASK] Experts",
    abstract=(
        "Mixture-of-experts layers route each token to a small subset of feed-forward "
        "experts, but the [MASK] token used in masked pre-training is routed like any "
        "other token and ends up overloading two or three experts. We study this effect "
        "in Sparse_MoE, a family of encoder models from 120M to 7B parameters, and show "
        "that routing *every* token, including padding and mask tokens, through a learned "
        "balancing gate removes the hot spots without an auxiliary loss. The gate adds "
        "0.4% to training time and improves GLUE by 1.1 points on average. We release "
        "checkpoints, routing logs and the training code at "
        "https://github.com/sparse-moe-lab/sparse_moe."
    ),
    arxiv_id="2603.08817",
    upvotes=57,
    comments=3,
    authors=("Lena Vogt", "Rahul Iyer", "Chen Wei", "Marta Kowalska", "Tomás Ortega"),
    github_repo="https://github.com/sparse-moe-lab/sparse_moe",
    github_stars=1320,
    keywords=("mixture-of-experts", "routing", "masked language modeling"),
)

_A2 = CardEntry(
    title="λ-Agents: Typed Tool Use for Language Models via Δ-Calculus",
    abstract=(
        "Language-model agents call tools through untyped JSON, so a malformed call is "
        "found only when the tool fails. We propose λ-Agents, which write tool calls as "
        "terms of a small typed calculus (Δ-calculus) that is checked before execution. "
        "A type error is returned to the model as feedback, and the model repairs the "
        "call in the next turn. On three agent benchmarks the approach cuts failed tool "
        "calls by 63% and improves task success by 9 points over JSON function calling, "
        "at the cost of a 7% longer prompt. We also show that the typing rules can be "
        "learned from 200 examples of valid calls."
    ),
    arxiv_id="2603.09102",
    upvotes=None,  # a card whose count the capture lost
    authors=("Nikos Papadakis", "Eleni Georgiou", "Sam Hughes"),
    keywords=("agents", "tool use", "type systems"),
)

_A3 = CardEntry(
    title="Méthodes Über Alles: Cross-Lingual Retrieval for Low-Resource Languages",
    abstract=(
        "Dense retrievers trained on English queries transfer poorly to languages with "
        "little labelled data. We present a recipe that combines machine-translated "
        "queries with a contrastive objective over code-switched passages, and evaluate "
        "it on 18 languages, from Basque and Yorùbá to Quechua. The recipe raises "
        "nDCG@10 by 6.2 points on average and by 11 points on the five languages with "
        "the least data, while keeping English quality unchanged. Analysis shows that "
        "code-switched passages matter more than translated queries for scripts other "
        "than Latin. Project page: mlir-lab.github.io/uber-alles. Data and models are "
        "on the Hub."
    ),
    arxiv_id="2603.07754",
    upvotes=12,
    authors=("Amaia Etxeberria", "Jürgen Böhm", "Adébáyọ̀ Ọlátúnjí", "Rosa Quispe"),
    github_repo="https://github.com/mlir-lab/uber-alles",
    github_stars=950,
    project_page="https://mlir-lab.github.io/uber-alles",
)

_A4 = CardEntry(
    title="When \\cite Breaks: Robust Parsing of LaTeX-Heavy Abstracts",
    abstract=(
        "Abstracts copied from arXiv keep LaTeX commands such as \\cite, \\textbf and "
        "inline math like $O(n \\log n)$, which confuses tokenizers and downstream "
        "classifiers. We collect 40,000 abstracts with such leftovers, label which "
        "spans are markup and which are text, and train a small tagger that restores "
        "the intended reading. The tagger reaches 97.8 F1 and, used as a preprocessing "
        "step, improves topic classification of new submissions by 2.3 points. A "
        "command-line tool is available at https://github.com/someone/thing."
    ),
    arxiv_id="2603.06021",
    upvotes=8,
    comments=1,
    authors=("Priya Natarajan", "Owen Fletcher"),
)

_B1 = CardEntry(
    title="Tables Without Borders: Reading Scanned Spreadsheets with [Row] and [Col] Tokens",
    abstract=(
        "Scanned spreadsheets lose the grid lines that table parsers rely on. We add two "
        "learned tokens, [Row] and [Col], to a vision-language model and train it to emit "
        "them between cells, turning table recognition into plain sequence generation. On "
        "a new benchmark of 5,200 scanned financial sheets the model reaches a cell "
        "accuracy of 91.4%, eleven points above the best borderless parser, and it keeps "
        "working when the scan is rotated by up to 8 degrees. We discuss failure cases "
        "with merged cells and handwritten totals."
    ),
    arxiv_id=None,  # a card captured without its paper link
    upvotes=4,
    authors=("Ines Duarte", "Kofi Mensah", "Yuki Tanaka"),
)

_B2 = CardEntry(
    title="Ω-Diffusion: Sampling Images in 4 Steps with Consistency Trajectories",
    abstract=(
        "Diffusion models need dozens of denoising steps to produce a sharp image. "
        "Ω-Diffusion distils a pretrained model into a student that follows consistency "
        "trajectories and samples in four steps. Unlike earlier consistency models, the "
        "student is trained on the teacher's trajectories at several noise scales at once, "
        "which avoids the colour drift seen at low step counts. On ImageNet 512x512 the "
        "student reaches an FID of 2.41 in four steps against 2.19 for the teacher in 50. "
        "Code and weights: https://github.com/omega-diff/omega_diffusion. Samples are shown "
        "on our project page at omega-diff.github.io/samples."
    ),
    arxiv_id="2602.21490",
    upvotes=131,
    comments=12,
    authors=("Hana Novak", "Felix Brandt", "Aiko Mori", "Luis Herrera", "Zoe Adams", "Ravi Menon"),
    github_repo="https://github.com/omega-diff/omega_diffusion",
    github_stars=12500,
    project_page="https://omega-diff.github.io/samples",
)

_B3 = CardEntry(
    title="Do Small Models Dream of Long Contexts?",
    abstract=(
        "Long-context benchmarks are dominated by models with tens of billions of "
        "parameters. We ask how far a 1B model can go when trained with the same "
        "long-context recipe. With a staged extension from 4k to 128k tokens and a mix "
        "of synthetic retrieval tasks, the small model solves needle-in-a-haystack at all "
        "lengths but falls behind on multi-hop questions beyond 32k tokens. We trace the "
        "gap to attention heads that stop attending to distant evidence, and show that "
        "freezing them during extension recovers half of the lost accuracy."
    ),
    arxiv_id="2602.20733",
    upvotes=None,
    authors=("Daniel Kim",),
)

_C1 = CardEntry(
    title="OpenCourt: A Multi-Agent Framework for Legal Reasoning",
    abstract=(
        "OpenCourt casts legal question answering as a trial between agents: two "
        "advocates argue opposite readings of a statute, a clerk retrieves precedent, and "
        "a judge agent writes the final answer with citations. Across four legal QA "
        "benchmarks the framework improves accuracy by 7 to 14 points over a single "
        "agent with the same retrieval, and its citations are judged correct by lawyers "
        "in 88% of the cases. All prompts and transcripts are public at "
        "https://github.com/opencourt/opencourt."
    ),
    arxiv_id="2603.01188",
    upvotes=412,
    authors=("Maya Lindqvist", "Joao Pereira", "Hye-jin Park", "Arjun Rao"),
    github_repo="https://github.com/opencourt/opencourt",
    github_stars=110000,
)

_C2 = CardEntry(
    title="Serving 70B Models from a Laptop SSD with Predictive Paging",
    abstract=(
        "Running a large language model on a laptop is limited by memory, not compute. "
        "We stream weights from the SSD and hide the read latency by predicting, one "
        "layer ahead, which blocks the next layer will need. The predictor is a small "
        "head trained on the model's own activations. With 16 GB of RAM the system "
        "generates 9 tokens per second from a 70B model at 4-bit precision, within 3% of "
        "the quality of the unquantized model on five benchmarks."
    ),
    arxiv_id="2603.02577",
    upvotes=96,
    authors=("Ola Nordmann", "Petra Szabo"),
    github_repo="https://github.com/laptop-llm/predictive-paging",
    github_stars=3290,
)

_C3 = CardEntry(
    title="Ἀρχή: Pre-Training on Ancient Greek Papyri with Noisy OCR",
    abstract=(
        "Ancient Greek papyri survive in fragments, and their OCR transcriptions are full "
        "of errors. We pre-train a character-level model on 2.3 million lines of noisy "
        "transcriptions and fine-tune it to restore missing characters, to date "
        "fragments and to attribute them to a region. A denoising objective that "
        "imitates OCR confusions (such as ο for σ and ι for ῖ) matters most: without it "
        "restoration accuracy drops from 71% to 58%. Papyrologists found the model's "
        "suggestions useful in a blind study on 300 unpublished fragments. Transcriptions, "
        "model and demo: https://papyri-lab.github.io/arche/."
    ),
    arxiv_id="2603.03340",
    upvotes=88,
    comments=5,
    authors=("Eleni Markou", "Thomas Becker", "Giulia Rossi"),
    project_page="https://papyri-lab.github.io/arche/",
)

_C4 = CardEntry(
    title="VoxelWorld: Learning 3D Scene Dynamics from Monocular Video",
    abstract=(
        "VoxelWorld learns a world model over voxel grids from ordinary monocular video. "
        "A depth estimator lifts each frame to a coarse voxel grid, and a transformer "
        "predicts how the grid evolves under the camera's motion. Trained on 400 hours "
        "of driving and indoor video, the model forecasts two seconds of scene motion "
        "and improves downstream planning in simulation by 18% over image-space world "
        "models. Code: https://github.com/voxelworld/voxelworld."
    ),
    arxiv_id="2603.04412",
    upvotes=23,
    authors=("Ben Carter", "Ana Lima", "Sofia Ivanova", "Mehdi Karimi", "Lucas Martin"),
    github_repo="https://github.com/voxelworld/voxelworld",
    github_stars=843,
)

_D1 = CardEntry(
    title="Reward Models Are Secretly Calibrated: A Study of 40 Preference Datasets",
    abstract=(
        "Reward models trained on human preferences are often assumed to be poorly "
        "calibrated. We evaluate 40 public preference datasets and 25 reward models and "
        "find the opposite for in-distribution pairs: predicted preference probabilities "
        "match observed agreement rates within 3 points. Calibration breaks down only on "
        "pairs whose responses differ in length by more than a factor of two, which "
        "explains earlier negative results. A simple length-aware temperature restores "
        "calibration there. Our evaluation harness is at "
        "https://github.com/calib-rm/harness and the per-dataset results at "
        "https://calib-rm.github.io."
    ),
    arxiv_id="2603.05501",
    upvotes=64,
    comments=7,
    authors=("Iris Chang", "Mateo Gómez", "Nadia Haddad", "Kwame Boateng"),
    github_repo="https://github.com/calib-rm/harness",
    github_stars=1324,  # JSON carries the exact count; pages would show 1.32k
    project_page="https://calib-rm.github.io",
    keywords=("reward modeling", "calibration", "RLHF"),
)

_D2 = CardEntry(
    title="Speech_Tokens: Discrete Units for Spoken Dialogue in 1,000 Languages",
    abstract=(
        "Spoken dialogue models need discrete speech units that work across languages. "
        "We train a single tokenizer on 60,000 hours of speech in more than 1,000 "
        "languages and show that its units transfer to unseen languages with a word error "
        "rate only 4% higher than language-specific tokenizers. A dialogue model built "
        "on these units holds conversations in 12 languages after fine-tuning on 50 hours "
        "of dialogue per language. Tokenizer weights are released under a permissive "
        "licence."
    ),
    arxiv_id="2603.05873",
    upvotes=0,
    authors=("Abebe Tesfaye", "Marie Dubois", "Hiroshi Sato"),
    keywords=("speech tokenization", "multilingual", "spoken dialogue"),
)

_D3 = CardEntry(
    title="Können Sprachmodelle rechnen? Arithmetic Errors in German Word Problems",
    abstract=(
        "We translate 2,000 grade-school word problems into German and find that "
        "language models make twice as many arithmetic errors as on the English originals, "
        "even when their reasoning is correct. Most errors come from number words such as "
        "'dreiundzwanzig', which the tokenizer splits in ways that hide the digits. "
        "Rewriting number words as digits before inference closes 80% of the gap."
    ),
    arxiv_id="2603.06690",
    upvotes=19,
    comments=2,
)

CAPTURE_A = Capture(
    entries=(_A1, _A2, _A3, _A4),
    day=dt.date(2026, 3, 12),
    listing="daily",
    retrieved=dt.datetime(2026, 3, 12, 8, 0, tzinfo=dt.UTC),
)
# No retrieval time: no front matter, and the date line carries the year.
CAPTURE_B = Capture(entries=(_B1, _B2, _B3), day=dt.date(2026, 2, 27), listing="daily", retrieved=None)
CAPTURE_C = Capture(
    entries=(_C1, _C2, _C3, _C4),
    day=None,
    listing="trending",
    retrieved=dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC),
)
CAPTURE_D = Capture(
    entries=(_D1, _D2, _D3),
    day=dt.date(2026, 3, 9),
    listing="weekly",
    retrieved=dt.datetime(2026, 3, 15, 18, 45, tzinfo=dt.UTC),
)


def sample_captures() -> tuple[Capture, ...]:
    """Four deterministic captures.

    A: daily Mar 12 2026, front matter, escape-heavy titles, one card without upvotes.
    B: daily Feb 27 2026, no retrieval time, one card without an arXiv id (so
       daily_papers_json cannot render it; see can_render), one without upvotes.
    C: trending, no day, stars from 843 to 110k, one card without a GitHub repo.
    D: weekly from Mar 9 2026, every id present, exact stars (1324), zero upvotes.
    """
    return (CAPTURE_A, CAPTURE_B, CAPTURE_C, CAPTURE_D)
