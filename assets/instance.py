"""The Dagster instance of a warehouse: DAGSTER_HOME inside the warehouse directory."""

import os
import shutil
from pathlib import Path

from pipeline.config import Settings

# The repository's dagster.yaml: the instance settings every warehouse gets.
INSTANCE_SETTINGS = Path(__file__).resolve().parent.parent / "dagster.yaml"


def ensure_dagster_home(settings: Settings) -> Path:
    """Use $DAGSTER_HOME if set; else <warehouse>/dagster_home with the repo's dagster.yaml."""
    if os.environ.get("DAGSTER_HOME"):
        home = Path(os.environ["DAGSTER_HOME"]).resolve()
        home.mkdir(parents=True, exist_ok=True)
        return home
    home = settings.layout.dagster_home
    home.mkdir(parents=True, exist_ok=True)
    target = home / "dagster.yaml"
    if not target.exists() or target.read_bytes() != INSTANCE_SETTINGS.read_bytes():
        shutil.copyfile(INSTANCE_SETTINGS, target)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
