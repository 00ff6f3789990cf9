"""Locale-aware number, date and HTML-table formatting for the model report."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from html import escape

from creditlimit.i18n import register, translate

__all__ = [
    "is_missing",
    "format_metric",
    "format_share",
    "format_integer",
    "format_date",
    "format_p_value",
    "html_table",
    "Cell",
]

register({
    "report.format.not_available": {"en": "n/a", "zh_CN": "无"},
})


def is_missing(value: object) -> bool:
    """Return True for None, NaN and pandas NA."""
    if value is None:
        return True
    try:
        return bool(math.isnan(float(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def format_metric(value: object, locale: str, digits: int = 4) -> str:
    """Format a metric such as AUC or Brier with ``digits`` decimals (``n/a`` when missing)."""
    if is_missing(value):
        return translate("report.format.not_available", locale)
    return f"{float(value):.{digits}f}"


def format_share(value: object, locale: str, digits: int = 2) -> str:
    """Format a share stored as a fraction (0.0841) as a percentage (8.41%)."""
    if is_missing(value):
        return translate("report.format.not_available", locale)
    return f"{float(value) * 100:.{digits}f}%"


def format_integer(value: object, locale: str) -> str:
    """Format a count with thousands separators (both locales group by three digits)."""
    if is_missing(value):
        return translate("report.format.not_available", locale)
    return f"{int(value):,}"


def format_date(value: object, locale: str) -> str:
    """Format a date as ``2024-01-31`` (en) or ``2024年1月31日`` (zh_CN)."""
    if is_missing(value):
        return translate("report.format.not_available", locale)
    day = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])
    if locale == "zh_CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.isoformat()


def format_p_value(value: object, locale: str) -> str:
    """Format a p-value with three significant digits, ``< 0.001`` below that."""
    if is_missing(value):
        return translate("report.format.not_available", locale)
    return "< 0.001" if float(value) < 0.001 else f"{float(value):.3g}"


class Cell:
    """A table cell: text (escaped when rendered), an optional CSS class and background."""

    __slots__ = ("text", "css_class", "background", "markup")

    def __init__(self, text: str, *, css_class: str = "", background: str = "", markup: bool = False) -> None:
        self.text = text
        self.css_class = css_class
        self.background = background
        # markup=True keeps ``text`` as HTML the caller built from escaped parts.
        self.markup = markup


def html_table(header: Sequence[str], rows: Sequence[Sequence[str | Cell]], *, numeric_from: int = 1,
               numeric_to: int | None = None, caption: str = "") -> str:
    """Build an HTML table; columns ``numeric_from`` up to ``numeric_to`` (exclusive) are right-aligned.

    Every plain string is HTML-escaped; a :class:`Cell` adds a class or a background.
    """
    head = "".join(f"<th>{escape(title)}</th>" for title in header)
    body = []
    for row in rows:
        cells = []
        for position, cell in enumerate(row):
            numeric = position >= numeric_from and (numeric_to is None or position < numeric_to)
            cells.append(_cell(cell, numeric=numeric))
        body.append(f"<tr>{''.join(cells)}</tr>")
    caption_html = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f'<table>{caption_html}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _cell(cell: str | Cell, *, numeric: bool) -> str:
    if not isinstance(cell, Cell):
        cell = Cell(cell)
    classes = " ".join(name for name in ("num" if numeric else "", cell.css_class) if name)
    class_attribute = f' class="{classes}"' if classes else ""
    style = f' style="background:{escape(cell.background)}"' if cell.background else ""
    text = cell.text if cell.markup else escape(cell.text)
    return f"<td{class_attribute}{style}>{text}</td>"
