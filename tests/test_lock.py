"""The warehouse lock: a second writer waits for the first, and a killed holder frees it."""

import os
import signal
import threading

import pytest

from pipeline.store.lock import LockRefused, warehouse_lock
from tests.helpers import start_lock_holder


@pytest.mark.parametrize("release", ["exit", "kill"])
def test_a_second_writer_waits_until_the_holder_is_gone(tmp_path, release):
    holder = start_lock_holder(tmp_path)
    try:
        waited_for, acquired = [], threading.Event()
        waiting = threading.Event()

        def on_wait(pid: str) -> None:
            waited_for.append(pid)
            waiting.set()

        def second_writer():
            with warehouse_lock(tmp_path / ".papertrends.lock", on_wait=on_wait):
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


def test_a_symbolic_link_at_the_lock_path_is_refused_and_its_target_untouched(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    (tmp_path / "warehouse").mkdir()
    (tmp_path / "warehouse" / ".papertrends.lock").symlink_to(target)
    with pytest.raises(LockRefused, match="symbolic link"), warehouse_lock(tmp_path / "warehouse" / ".papertrends.lock"):
        pass
    assert target.read_text() == "keep me"


def test_the_holder_writes_its_pid_only_once_it_holds_the_lock(tmp_path):
    path = tmp_path / ".papertrends.lock"
    path.write_text("12345\n")  # left by an earlier holder
    with warehouse_lock(path):
        assert path.read_text() == f"{os.getpid()}\n"
