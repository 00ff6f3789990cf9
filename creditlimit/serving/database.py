"""SQLAlchemy engines for the output database (SQLite file or PostgreSQL URL)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

__all__ = ["create_database_engine", "shown_url"]


def create_database_engine(url: str) -> sa.Engine:
    """Create an engine whose transactions also cover CREATE TABLE on SQLite.

    A SQLite file's folder is created when missing.
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed)

    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(parsed, connect_args={"timeout": 30})

    # Let SQLAlchemy emit BEGIN so CREATE TABLE joins the transaction. Without this,
    # the sqlite3 driver of Python 3.11 sends no BEGIN before DDL, so a CREATE TABLE
    # issued first commits at once and survives a rollback. BEGIN IMMEDIATE takes
    # the write lock at the start, so two writers queue instead of failing later.
    @sa.event.listens_for(engine, "connect")
    def _disable_driver_transactions(dbapi_connection, connection_record):  # noqa: ANN001
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(connection):  # noqa: ANN001
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def shown_url(engine: sa.Engine) -> str:
    """Return the engine's URL with the password hidden, for messages and logs."""
    return engine.url.render_as_string(hide_password=True)
