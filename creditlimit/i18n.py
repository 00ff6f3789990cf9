"""User-facing text in Simplified Chinese (zh_CN) and English (en).

Every message shown to a user (errors, CLI output, reason codes, risk-flag texts)
is a catalog entry keyed by a dotted identifier with one template per locale.
Modules declare their own entries next to the code that uses them with
:func:`register`, and render them with :func:`translate`. The active locale is a
context variable that entry points set once with :func:`set_locale`; library code
never reads environment variables.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator, Mapping

__all__ = [
    "LOCALES",
    "DEFAULT_LOCALE",
    "register",
    "translate",
    "translate_all",
    "set_locale",
    "get_locale",
    "use_locale",
    "locale_from_environment",
]

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "en"

_CATALOG: dict[str, dict[str, str]] = {}
_ACTIVE_LOCALE: contextvars.ContextVar[str] = contextvars.ContextVar(
    "creditlimit_locale", default=DEFAULT_LOCALE
)


def register(entries: Mapping[str, Mapping[str, str]]) -> None:
    """Add catalog entries, each a key mapped to one template per locale.

    Raises
    ------
    ValueError
        If an entry lacks a locale or a key is registered twice with other text.
    """
    for key, templates in entries.items():
        missing = [loc for loc in LOCALES if loc not in templates]
        if missing:
            raise ValueError(f"message {key!r} has no template for {missing}.")
        known = _CATALOG.get(key)
        if known is not None and known != dict(templates):
            raise ValueError(f"message {key!r} is already registered with other text.")
        _CATALOG[key] = dict(templates)


def translate(key: str, locale: str | None = None, **params: object) -> str:
    """Render message ``key`` in ``locale`` (default: the active locale).

    Raises
    ------
    KeyError
        If ``key`` is not in the catalog.
    """
    templates = _CATALOG.get(key)
    if templates is None:
        raise KeyError(f"message {key!r} is not in the catalog.")
    return templates[_normalise(locale or _ACTIVE_LOCALE.get())].format(**params)


def translate_all(key: str, **params: object) -> dict[str, str]:
    """Render message ``key`` in every locale, as ``{locale: text}``."""
    return {loc: translate(key, loc, **params) for loc in LOCALES}


def set_locale(locale: str) -> None:
    """Make ``locale`` the active locale of the current context."""
    _ACTIVE_LOCALE.set(_normalise(locale))


def get_locale() -> str:
    """Return the active locale."""
    return _ACTIVE_LOCALE.get()


@contextlib.contextmanager
def use_locale(locale: str) -> Iterator[None]:
    """Activate ``locale`` inside a ``with`` block."""
    token = _ACTIVE_LOCALE.set(_normalise(locale))
    try:
        yield
    finally:
        _ACTIVE_LOCALE.reset(token)


def locale_from_environment(environ: Mapping[str, str]) -> str:
    """Choose the locale from ``CREDITLIMIT_LANG``, then the POSIX locale variables.

    A value starting with ``zh`` selects zh_CN; anything else selects en.
    """
    for name in ("CREDITLIMIT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value and value not in ("C", "POSIX", "C.UTF-8"):
            return _normalise(value)
    return DEFAULT_LOCALE


@functools.lru_cache(maxsize=64)
def _normalise(locale: str) -> str:
    # Cached: the scorer renders several texts per customer, each through translate().
    return "zh_CN" if locale.lower().replace("-", "_").startswith("zh") else "en"
