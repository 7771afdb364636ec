"""The warehouse lock: a second writer waits for the first, and a killed holder frees it."""

import signal
import subprocess
import sys
import threading

import pytest

from pipeline.lock import warehouse_lock
from tests.helpers import REPO

_HOLD = (
    "import sys; from pathlib import Path; from pipeline.lock import warehouse_lock\n"
    "with warehouse_lock(Path(sys.argv[1])):\n"
    "    print('held', flush=True); sys.stdin.read()\n"
)


@pytest.mark.parametrize("release", ["exit", "kill"])
def test_a_second_writer_waits_until_the_holder_is_gone(tmp_path, release):
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(tmp_path)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        waited_for, acquired = [], threading.Event()
        waiting = threading.Event()

        def on_wait(pid: str) -> None:
            waited_for.append(pid)
            waiting.set()

        def second_writer():
            with warehouse_lock(tmp_path, on_wait=on_wait):
                acquired.set()

        thread = threading.Thread(target=second_writer)
        thread.start()
        assert waiting.wait(60)
        assert waited_for == [str(holder.pid)] and not acquired.is_set()
        if release == "kill":
            holder.send_signal(signal.SIGKILL)  # no cleanup runs: the kernel drops the lock
        else:
            holder.stdin.close()
        thread.join(60)
        assert acquired.is_set()
    finally:
        holder.kill()
        holder.wait()
