import os
import signal

import pytest

from pipeline.build import build_warehouse
from pipeline.config import Settings
from tests.helpers import SAMPLES

# Fixtures shared by several modules: `browser`, `small_settings`, `postgres_server`, `history`.
pytest_plugins = ["tests.browser", "tests.trend_corpus", "tests.postgres", "tests.history_corpus"]


def pytest_configure(config):
    """A shell script's background job (`make test &`) starts with Ctrl-C ignored, and every
    child inherits that: the tests that send SIGINT to a build or the UI need it taken as
    from a terminal. (Runs in each pytest-xdist worker too.)"""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(items):
    """The slow tests first (file order kept otherwise): started last, one of them would
    run on alone while the other workers have nothing left to do. Every test that needs
    the samples built whole is marked whole_build."""
    for item in items:
        if "sample_settings" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.whole_build)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _no_outside_settings(monkeypatch):
    """Tests set their own paths; the caller's environment must not leak in."""
    for name in ("PAPERTRENDS_WAREHOUSE_DIR", "PAPERTRENDS_DIGESTS_DIR", "PAPERTRENDS_YEAR", "DAGSTER_HOME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def sample_settings(tmp_path_factory) -> Settings:
    """The sample digests built once through pipeline/ alone (read-only for tests)."""
    root = tmp_path_factory.mktemp("sample-warehouse")
    settings = Settings(root, SAMPLES, None)
    build_warehouse(settings)
    return settings


@pytest.fixture
def digests_dir(tmp_path):
    directory = tmp_path / "raw"
    directory.mkdir()
    return directory


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")
