"""Alembic migrations applied in code: the Config is built here, no alembic.ini is needed.

The migration scripts ship inside the package (`migrations/`). Two processes may migrate at
once: PostgreSQL serialises them with a transaction-scoped advisory lock, SQLite with the
write lock of BEGIN IMMEDIATE; the second one finds the schema at head and does nothing.
Imports only `store.engine` from the project (env.py also imports `store.tables`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from modelserve.store.engine import make_engine, write_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "modelserve_alembic_version"
# pg_advisory_xact_lock key: the bytes "modelser" as a signed 64-bit integer.
ADVISORY_LOCK_KEY = int.from_bytes(b"modelser", "big")


def alembic_config() -> Config:
    """An Alembic Config pointing at the packaged migrations (ConfigParser needs '%' doubled)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    return cfg


def run_migrations(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind `engine` to `revision` in one transaction."""
    cfg = alembic_config()
    with write_engine(engine).connect() as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def main(argv: list[str] | None = None) -> None:
    """`python -m modelserve.store.migrate --url URL upgrade | revision MESSAGE [--autogenerate]`."""
    parser = argparse.ArgumentParser(prog="python -m modelserve.store.migrate")
    parser.add_argument("--url", required=True, help="database URL, e.g. sqlite:///modelserve.db")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("upgrade", help="apply migrations up to head")
    rev = sub.add_parser("revision", help="write a new migration script")
    rev.add_argument("message")
    rev.add_argument("--autogenerate", action="store_true")
    args = parser.parse_args(argv)
    engine = make_engine(args.url)
    try:
        if args.cmd == "upgrade":
            run_migrations(engine)
            return
        cfg = alembic_config()
        with engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=args.message, autogenerate=args.autogenerate)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
