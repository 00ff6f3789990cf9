"""Tests of the score stage's own parameter checks."""

import pytest

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.pipelines.score import _check_previous_as_of


def test_previous_as_of_before_as_of_accepted():
    """A previous date before as_of, or none at all, passes."""
    _check_previous_as_of({"as_of": "2026-01-01", "previous_as_of": "2025-12-01"})
    _check_previous_as_of({"as_of": "2026-01-01", "previous_as_of": None})
    _check_previous_as_of({"as_of": "2026-01-01"})


@pytest.mark.parametrize("value", ["2026-01-01", "2026-02-01", "1 Dec 2025"])
def test_previous_as_of_rejected(value):
    """A previous date on or after as_of, or not ISO, is rejected with both dates named."""
    with pytest.raises(ParamsError, match=rf"score\.previous_as_of must be a date YYYY-MM-DD before "
                                          rf"score\.as_of \(2026-01-01\), or null; got '{value}'"):
        _check_previous_as_of({"as_of": "2026-01-01", "previous_as_of": value})
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"参数 score\.previous_as_of 必须是早于"):
        _check_previous_as_of({"as_of": "2026-01-01", "previous_as_of": value})
