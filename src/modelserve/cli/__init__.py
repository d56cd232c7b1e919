"""The `modelserve` command line (typer + rich): `up`, `serve`, `demo`, `runs ...`.

Talks to the server through `modelserve.sdk`; imports the server only inside `up`.
"""
