"""Locale formatting, escaping and the page shell of the credit usage report."""

import datetime as dt
import math

import pandas as pd
import pytest

from creditlimit.reports.page import Formatter, escape, page_html, page_name


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", "CNY 1,234,567"),
    ("zh_CN", "1,234,567 元"),
])
def test_amount_by_locale(locale, expected):
    """Amounts carry the currency the way each language writes it."""
    assert Formatter(locale, "CNY").amount(1234567.4) == expected


def test_amount_other_currency_in_chinese():
    """A currency other than CNY keeps its code in Chinese."""
    assert Formatter("zh_CN", "USD").amount(2500) == "2,500 USD"


@pytest.mark.parametrize(("locale", "value", "expected"), [
    ("en", 1.797e9, "CNY 1.80 bn"),
    ("en", 45600, "CNY 45.60 k"),
    ("zh_CN", 1.797e9, "17.97 亿元"),
    ("zh_CN", 123456, "12.35 万元"),
    ("zh_CN", 950, "950元"),
])
def test_compact_amount(locale, value, expected):
    """Large amounts shorten to bn/m/k in English and 亿/万 in Chinese."""
    assert Formatter(locale, "CNY").compact_amount(value) == expected


def test_percent_and_dates_by_locale():
    """Shares and dates follow each locale's convention."""
    en, zh = Formatter("en", "CNY"), Formatter("zh_CN", "CNY")
    assert en.percent(0.125) == "12.5 %"
    assert zh.percent(0.125) == "12.5%"
    assert en.date(dt.date(2026, 1, 31)) == "31 Jan 2026"
    assert zh.date(pd.Timestamp("2026-01-31")) == "2026年1月31日"
    assert en.month("2025-07-01") == "Jul 2025"
    assert zh.month(dt.date(2025, 7, 1)) == "2025年7月"


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA, pd.NaT])
def test_missing_is_not_zero(missing):
    """A missing value renders as n/a in every format, never as 0."""
    en, zh = Formatter("en", "CNY"), Formatter("zh_CN", "CNY")
    for fmt, text in ((en, "n/a"), (zh, "无")):
        assert fmt.amount(missing) == text
        assert fmt.percent(missing) == text
        assert fmt.date(missing) == text
        assert fmt.compact_amount(missing) == text


def test_signed_amount():
    """Changes show their sign; zero shows none."""
    fmt = Formatter("en", "CNY")
    assert fmt.signed_amount(1000) == "+CNY 1,000"
    assert fmt.signed_amount(-1000) == "−CNY 1,000"
    assert fmt.signed_amount(0) == "CNY 0"


def test_escape_quotes_and_tags():
    """Escaping covers text and attribute content."""
    assert escape('<a href="x">') == "&lt;a href=&quot;x&quot;&gt;"


def test_page_name_keeps_safe_ids():
    """Plain identifiers name their file; others get a hash so they never collide."""
    assert page_name("C000001") == "C000001"
    unsafe_a, unsafe_b = page_name("A/1"), page_name("A?1")
    assert "/" not in unsafe_a
    assert "?" not in unsafe_b
    assert unsafe_a != unsafe_b
    assert page_name("..") != ".."


def test_page_html_is_self_contained():
    """A page declares its language, forbids requests and links to the other language."""
    html = page_html(fmt=Formatter("zh_CN", "CNY"), title="信用使用情况报告", other_href="report.en.html",
                     body="<p>x</p>")
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in html
    assert "default-src 'none'" in html
    assert 'id="lang-switch" href="report.en.html"' in html
    assert ">English<" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_compact_svg_keeps_drawing():
    """Whole-number attributes lose their .0 and default attributes go; other values stay."""
    from creditlimit.reports.page import compact_svg

    svg = ('<svg><line x1="64.0" y1="12.5" stroke="#555" stroke-width="1"/>'
           '<text x="-3.0" text-anchor="start">1.0</text><text text-anchor="end">a</text></svg>')
    assert compact_svg(svg) == ('<svg><line x1="64" y1="12.5" stroke="#555"/>'
                                '<text x="-3">1.0</text><text text-anchor="end">a</text></svg>')
