"""SQLAlchemy engines for the output database (SQLite file or PostgreSQL URL)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from creditlimit.errors import PublishError
from creditlimit.i18n import register

__all__ = ["create_database_engine", "shown_url"]

register({
    "database.folder_failed": {
        "en": "Cannot create the folder {folder} of the SQLite database {url}: {error}. Point the URL at a folder that can be created, or free the path.",
        "zh_CN": "无法创建 SQLite 数据库 {url} 所在的文件夹 {folder}：{error}。请让 URL 指向可以创建的文件夹，或腾出该路径。",
    },
})


def create_database_engine(url: str) -> sa.Engine:
    """Create an engine whose transactions also cover CREATE TABLE on SQLite.

    A SQLite file's folder is created when missing.

    Raises
    ------
    PublishError
        If that folder cannot be created (a file in its place, no permission).
    """
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed)

    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PublishError("database.folder_failed", folder=folder, url=url, error=error) from error
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
