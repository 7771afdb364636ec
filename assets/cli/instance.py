"""The Dagster instance of a warehouse: DAGSTER_HOME inside the warehouse directory."""

import errno
import os
from pathlib import Path

from pipeline.config import ConfigError, Settings

# The repository's dagster.yaml: the instance settings a new warehouse starts with.
INSTANCE_SETTINGS = Path(__file__).resolve().parents[2] / "dagster.yaml"


def _create_once(target: Path, content: bytes) -> bool:
    """Write `target` if it does not exist; never through a symbolic link. True when written."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return True


def _make_directory(home: Path) -> None:
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(f"cannot create the Dagster instance directory {home}: {error.strerror}") from None


def dagster_home(settings: Settings) -> tuple[Path, str | None]:
    """$DAGSTER_HOME if set, else <warehouse>/dagster_home; and a one-line note for the user, if any.

    The instance settings are copied from the repository's dagster.yaml the first time
    and never overwritten: a user's edit (PostgreSQL storage, say) is kept, and noted.
    """
    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"]).resolve()
        _make_directory(home)
        return home, None
    home = settings.layout.dagster_home
    _make_directory(home)
    target = home / "dagster.yaml"
    repository = INSTANCE_SETTINGS.read_bytes()
    if _create_once(target, repository):
        return home, None
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ConfigError(f"{target} is a symbolic link, refused: make it a file") from None
        raise ConfigError(f"cannot read {target}: {error.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        current = handle.read()
    note = None if current == repository else f"using {target}, which differs from the repository's dagster.yaml"
    return home, note
