"""HTML page shell of the credit usage report: CSS, locale formatting, language switch, escaping.

Every page is one self-contained HTML file: the style sheet and the few lines of
script are inline, charts are inline SVG, and nothing is loaded from a network or
another file. Links between pages are relative, so the report folder can be opened
from the file system, copied or mailed as a whole.

:class:`Formatter` renders numbers, amounts, shares and dates in one locale:

========  ==========================  ==========================
value     en                          zh_CN
========  ==========================  ==========================
amount    ``CNY 1,234,567``           ``1,234,567 元`` (CNY), ``1,234,567 USD``
compact   ``CNY 1.23 m``              ``123.46 万元``
percent   ``12.5 %``                  ``12.5%``
date      ``1 Jan 2026``              ``2026年1月1日``
month     ``Jan 2026``                ``2026年1月``
========  ==========================  ==========================

A missing value (None, NaN, NaT) renders as the locale's "n/a" text, never as 0.
"""

from __future__ import annotations

import datetime as dt
import functools
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from creditlimit.i18n import LOCALES, translate
from creditlimit.reports import texts  # noqa: F401  (registers the report catalog)

__all__ = [
    "Formatter",
    "escape",
    "is_missing",
    "page_html",
    "table_html",
    "section_html",
    "unavailable_html",
    "language_switch_html",
    "OTHER_LOCALE",
    "cell",
    "na_html",
    "page_name",
    "finite",
    "compact_svg",
]

OTHER_LOCALE = {"zh_CN": "en", "en": "zh_CN"}
_LANG_ATTR = {"zh_CN": "zh-CN", "en": "en"}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

_CSS = """
:root{--ink:#1f2328;--muted:#5b636e;--line:#d8dde3;--bg:#f6f8fa;--accent:#0b5cad;--bad:#b42318;--good:#1a7f37}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;color:var(--ink);background:#fff}
header.top{display:flex;justify-content:space-between;align-items:center;gap:1em;padding:.8em 1.5em;border-bottom:1px solid var(--line);background:var(--bg)}
header.top h1{font-size:1.35em;margin:0}
main{padding:0 1.5em 2em;max-width:1180px}
h2{font-size:1.15em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--line)}
h3{font-size:1em;margin:1.1em 0 .4em}
a{color:var(--accent)}
.muted{color:var(--muted)}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:.6em;margin:1em 0}
.kpi{border:1px solid var(--line);border-radius:6px;padding:.5em .7em;background:#fff}
.kpi .label{color:var(--muted);font-size:.85em}
.kpi .value{font-size:1.25em;font-weight:600}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}
th,td{border:1px solid var(--line);padding:.25em .55em;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
td.num,th.num,.nums td+td,.nums th+th{text-align:right;font-variant-numeric:tabular-nums}
.sev-high,.sev-critical{color:var(--bad);font-weight:600}
.sev-medium{color:#9a6700;font-weight:600}
.sev-low,.sev-info{color:var(--muted)}
.status-alert{color:var(--bad);font-weight:600}
.status-warning{color:#9a6700;font-weight:600}
.status-stable{color:var(--good)}
.na{color:var(--muted);font-style:italic}
.charts{display:flex;flex-wrap:wrap;gap:1em}
.charts svg{max-width:100%;height:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
.notice{border-left:4px solid var(--accent);background:var(--bg);padding:.5em .8em;margin:.6em 0}
.warn{border-left-color:var(--bad)}
.lang a{font-weight:600;text-decoration:none;border:1px solid var(--line);border-radius:4px;padding:.15em .6em;background:#fff}
nav.toc{font-size:.9em;margin:.8em 0}
nav.toc a{margin-right:.9em;white-space:nowrap}
input.filter{padding:.3em .5em;width:22em;max-width:100%;border:1px solid var(--line);border-radius:4px}
details summary{cursor:pointer;color:var(--accent)}
footer{color:var(--muted);font-size:.85em;padding:1em 1.5em;border-top:1px solid var(--line)}
""".strip()

_FILTER_SCRIPT = """
document.querySelectorAll('input.filter').forEach(function(box){
  var rows=document.querySelectorAll('#'+box.dataset.table+' tbody tr');
  box.addEventListener('input',function(){
    var q=box.value.trim().toLowerCase();
    rows.forEach(function(r){r.style.display=!q||r.textContent.toLowerCase().indexOf(q)>=0?'':'none';});
  });
});
""".strip()


def escape(value: object) -> str:
    """Escape ``value`` as HTML text or attribute content (quotes included)."""
    return html.escape(str(value), quote=True)


def is_missing(value: object) -> bool:
    """Return True for None, NaN, NaT and pandas NA."""
    if value is None:
        return True
    if isinstance(value, float):
        return value != value
    if isinstance(value, str | int):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Formatter:
    """Locale formatting of the values a report shows.

    Parameters
    ----------
    locale : {"zh_CN", "en"}
        Language of every text and number format.
    currency : str
        Base currency code of the amounts, e.g. ``CNY``.
    """

    locale: str
    currency: str

    def text(self, key: str, **params: object) -> str:
        """Translate catalog entry ``key`` into the formatter's locale."""
        if not params:
            return _fixed_text(key, self.locale)
        return translate(key, self.locale, **params)

    def na(self) -> str:
        """Text shown for a missing value."""
        return self.text("report.na")

    def number(self, value: object, digits: int = 0) -> str:
        """Format a number with thousands separators and ``digits`` decimals."""
        if is_missing(value):
            return self.na()
        return f"{float(value):,.{digits}f}"

    def integer(self, value: object) -> str:
        """Format a count."""
        return self.number(value, 0)

    def amount(self, value: object) -> str:
        """Format an amount in the base currency, to whole units."""
        if is_missing(value):
            return self.na()
        shown = f"{float(value):,.0f}"
        if self.locale == "zh_CN":
            return f"{shown} 元" if self.currency == "CNY" else f"{shown} {self.currency}"
        return f"{self.currency} {shown}"

    def compact_amount(self, value: object) -> str:
        """Format a large amount briefly: millions and billions (en), 万 and 亿 (zh_CN)."""
        if is_missing(value):
            return self.na()
        number = float(value)
        if self.locale == "zh_CN":
            unit = "元" if self.currency == "CNY" else f" {self.currency}"
            for size, name in ((1e8, "亿"), (1e4, "万")):
                if abs(number) >= size:
                    return f"{number / size:,.2f} {name}{unit}"
            return f"{number:,.0f}{unit}"
        for size, name in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
            if abs(number) >= size:
                return f"{self.currency} {number / size:,.2f} {name}"
        return f"{self.currency} {number:,.0f}"

    def axis_amount(self, value: float) -> str:
        """Format an axis tick of an amount chart (no currency, short)."""
        if is_missing(value):
            return ""
        number = float(value)
        sizes = ((1e8, "亿"), (1e4, "万")) if self.locale == "zh_CN" else ((1e9, "bn"), (1e6, "m"), (1e3, "k"))
        for size, name in sizes:
            if abs(number) >= size:
                return f"{number / size:.4g}{name}"
        return f"{number:.4g}"

    def percent(self, value: object, digits: int = 1) -> str:
        """Format a share stored as a fraction (0.125 is 12.5 %)."""
        if is_missing(value):
            return self.na()
        shown = f"{float(value) * 100:,.{digits}f}"
        return f"{shown}%" if self.locale == "zh_CN" else f"{shown} %"

    def pd(self, value: object) -> str:
        """Format a probability of default with two decimals of a percent."""
        return self.percent(value, 2)

    def signed_amount(self, value: object) -> str:
        """Format an amount change with its sign."""
        if is_missing(value):
            return self.na()
        text = self.amount(abs(float(value)))
        if float(value) > 0:
            return f"+{text}"
        if float(value) < 0:
            return f"−{text}"
        return text

    def date(self, value: object) -> str:
        """Format a calendar date."""
        day = _as_date(value)
        if day is None:
            return self.na()
        if self.locale == "zh_CN":
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"

    def month(self, value: object) -> str:
        """Format the month of a date."""
        day = _as_date(value)
        if day is None:
            return self.na()
        if self.locale == "zh_CN":
            return f"{day.year}年{day.month}月"
        return f"{_MONTHS_EN[day.month - 1]} {day.year}"

    def flag(self, value: object) -> str:
        """Format a yes/no value."""
        if is_missing(value):
            return self.na()
        return self.text("report.yes") if bool(value) else self.text("report.no")


@functools.lru_cache(maxsize=4096)
def _fixed_text(key: str, locale: str) -> str:
    # Catalog entries never change once registered, so texts without
    # placeholders are rendered once per locale.
    return translate(key, locale)


def _as_date(value: object) -> dt.date | None:
    if is_missing(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return value.date()
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def na_html(fmt: Formatter) -> str:
    """Render the missing-value text, styled as missing."""
    return f'<span class="na">{escape(fmt.na())}</span>'


def cell(fmt: Formatter, text: str, *, raw: object = None, numeric: bool = False) -> str:
    """Return one ``<td>``; ``raw`` (when given) goes to ``data-value`` for tests and sorting."""
    classes = ' class="num"' if numeric else ""
    data = "" if raw is None or is_missing(raw) else f' data-value="{escape(raw)}"'
    body = na_html(fmt) if text == fmt.na() else text
    return f"<td{classes}{data}>{body}</td>"


def table_html(headers: Sequence[str], rows: Iterable[Sequence[str]], *, table_id: str = "",
               numeric_columns: Sequence[int] = ()) -> str:
    """Render a table from escaped header texts and rows of ready ``<td>`` cells.

    ``headers`` are plain text (escaped here); each row is a sequence of cell HTML
    produced by :func:`cell` or literal ``<td>`` strings. When every column but
    the first is numeric, the table right-aligns them through one class instead
    of a class on every cell, which keeps thousands of pages smaller.
    """
    numeric = set(numeric_columns)
    identity = f' id="{escape(table_id)}"' if table_id else ""
    if len(headers) > 1 and numeric == set(range(1, len(headers))):
        head = "".join(f"<th>{escape(h)}</th>" for h in headers)
        body = "".join(f"<tr>{''.join(row)}</tr>".replace(' class="num"', "") for row in rows)
        return f'<table{identity} class="nums"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    return f"<table{identity}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_WHOLE_NUMBER = re.compile(r'="(-?\d+)\.0"')


def compact_svg(svg: str) -> str:
    """Shorten SVG markup (or a page containing it) without changing what it draws.

    Drops ``.0`` from whole-number attribute values and the attributes that
    repeat SVG defaults (``stroke-width="1"``, ``text-anchor="start"``), which
    shortens the charts of a customer page by about a tenth. A ``data-value`` of
    ``250000.0`` becomes ``250000``, the same number.
    """
    svg = _WHOLE_NUMBER.sub(r'="\1"', svg)
    return svg.replace(' stroke-width="1"', "").replace(' text-anchor="start"', "")


def section_html(section_id: str, title: str, body: str) -> str:
    """Wrap ``body`` in a titled section that the table of contents can link to."""
    return f'<section id="{escape(section_id)}"><h2>{escape(title)}</h2>{body}</section>'


def unavailable_html(fmt: Formatter, what: str | None = None) -> str:
    """Paragraph saying a piece of the report is not available in this run."""
    text = fmt.text("report.not_available") if what is None else fmt.text("report.not_available_what", what=what)
    return f'<p class="na" data-unavailable="1">{escape(text)}</p>'


def language_switch_html(locale: str, other_href: str) -> str:
    """Link to the same page in the other language."""
    other = OTHER_LOCALE[locale]
    label = translate("report.language_name", other)
    return (f'<div class="lang"><a id="lang-switch" href="{escape(other_href)}" hreflang="{_LANG_ATTR[other]}" '
            f'lang="{_LANG_ATTR[other]}">{escape(label)}</a></div>')


def page_html(*, fmt: Formatter, title: str, other_href: str, body: str, subtitle: str = "",
              footer: str = "", with_filter: bool = False) -> str:
    """Render one complete, self-contained HTML page in ``fmt.locale``."""
    if fmt.locale not in LOCALES:
        raise ValueError(f"locale must be one of {LOCALES}; got {fmt.locale!r}.")
    body = compact_svg(body)
    script = f"<script>{_FILTER_SCRIPT}</script>" if with_filter else ""
    sub = f'<div class="muted">{escape(subtitle)}</div>' if subtitle else ""
    # The CSP forbids every request except inline style and script, so a stray
    # URL in a text can never make the browser reach out.
    csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:"
    return (
        f'<!DOCTYPE html><html lang="{_LANG_ATTR[fmt.locale]}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f'<header class="top"><div><h1>{escape(title)}</h1>{sub}</div>'
        f"{language_switch_html(fmt.locale, other_href)}</header>"
        f"<main>{body}</main><footer>{footer}</footer>{script}</body></html>"
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def page_name(customer_id: str) -> str:
    """Return a file-name stem for ``customer_id`` that is safe on every file system.

    Identifiers made of letters, digits, ``_``, ``.`` and ``-`` keep their name.
    Any other identifier gets its unsafe characters replaced and a short hash
    appended, so two identifiers never share a file.
    """
    text = str(customer_id)
    if not _UNSAFE.search(text) and text not in (".", "..") and len(text) <= 120:
        return text
    import hashlib

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    return f"{_UNSAFE.sub('_', text)[:80]}-{digest}"


def finite(value: object) -> float | None:
    """Return ``value`` as a float, or None when it is missing or infinite."""
    if is_missing(value):
        return None
    number = float(value)
    return number if math.isfinite(number) else None
