"""Exceptions whose text is a catalog message rendered in the active locale."""

from __future__ import annotations

from creditlimit.i18n import translate

__all__ = [
    "CreditLimitError",
    "InputDataError",
    "ParamsError",
    "ModelError",
    "PublishError",
]


class CreditLimitError(Exception):
    """Base error: a catalog message key plus the values it names.

    ``str(error)`` renders the message in the locale active at that moment, so the
    entry point that prints it decides the language. ``exit_code`` is the
    documented exit status the CLI uses for this kind of error.
    """

    exit_code = 1

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(key)

    def __str__(self) -> str:
        return translate(self.key, **self.params)


class InputDataError(CreditLimitError):
    """Input data is missing, malformed or rejected beyond the allowed share."""

    exit_code = 3


class ParamsError(CreditLimitError):
    """A value in ``params.yaml`` or on the command line breaks its rule."""

    exit_code = 2


class ModelError(CreditLimitError):
    """The model cannot be trained, registered, found or applied."""

    exit_code = 4


class PublishError(CreditLimitError):
    """Outputs could not be written or published."""

    exit_code = 6
