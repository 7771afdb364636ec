"""The HTML report as a person sees it: headless Chromium on the file, offline."""

import shutil

import pytest

from pipeline.report import CHARTS, write_report
from tests.helpers import REPO
from tests.trend_corpus import SCRIPT_TITLE

pytestmark = pytest.mark.browser
SCREENSHOTS = REPO / "test-output"


@pytest.fixture(params=["samples", "small"])
def report(request, sample_settings, small_settings):
    settings = sample_settings if request.param == "samples" else small_settings
    return request.param, write_report(settings.layout)


def test_report_renders_offline_with_every_chart(browser, report, tmp_path):
    name, written = report
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    problems, requests, dialogs = [], [], []
    page.on("console", lambda message: message.type in ("error", "warning") and problems.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))

    def refuse(route):
        problems.append(f"network request: {route.request.url}")
        route.abort()

    # Anything but the file itself (and its data: images) would be a fetch over the network.
    page.route(lambda url: not url.startswith(("file:", "data:")), refuse)
    try:
        page.goto(written.path.as_uri(), wait_until="load")
        charts = page.locator("figure img")
        assert charts.count() == len(CHARTS)
        for index in range(charts.count()):
            chart = charts.nth(index)
            loaded = chart.evaluate("img => img.complete && img.naturalWidth > 0 && img.naturalHeight > 0")
            box = chart.bounding_box()
            assert loaded and box["width"] > 300 and box["height"] > 150, (chart.get_attribute("id"), box)
        assert page.locator("script").count() == 0
        body = page.locator("body").inner_text()
        if name == "small":
            # The title with markup is shown as text, and ran nothing.
            assert page.get_by_text(SCRIPT_TITLE, exact=True).count() == 1
            assert SCRIPT_TITLE in body
        assert "papertrends report" in body
        screenshot = tmp_path / f"report-{name}.png"
        page.screenshot(path=str(screenshot), full_page=True)
        SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copyfile(screenshot, SCREENSHOTS / screenshot.name)
    finally:
        page.close()
    assert problems == [] and dialogs == []
    assert {url.split(":", 1)[0] for url in requests} <= {"file", "data"}
