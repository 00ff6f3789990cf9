"""Tests of the zh_CN/en message catalog."""

import pytest

from creditlimit.errors import InputDataError
from creditlimit.i18n import (
    locale_from_environment,
    register,
    translate,
    translate_all,
    use_locale,
)

register({
    "test.greeting": {"en": "Customer {customer_id} scored.", "zh_CN": "客户 {customer_id} 已评分。"},
})


def test_translate_follows_active_locale():
    """The same key renders in the locale active at the call."""
    assert translate("test.greeting", customer_id="C1") == "Customer C1 scored."
    with use_locale("zh_CN"):
        assert translate("test.greeting", customer_id="C1") == "客户 C1 已评分。"


def test_translate_all_returns_both_locales():
    """translate_all gives one text per supported locale."""
    texts = translate_all("test.greeting", customer_id="C2")
    assert texts == {"zh_CN": "客户 C2 已评分。", "en": "Customer C2 scored."}


def test_register_rejects_entry_without_chinese():
    """An entry missing a locale is rejected at registration."""
    with pytest.raises(ValueError, match="has no template for \\['zh_CN'\\]"):
        register({"test.only_english": {"en": "Only English."}})


def test_register_rejects_conflicting_text():
    """Registering the same key with other text is an error."""
    with pytest.raises(ValueError, match="already registered with other text"):
        register({"test.greeting": {"en": "Other.", "zh_CN": "其他。"}})


def test_translate_unknown_key_raises():
    """An unknown key is a KeyError naming the key."""
    with pytest.raises(KeyError, match="test.no_such_key"):
        translate("test.no_such_key")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CREDITLIMIT_LANG": "zh_CN"}, "zh_CN"),
        ({"CREDITLIMIT_LANG": "en", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LC_ALL": "zh-Hans"}, "zh_CN"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_locale_from_environment(environ, expected):
    """The locale comes from CREDITLIMIT_LANG, then the POSIX variables."""
    assert locale_from_environment(environ) == expected


def test_error_renders_in_locale_at_print_time():
    """An error's text is chosen when it is printed, not when it is raised."""
    error = InputDataError("test.greeting", customer_id="C3")
    assert str(error) == "Customer C3 scored."
    with use_locale("zh_CN"):
        assert str(error) == "客户 C3 已评分。"
    assert error.exit_code == 3
