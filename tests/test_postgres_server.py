"""The throwaway PostgreSQL server of tests/postgres.py serves SQL and leaves nothing behind."""

import os
import socket
import subprocess
import time

import pytest
import yaml

import tests.postgres
from tests.postgres import (
    PostgresNotFound,
    PostgresServer,
    postgres_server,  # noqa: F401
    require_postgres,
    server_processes,
    throwaway_postgres,
)


def psql(server: PostgresServer, sql: str, *target: str) -> str:
    target = target or ("-h", server.host, "-p", str(server.port), "-U", server.user, "-d", server.database)
    done = subprocess.run(
        [server.bindir / "psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", *target, "-c", sql],
        capture_output=True, text=True, timeout=60,
        env={name: value for name, value in os.environ.items() if not name.startswith("PG")},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def assert_gone(server: PostgresServer) -> None:
    with pytest.raises(ProcessLookupError):
        os.kill(server.pid, 0)
    assert server_processes(server.data_dir) == []
    assert not server.data_dir.exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection((server.host, server.port), timeout=5):
        pass
    # Free for the next server: a listener (with SO_REUSEADDR, as PostgreSQL binds) can take it.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((server.host, server.port))


@pytest.mark.slow
def test_server_serves_sql_then_goes_away(tmp_path):
    require_postgres()
    with throwaway_postgres(tmp_path) as server:
        assert server.port != 5432
        assert psql(server, "select 1") == "1"
        psql(server, "create table papers (id int primary key, title text); insert into papers values (7, 'Attention')")
        assert psql(server, "select title from papers where id = 7") == "Attention"
        # The connection string dagster-postgres builds from the YAML block (empty password).
        dagster_url = f"postgresql://postgres:@127.0.0.1:{server.port}/dagster"
        assert psql(server, "select current_database()", dagster_url) == "dagster"
        assert psql(server, "select current_user", server.url) == "postgres"
        # A client still connected at exit must not hold up the fast shutdown.
        lingering = subprocess.Popen(
            [server.bindir / "psql", "-X", server.url, "-c", "select pg_sleep(600)"], stderr=subprocess.DEVNULL
        )
        waiting = "select count(*) from pg_stat_activity where query like 'select pg_sleep%'"
        deadline = time.monotonic() + 30
        while psql(server, waiting) != "1" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert psql(server, waiting) == "1"
        # The postmaster and its retitled children (this client's backend among them) are found.
        assert server.pid in server_processes(server.data_dir)
        assert len(server_processes(server.data_dir)) > 2
    assert lingering.wait(30) != 0  # cut off by the fast shutdown
    assert_gone(server)


@pytest.mark.slow
def test_server_stops_when_the_body_raises(tmp_path):
    require_postgres()
    with pytest.raises(KeyError), throwaway_postgres(tmp_path) as server:
        raise KeyError("boom")
    assert_gone(server)


@pytest.mark.slow
def test_fixture_gives_a_running_server(postgres_server):  # noqa: F811
    assert psql(postgres_server, "select 1") == "1"


def test_storage_yaml_fits_dagsters_instance_schema():
    """dagster-postgres is not installed; dagster itself holds the schema of the `storage: postgres:`
    block (pg_config), so validate against it."""
    from dagster._config import validate_config
    from dagster._core.instance.config import dagster_instance_config_schema

    server = PostgresServer("127.0.0.1", 54321, "postgres", "dagster", 0, None, None)
    config = yaml.safe_load(server.dagster_storage_yaml())
    assert config["storage"]["postgres"]["postgres_db"] == {
        "username": "postgres", "password": "", "hostname": "127.0.0.1", "db_name": "dagster", "port": 54321,
    }  # fmt: skip
    result = validate_config(dagster_instance_config_schema(), config)
    assert result.success, [error.message for error in result.errors]


@pytest.mark.parametrize("ci, outcome", [("true", pytest.fail.Exception), ("", pytest.skip.Exception)])
def test_missing_postgres_fails_in_ci_and_skips_elsewhere(monkeypatch, ci, outcome):
    def missing():
        raise PostgresNotFound("no binaries")

    monkeypatch.setattr(tests.postgres, "postgres_bindir", missing)
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="apt-get install -y postgresql"):
        require_postgres()
