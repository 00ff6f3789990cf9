"""Helpers shared by the ``creditlimit`` command modules."""

import datetime as dt

import typer

from creditlimit.i18n import translate

__all__ = ["as_date", "help_text"]


def help_text(key: str) -> str:
    """Return the help text ``cli.<key>`` in the active locale."""
    return translate(f"cli.{key}")


def as_date(value: str) -> dt.date:
    """Parse a YYYY-MM-DD option value, or raise typer's error in the active locale."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(translate("cli.bad_date", value=value)) from None
