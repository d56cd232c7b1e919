"""`python -m modelserve …` is the `modelserve` command."""

from modelserve.cli.main import app

app()
