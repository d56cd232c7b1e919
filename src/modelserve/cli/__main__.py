"""`python -m modelserve.cli` runs the `modelserve` command (used to start the server detached)."""

from modelserve.cli.main import app

app(prog_name="modelserve")
