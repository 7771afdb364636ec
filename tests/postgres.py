"""A throwaway PostgreSQL server (Debian's postgresql package), started and stopped by the test.

The `postgres_server` fixture is registered for every test module by tests/conftest.py (pytest_plugins).
or the context manager `throwaway_postgres(base_dir)` for other lifetimes.
The cluster Debian may auto-start on port 5432 is never used: each server here has its own
data directory, a free port on 127.0.0.1 and its Unix socket inside its data directory.
"""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import in_ci

INSTALL_HINT = "install Debian's postgresql package (apt-get install -y postgresql)"
START_DEADLINE = 60.0  # seconds; a guard against a hung start, not a speed check
STOP_DEADLINE = 30.0
DATABASE = "dagster"
USER = "postgres"
HOST = "127.0.0.1"


class PostgresNotFound(RuntimeError):
    pass


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str
    pid: int  # the postmaster; the server's other processes are its children
    data_dir: Path
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"

    def dagster_storage_yaml(self) -> str:
        # Keys of dagster's pg_config(); the server trusts every local connection, so the
        # password is empty (dagster's own default) and never checked.
        return (
            "storage:\n"
            "  postgres:\n"
            "    postgres_db:\n"
            f"      username: {self.user}\n"
            '      password: ""\n'
            f"      hostname: {self.host}\n"
            f"      db_name: {self.database}\n"
            f"      port: {self.port}\n"
        )


def postgres_bindir() -> Path:
    """The newest installed server's bin directory (Debian keeps one per major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: _major(p.parent.parent.name))
    if found:
        return found[-1].parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
        if (bindir / "postgres").is_file():
            return bindir
    raise PostgresNotFound(f"PostgreSQL server binaries not found: {INSTALL_HINT}")


def _major(version: str) -> int:
    return int(version) if version.isdigit() else -1


def require_postgres() -> Path:
    """The server's bin directory; fails the test in CI, skips it elsewhere, if PostgreSQL is missing."""
    try:
        bindir = postgres_bindir()
        if os.geteuid() == 0:
            pwd.getpwnam(USER)
        return bindir
    except (PostgresNotFound, KeyError) as missing:
        message = f"PostgreSQL is not available ({missing}); {INSTALL_HINT}"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def postgres_server(tmp_path_factory) -> Iterator[PostgresServer]:
    """A fresh server and empty `dagster` database per test: no state leaks between tests."""
    require_postgres()
    with throwaway_postgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server


@contextmanager
def throwaway_postgres(base_dir: Path) -> Iterator[PostgresServer]:
    """Start a server, yield it, then stop it, check that none of its processes is left and
    remove its data. The server's log stays in base_dir/postgres.log."""
    bindir = postgres_bindir()
    base_dir.mkdir(parents=True, exist_ok=True)
    # PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user
    # (Popen's user=/group= switch ids in the child; no runuser/sudo needed).
    as_server_user = {"user": USER, "group": USER, "extra_groups": []} if os.geteuid() == 0 else {}
    # The data directory is NOT under base_dir: pytest's tmp dirs sit below a root-only (0700)
    # /tmp/pytest-of-root that the postgres user cannot traverse, and their long paths could
    # exceed the ~107-byte limit of a Unix socket path. A fresh mkdtemp in the system temp dir
    # (world-traversable /tmp) owned by postgres avoids both without loosening pytest's dirs.
    root = Path(tempfile.mkdtemp(prefix="papertrends-pg-")).resolve()
    data_dir = root / "data"
    env = _clean_env()
    try:
        if as_server_user:
            _check_traversable(root.parent)
            shutil.chown(root, USER, USER)
        _run(
            # trust: no passwords for a private server; C locale: independent of the caller's
            # LANG (which may name a locale the machine lacks); --no-sync: a throwaway.
            [bindir / "initdb", "-D", data_dir, "-A", "trust", "-U", USER, "-E", "UTF8", "--locale=C", "--no-sync"],
            cwd=root, env=env, **as_server_user,
        )
        port = _free_port()
        with open(base_dir / "postgres.log", "wb") as log:
            server = subprocess.Popen(
                [bindir / "postgres", "-D", data_dir, "-p", str(port),
                 "-c", f"listen_addresses={HOST}",
                 "-c", f"unix_socket_directories={data_dir}",  # nothing in /var/run/postgresql
                 "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=root, env=env, start_new_session=True,  # Ctrl-C in the terminal does not reach it
                **as_server_user,
            )  # fmt: skip
            try:
                _wait_until_ready(server, bindir, port, base_dir / "postgres.log", env)
                _run([bindir / "psql", "-X", "-h", HOST, "-p", str(port), "-U", USER, "-d", "postgres",
                      "-v", "ON_ERROR_STOP=1", "-c", f"CREATE DATABASE {DATABASE}"], env=env)  # fmt: skip
                yield PostgresServer(HOST, port, USER, DATABASE, server.pid, data_dir, bindir)
            finally:
                _stop(server, data_dir)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _stop(server: subprocess.Popen, data_dir: Path) -> None:
    if server.poll() is None:
        # SIGINT is PostgreSQL's "fast" shutdown (what `pg_ctl stop -m fast` sends); SIGTERM
        # would be "smart" and wait for every client, e.g. a Dagster pool left open, to leave.
        server.send_signal(signal.SIGINT)
        try:
            server.wait(STOP_DEADLINE)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # Backends of a killed postmaster exit on their own once they notice; give them a moment.
    deadline = time.monotonic() + 10
    while (left := server_processes(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if left:
        for pid in left:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise RuntimeError(f"PostgreSQL processes {left} outlived the server of {data_dir}; killed them")


def server_processes(data_dir: Path) -> list[int]:
    """Pids of processes of the server of data_dir. The postmaster names data_dir on its command
    line; its children (backends, checkpointer, ...) retitle themselves, so their command line
    does not, but they all run inside data_dir (the postmaster chdirs there before forking).
    Each child calls setsid(), so the process group would not find them."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # gone meanwhile, or a zombie
            continue
        if str(data_dir).encode() in cmdline or cwd == data_dir or data_dir in cwd.parents:
            found.append(int(entry.name))
    return found


def _wait_until_ready(server: subprocess.Popen, bindir: Path, port: int, log: Path, env: dict) -> None:
    deadline = time.monotonic() + START_DEADLINE
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited with {server.returncode} while starting:\n{_tail(log)}")
        ready = subprocess.run(
            [bindir / "pg_isready", "-q", "-h", HOST, "-p", str(port), "-U", USER, "-d", "postgres", "-t", "2"],
            env=env,
        )
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"PostgreSQL did not accept connections within {START_DEADLINE:.0f}s:\n{_tail(log)}")
        time.sleep(0.05)


def _run(command: list, **kwargs) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, **kwargs)
    if done.returncode != 0:
        raise RuntimeError(f"{Path(command[0]).name} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _clean_env() -> dict:
    # PGHOST, PGPORT, PGDATA, PGPASSWORD... of the caller must not redirect our commands.
    return {name: value for name, value in os.environ.items() if not name.startswith("PG")}


def _check_traversable(directory: Path) -> None:
    for path in [directory, *directory.parents]:
        if not path.stat().st_mode & 0o001:
            raise RuntimeError(f"the postgres user cannot traverse {path}; set TMPDIR to a world-traversable directory")


def _free_port() -> int:
    # The kernel picks a port free now; another process could take it before the server binds,
    # in which case the server exits and _wait_until_ready reports its log.
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
