"""Tests of the score stage's own parameter checks."""

import pytest

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.pipelines.score import MIN_BATCH_SIZE, _batch_size, _check_previous_as_of, _memory_limit


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


@pytest.mark.parametrize("value", ["1GB", "512 MB", "1.5GiB", "256MB", "0.25GiB"])
def test_memory_limit_accepted(value):
    assert _memory_limit({"feature_memory_limit": value}) == value


@pytest.mark.parametrize("value", [None, "", "lots", "1 TB", 1024, "-1GB", "0GB", "0.0 MB", "1KB", "50MB", "255MB"])
def test_memory_limit_rejected(value):
    """A missing or unreadable DuckDB memory size is named with an example, in both languages."""
    with pytest.raises(ParamsError, match=r"score\.feature_memory_limit must be a size such as 1GB"):
        _memory_limit({"feature_memory_limit": value})
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"参数 score\.feature_memory_limit 必须是"):
        _memory_limit({"feature_memory_limit": value})


@pytest.mark.parametrize("value", [MIN_BATCH_SIZE, 50_000])
def test_batch_size_accepted(value):
    assert _batch_size({"batch_size": value}) == value


@pytest.mark.parametrize("value", [None, 0, -5, 1, MIN_BATCH_SIZE - 1, 1.5, "abc", True])
def test_batch_size_rejected(value):
    """A missing, non-integer or tiny batch size is rejected with the minimum and a fix, in both languages."""
    with pytest.raises(ParamsError, match=rf"score\.batch_size must be a whole number of at least {MIN_BATCH_SIZE}"):
        _batch_size({"batch_size": value})
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"参数 score\.batch_size 必须是不小于"):
        _batch_size({"batch_size": value})
