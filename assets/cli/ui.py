"""`papertrends ui`: the Dagster UI (`dagster dev`) on the warehouse's instance, stopped cleanly.

`dagster dev` runs as a child in its own process group, with its webserver, daemon and
code server below it. On SIGTERM, SIGINT (Ctrl-C) or SIGHUP, this process asks it to
stop, waits, and kills whatever is left of its group: nothing outlives the command,
with or without a terminal (as a service manager starts it).
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys

from assets.cli import fail, say
from assets.cli.instance import dagster_home
from pipeline.build import check_settings
from pipeline.config import ConfigError, Settings

# How long `dagster dev` gets to stop its processes before they are killed.
STOP_SECONDS = 10


def _stop(child: subprocess.Popen) -> int:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGINT)  # dagster dev's own clean shutdown, as Ctrl-C gives it
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=STOP_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)  # anything of its group still there
    return child.wait()


def _port_refusal(host: str, port: int) -> str | None:
    """Why nothing can serve on host:port, in one line; None when something can.

    Bound and released at once: dagster dev would otherwise start its daemon and sensor
    and only then fail to serve.
    """
    try:
        with socket.create_server((host, port)):
            return None
    except OSError as error:
        return f"cannot serve on {host}:{port}: {os.strerror(error.errno) if error.errno else error}"


def ui(settings: Settings, host: str, port: int) -> int:
    try:
        check_settings(settings)  # as `papertrends build` does: the sensor reads the same directories
        home, note = dagster_home(settings)
    except ConfigError as error:
        return fail(str(error), 2)
    refusal = _port_refusal(host, port)
    if refusal:
        return fail(refusal, 2)
    if note:
        say(note)
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PAPERTRENDS_WAREHOUSE_DIR": str(settings.warehouse_dir),
        "PAPERTRENDS_DIGESTS_DIR": str(settings.digests_dir),
    }
    command = [sys.executable, "-m", "dagster", "dev", "-m", "assets.definitions", "--host", host, "--port", str(port)]
    stop_requested: list[int] = []

    def request_stop(signum, _frame) -> None:
        stop_requested.append(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, request_stop)
    # From DAGSTER_HOME, so dagster dev does not warn about the repository's own dagster.yaml.
    child = subprocess.Popen(command, env=env, cwd=home, start_new_session=True)
    say(f"Dagster UI on http://{host}:{port} (pid {os.getpid()}, DAGSTER_HOME={home})")
    while not stop_requested:
        try:
            code = child.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            continue
        _stop(child)  # dagster dev ended on its own: its children go too
        return code
    say("stopping the Dagster UI")
    _stop(child)
    return 0
