"""`papertrends ui` as a person uses it: the assets in the UI, a run launched there,
and a digest dropped into the digests directory ingested by the sensor."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import duckdb
import pytest

from assets.definitions import ALL_ASSETS
from pipeline.staging import list_digest_files
from tests.browser import browser  # noqa: F401
from tests.helpers import REPO, SAMPLES, abstract, render

ASSETS = [key.to_user_string() for asset in ALL_ASSETS for key in asset.keys]
_STARTUP_LIMIT = 240  # seconds: guards against a hung server, not a speed check
_RUN_LIMIT = 240
_NEW_DIGEST = "005_dropped_in.txt"
_NEW_TITLES = [f"A dropped-in paper number {n}" for n in range(3)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(**settings) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PAPERTRENDS_", "DAGSTER_HOME"))}
    return {**env, **settings}


def _age(path) -> None:
    """Make a file look long finished, as files already in place when `make ui` starts are."""
    old = time.time() - 3600
    os.utime(path, (old, old))


def test_definitions_validate(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-m", "assets.definitions"],
        env=_env(
            DAGSTER_HOME=str(tmp_path),
            PAPERTRENDS_WAREHOUSE_DIR=str(tmp_path / "warehouse"),
            PAPERTRENDS_DIGESTS_DIR=str(SAMPLES),
        ),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "All code locations passed validation" in completed.stdout + completed.stderr


class Server:
    def __init__(self, port: int, process: subprocess.Popen, log_path):
        self.port = port
        self.process = process
        self.log_path = log_path
        self.url = f"http://127.0.0.1:{port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.url + "/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.load(response)
        assert "errors" not in body, body
        return body["data"]

    def wait_until(self, what: str, condition, limit: float = _RUN_LIMIT):
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"the server exited:\n{self.log()}"
            value = condition()
            if value:
                return value
            time.sleep(1)
        pytest.fail(f"gave up waiting for {what}:\n{self.log()}")

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/server_info", timeout=5) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def partition_keys(self) -> list[str]:
        data = self.graphql('{ assetNodeOrError(assetKey: {path: ["parsed_digest"]}) { ... on AssetNode { partitionKeys } } }')
        return data["assetNodeOrError"].get("partitionKeys") or []

    def run_status(self, run_id: str) -> str:
        data = self.graphql("query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }", {"id": run_id})
        return data["runOrError"]["status"]

    def launch_everything(self, first: str, last: str) -> str:
        """Materialize every asset over a partition range, as the UI's launchpad does."""
        data = self.graphql(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
                ... on InvalidSubsetError { message } } }""",
            {
                "params": {
                    "selector": {
                        "repositoryLocationName": "assets.definitions",
                        "repositoryName": "__repository__",
                        "jobName": "__ASSET_JOB",
                        "assetSelection": [{"path": [name]} for name in ASSETS],
                    },
                    "runConfigData": {},
                    "executionMetadata": {
                        "tags": [
                            {"key": "dagster/asset_partition_range_start", "value": first},
                            {"key": "dagster/asset_partition_range_end", "value": last},
                        ]
                    },
                }
            },
        )
        launched = data["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        return launched["run"]["runId"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("ui")
    raw = root / "raw"
    raw.mkdir()
    for name in list_digest_files(SAMPLES):
        shutil.copyfile(SAMPLES / name, raw / name)
        _age(raw / name)
    port = _free_port()
    log_path = root / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "assets.cli", "ui", "--port", str(port)],
            env=_env(PAPERTRENDS_WAREHOUSE_DIR=str(root / "warehouse"), PAPERTRENDS_DIGESTS_DIR=str(raw)),
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(port, process, log_path)
    server.root = root
    try:
        server.wait_until("the UI to answer", server.ready, limit=_STARTUP_LIMIT)
        yield server
    finally:
        # The whole group (webserver, daemon, code server, run workers) of a throwaway instance.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _screenshot(page, tmp_path, name):
    path = tmp_path / name
    page.screenshot(path=str(path))
    copy = REPO / "test-output" / name
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, copy)
    return path


def _finished(status: str) -> str | None:
    return None if status in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED") else status


def _daily_days(duckdb_path) -> list[str]:
    if not duckdb_path.exists():
        return []
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        return [str(row[0]) for row in con.execute("SELECT day FROM daily_summary ORDER BY day").fetchall()]


@pytest.mark.browser
@pytest.mark.slow
def test_ui_lists_materializes_and_ingests_a_dropped_digest(server, browser, tmp_path):  # noqa: F811
    # The sensor (on by default) registers the sample files as partitions on its first tick.
    samples = list_digest_files(SAMPLES)
    server.wait_until("the sample partitions", lambda: server.partition_keys() == samples)
    run_id = server.launch_everything(samples[0], samples[-1])
    # A person drops a new digest into the directory while the UI runs.
    new_file = server.root / "raw" / _NEW_DIGEST
    new_file.write_text(render("Mar 15", [(title, abstract(title)) for title in _NEW_TITLES]))
    _age(new_file)

    # While the runs go: every asset is listed in the catalog.
    server.graphql("mutation { setNuxSeen }")  # no first-visit newsletter dialog over the page
    page = browser.new_page(viewport={"width": 1500, "height": 1000})
    page.goto(server.url + "/assets")
    for name in ASSETS:
        page.locator(f'a[href="/assets/{name}"]').first.wait_for(timeout=60_000)
    _screenshot(page, tmp_path, "ui-assets.png")

    finished = server.wait_until("the launched run to finish", lambda: _finished(server.run_status(run_id)))
    assert finished == "SUCCESS", server.log()
    duckdb_path = server.root / "warehouse" / "trends.duckdb"
    days = server.wait_until("the dropped digest in daily_summary", lambda: "2026-03-15" in _daily_days(duckdb_path) and _daily_days(duckdb_path))
    assert days == ["2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14", "2026-03-15"]
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        assert con.execute("SELECT appearances, new_papers FROM daily_summary WHERE day = DATE '2026-03-15'").fetchall() == [
            (len(_NEW_TITLES), len(_NEW_TITLES))
        ]
    assert server.partition_keys() == [*samples, _NEW_DIGEST]
    # The runs held the warehouse lock (the project's executor writes the holder's pid).
    assert (server.root / "warehouse" / ".papertrends.lock").read_text().strip().isdigit()

    # The new partition explains itself: its date, entry count and reject count.
    page.goto(f"{server.url}/assets/parsed_digest?view=partitions&partition={_NEW_DIGEST}")
    page.get_by_text("2026-03-15").first.wait_for(timeout=60_000)
    metadata = page.locator("table").filter(has_text="entry_count").first.inner_text()
    assert "reject_count" in metadata and str(len(_NEW_TITLES)) in metadata
    _screenshot(page, tmp_path, "ui-new-partition.png")
    # The DuckDB asset shows its views and daily_summary, the new day included.
    page.goto(server.url + "/assets/trends_duckdb")
    views = page.get_by_text("repo_popularity").first
    views.wait_for(timeout=60_000)
    views.scroll_into_view_if_needed()
    page.get_by_text("2026-03-15").first.wait_for(timeout=60_000)
    _screenshot(page, tmp_path, "ui-trends-duckdb.png")
