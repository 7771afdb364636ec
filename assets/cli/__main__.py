"""`python -m assets.cli`: the papertrends command."""

from assets.cli import run

run()
