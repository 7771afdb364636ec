"""`papertrends ui` as a person uses it: the assets, their checks and the sensor in the UI, a run
launched there, a digest dropped into the digests directory and ingested by the sensor, no
sign-up dialog; then the command stopped by SIGTERM or SIGINT, leaving no process behind."""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

from tests.helpers import REPO, SAMPLES, abstract, render, run_cli

pytestmark = pytest.mark.dagster

PAPERTRENDS = Path(sys.executable).with_name("papertrends")  # the installed command of this venv
ASSETS = [
    "staged_digests", "digests", "papers", "appearances", "repo_links", "repo_stars", "rejects", "paper_terms",
    "trends_duckdb", "term_trends", "trend_report",
]  # fmt: skip
CHECKS = {
    "digests": ["digests_expectations"],
    "papers": ["papers_expectations", "markup_titles", "arxiv_id_conflicts"],
    "appearances": ["appearances_expectations", "cross_table_integrity"],
    "repo_links": ["repo_links_expectations"],
    "repo_stars": ["repo_stars_expectations"],
    "rejects": ["rejects_expectations"],
    "paper_terms": ["paper_terms_expectations"],
}
SENSOR = "digest_files_sensor"
SAMPLE_DAYS = ["2026-03-11", "2026-03-12", "2026-03-13", "2026-03-14"]
NUX_TEXTS = ["Join the Dagster community", "Sign up for the Dagster newsletter", "Notify me about Dagster security updates"]
_STARTUP_LIMIT = 240  # seconds: guards against a hung server, not a speed check
_RUN_LIMIT = 240
_STOP_LIMIT = 15  # the command must be gone, with every process it started, this soon after a signal
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


# --- processes, from /proc --------------------------------------------------------------------


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgid) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def _all_processes() -> dict[int, tuple[str, int, int]]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            found[int(entry.name)] = stat
    return found


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has ended; only its exit status is left


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _descendants(pid: int) -> set[int]:
    processes = _all_processes()
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for child, (_, ppid, _) in processes.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _in_groups(groups: set[int]) -> set[int]:
    return {pid for pid, (state, _, pgid) in _all_processes().items() if pgid in groups and state != "Z"}


class Server:
    """`papertrends ui` started as a service manager would: its own session, no terminal, no stdin."""

    def __init__(self, root: Path, raw: Path):
        self.root = root
        self.raw = raw
        self.warehouse = root / "warehouse"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / f"ui-{self.port}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(PAPERTRENDS), "ui", "--port", str(self.port)],
                env=_env(PAPERTRENDS_WAREHOUSE_DIR=str(self.warehouse), PAPERTRENDS_DIGESTS_DIR=str(raw)),
                cwd=root,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def first_line(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return text.split("\n", 1)[0] if "\n" in text else ""

    def printed_pid(self) -> int:
        match = re.search(r"\(pid (\d+), DAGSTER_HOME=", self.first_line())
        assert match, f"no pid in the first line:\n{self.log()}"
        return int(match.group(1))

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

    def start(self) -> "Server":
        self.wait_until("the UI to answer", self.ready, limit=_STARTUP_LIMIT)
        return self

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

    def runs(self) -> list[dict]:
        data = self.graphql("{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }")
        return [{**run, "tags": {tag["key"]: tag["value"] for tag in run["tags"]}} for run in data["runsOrError"]["results"]]

    def processes(self) -> tuple[set[int], set[int]]:
        """Every process the command started (its descendants), and their process groups."""
        pids = {self.process.pid, *_descendants(self.process.pid)}
        groups = {stat[2] for pid in pids if (stat := _stat(pid)) is not None}
        return pids, groups

    tracked: tuple[set[int], set[int]] = (set(), set())

    def kill_everything(self) -> None:
        """Teardown after a failure: the command's whole tree, whatever it left."""
        pids, groups = self.processes()
        pids, groups = pids | self.tracked[0], groups | self.tracked[1]
        for pid in {pid for pid in pids if _alive(pid)} | _in_groups(groups):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def _stop_and_check_nothing_is_left(server: Server, signum: int) -> None:
    assert server.printed_pid() == server.process.pid
    pids, groups = server.tracked = server.processes()
    dagster = [pid for pid in pids if "dagster" in _cmdline(pid)]
    assert dagster, f"no dagster process under the command: {pids}"
    assert groups >= {server.process.pid}  # its own session and group (start_new_session)
    os.kill(server.printed_pid(), signum)
    deadline = time.monotonic() + _STOP_LIMIT
    try:
        server.process.wait(timeout=_STOP_LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"papertrends ui still running {_STOP_LIMIT}s after {signal.Signals(signum).name}:\n{server.log()}")
    while time.monotonic() < deadline and ({pid for pid in pids if _alive(pid)} or _in_groups(groups)):
        time.sleep(0.2)
    left = {pid: _cmdline(pid)[:120] for pid in {pid for pid in pids if _alive(pid)} | _in_groups(groups)}
    assert left == {}, f"left running {_STOP_LIMIT}s after {signal.Signals(signum).name}: {left}"
    assert server.process.returncode == 0
    assert "papertrends: stopping the Dagster UI" in server.log()


def _copy_samples(raw: Path) -> None:
    raw.mkdir(parents=True)
    for path in sorted(SAMPLES.iterdir()):
        shutil.copyfile(path, raw / path.name)
        _age(raw / path.name)


def _screenshot(page, tmp_path, name):
    path = tmp_path / name
    page.screenshot(path=str(path))
    copy = REPO / "test-output" / name
    copy.parent.mkdir(exist_ok=True)
    shutil.copyfile(path, copy)
    return path


def _finished(status: str) -> str | None:
    return None if status in ("QUEUED", "NOT_STARTED", "STARTING", "STARTED") else status


def _daily_summary(duckdb_path) -> dict[str, tuple[int, int, int]]:
    """day -> (digests, appearances, new_papers), read-only; {} before the first build."""
    if not duckdb_path.exists():
        return {}
    with duckdb.connect(str(duckdb_path), read_only=True) as con:
        rows = con.execute("SELECT day, digests, appearances, new_papers FROM daily_summary ORDER BY day").fetchall()
    return {str(day): (digests, appearances, new) for day, digests, appearances, new in rows}


def _no_sign_up_dialog(page) -> None:
    # The dialog opens a second after a page loads, on http://127.0.0.1 and localhost only.
    page.wait_for_timeout(3000)
    for text in NUX_TEXTS:
        assert page.get_by_text(text).count() == 0, f"sign-up dialog shown: {text!r}"
    assert page.locator('[role="dialog"]').count() == 0


@pytest.mark.browser
@pytest.mark.slow
def test_ui_lists_runs_and_ingests_a_dropped_digest_then_stops_on_sigterm(browser, tmp_path):
    raw = tmp_path / "raw"
    _copy_samples(raw)
    server = Server(tmp_path, raw)
    try:
        server.start()
        _use_the_ui(server, browser, tmp_path)
        _stop_and_check_nothing_is_left(server, signal.SIGTERM)
    finally:
        server.kill_everything()


def _use_the_ui(server: Server, browser, tmp_path) -> None:
    home = server.warehouse / "dagster_home"
    assert server.first_line() == (
        f"papertrends: Dagster UI on http://127.0.0.1:{server.port} (pid {server.process.pid}, DAGSTER_HOME={home})"
    )
    assert (home / "dagster.yaml").read_bytes() == (REPO / "dagster.yaml").read_bytes()
    page = browser.new_page(viewport={"width": 1500, "height": 1000})

    # The catalog lists every asset; each table's Checks tab lists its checks.
    page.goto(server.url + "/assets")
    for name in ASSETS:
        page.locator(f'a[href="/assets/{name}"]').first.wait_for(timeout=60_000)
    _no_sign_up_dialog(page)
    _screenshot(page, tmp_path, "ui-assets.png")
    for table, checks in CHECKS.items():
        page.goto(f"{server.url}/assets/{table}?view=checks")
        page.get_by_text(f"Checks ({len(checks)})").first.wait_for(timeout=60_000)
        for check in checks:
            page.get_by_text(check, exact=True).first.wait_for(timeout=60_000)
    _screenshot(page, tmp_path, "ui-checks.png")

    # The sensor is listed, and on.
    page.goto(server.url + "/automation")
    page.get_by_text(SENSOR, exact=True).first.wait_for(timeout=60_000)
    state = server.graphql(
        '{ sensorsOrError(repositorySelector: {repositoryLocationName: "assets.definitions", repositoryName: "__repository__"})'
        " { ... on Sensors { results { name sensorState { status } } } } }"
    )
    assert state["sensorsOrError"]["results"] == [{"name": SENSOR, "sensorState": {"status": "RUNNING"}}]
    _screenshot(page, tmp_path, "ui-sensor.png")

    # Materialize all, from the lineage page, as a person would.
    page.goto(server.url + "/asset-groups")
    button = page.get_by_role("button", name="Materialize all")
    button.wait_for(timeout=60_000)
    button.click()
    toast = page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}")).first
    toast.wait_for(timeout=60_000)
    prefix = re.search(r"Launched run ([0-9a-f]{8})", toast.inner_text()).group(1)
    [launched] = [run for run in server.runs() if run["runId"].startswith(prefix)]
    assert launched["tags"].get("dagster/from_ui") == "true"
    finished = server.wait_until("the run launched in the UI to finish", lambda: _finished(
        next(run["status"] for run in server.runs() if run["runId"] == launched["runId"])
    ))  # fmt: skip
    assert finished == "SUCCESS", server.log()
    page.goto(f"{server.url}/runs/{launched['runId']}")
    page.get_by_text("Success").first.wait_for(timeout=60_000)
    page.get_by_text(f"{len(ASSETS)} assets").first.wait_for(timeout=60_000)
    page.get_by_text(f"{sum(len(checks) for checks in CHECKS.values())} checks").first.wait_for(timeout=60_000)
    _screenshot(page, tmp_path, "ui-run.png")
    duckdb_path = server.warehouse / "trends.duckdb"
    assert list(_daily_summary(duckdb_path)) == SAMPLE_DAYS
    # Runs held the warehouse lock (the warehouse resource writes the holder's pid into it).
    assert (server.warehouse / ".papertrends.lock").read_text().strip().isdigit()

    # A person drops a new digest into the directory: the sensor's run ingests it.
    new_file = server.raw / _NEW_DIGEST
    new_file.write_text(render("Mar 15", [(title, abstract(title)) for title in _NEW_TITLES]))
    _age(new_file)
    summary = server.wait_until("the dropped digest in daily_summary", lambda: "2026-03-15" in (found := _daily_summary(duckdb_path)) and found)
    assert list(summary) == [*SAMPLE_DAYS, "2026-03-15"]
    assert summary["2026-03-15"] == (1, len(_NEW_TITLES), len(_NEW_TITLES))
    by_sensor = [run for run in server.runs() if run["tags"].get("dagster/sensor_name") == SENSOR]
    assert by_sensor and all(run["status"] == "SUCCESS" for run in by_sensor if _finished(run["status"]))
    # The asset shows the new day in its daily_summary metadata.
    page.goto(server.url + "/assets/trends_duckdb")
    page.get_by_text("2026-03-15").first.wait_for(timeout=60_000)
    _no_sign_up_dialog(page)
    _screenshot(page, tmp_path, "ui-trends-duckdb.png")
    page.close()

    # No sign-up dialog: the instance's nux setting, not a dismissal, is why.
    assert server.graphql("{ shouldShowNux }") == {"shouldShowNux": False}
    assert not (home / ".nux" / "nux.yaml").exists()


@pytest.mark.slow
def test_ui_stops_on_sigint_leaving_no_process(tmp_path):
    raw = tmp_path / "raw"
    _copy_samples(raw)
    server = Server(tmp_path, raw)
    try:
        server.start()
        _stop_and_check_nothing_is_left(server, signal.SIGINT)
    finally:
        server.kill_everything()


@pytest.mark.parametrize("port", ["0", "65536", "70000", "abc"])
def test_ui_refuses_a_port_out_of_range_before_starting(tmp_path, port):
    completed = run_cli("ui", "--port", port, env_extra={"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "warehouse")}, cwd=tmp_path)
    assert completed.returncode == 2 and "--port: " in completed.stderr
    assert not (tmp_path / "warehouse").exists()


def test_ui_refuses_a_busy_port_and_a_missing_digests_directory_in_one_line(tmp_path):
    raw = tmp_path / "raw"
    _copy_samples(raw)
    settings = {"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "PAPERTRENDS_DIGESTS_DIR": str(raw)}
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        busy = run_cli("ui", "--port", str(port), env_extra=settings, cwd=tmp_path)
    assert (busy.returncode, busy.stdout) == (2, "")
    assert busy.stderr == f"papertrends: cannot serve on 127.0.0.1:{port}: Address already in use\n"
    missing = run_cli("ui", "--port", str(_free_port()), env_extra={**settings, "PAPERTRENDS_DIGESTS_DIR": str(tmp_path / "none")}, cwd=tmp_path)
    assert (missing.returncode, missing.stderr) == (2, f"papertrends: digests directory not found: {tmp_path / 'none'}\n")


def test_a_dagster_home_that_is_a_file_is_one_line_exit_2(tmp_path):
    raw = tmp_path / "raw"
    _copy_samples(raw)
    (tmp_path / "home").write_text("a file")
    settings = {"PAPERTRENDS_WAREHOUSE_DIR": str(tmp_path / "warehouse"), "PAPERTRENDS_DIGESTS_DIR": str(raw), "DAGSTER_HOME": str(tmp_path / "home")}
    for command in (["ui", "--port", str(_free_port())], ["build"]):
        completed = run_cli(*command, env_extra=settings, cwd=tmp_path)
        assert completed.returncode == 2, (command, completed.stderr)
        assert completed.stderr.splitlines()[-1] == f"papertrends: cannot create the Dagster instance directory {tmp_path / 'home'}: File exists"
