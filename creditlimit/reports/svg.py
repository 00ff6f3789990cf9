"""Inline SVG charts for self-contained HTML reports.

Every function returns one ``<svg>`` element as a string, with the SVG namespace
declared, so it can be pasted into an HTML5 page or parsed on its own with
``xml.etree``. Text stays text (``<text>`` elements), so the browser draws it with
its own fonts and Chinese labels render as characters. Every caller-supplied
string is XML-escaped. The charts load nothing: no JavaScript, no fonts, no URLs.

Conventions shared by the chart functions:

- Arguments after the data are keyword-only. ``width`` and ``height`` are in CSS
  pixels and the ``<svg>`` carries a ``viewBox``, so CSS may scale it.
- ``title`` is drawn at the top and also set as the SVG ``<title>`` (read by
  screen readers and shown as a tooltip).
- Number formatting is the caller's: pass ``x_format`` / ``y_format`` /
  ``value_format`` callables (for example a locale-aware formatter); the default
  prints up to four significant digits.
- A missing value (``None`` or NaN) is never drawn as 0: a line has a gap there, a
  bar is left out, a point is skipped.

Public API (stable; later versions only add functions or keyword arguments with
defaults):

- :class:`Series` and :func:`line_chart` for curves with numeric or date x values.
- :func:`bar_chart` for grouped or stacked vertical bars.
- :class:`Point` and :func:`scatter_chart` for points coloured by a value.
- :class:`BeeswarmRow` and :func:`beeswarm_chart` for SHAP-style importance plots.
- :func:`waterfall_chart` for a base value plus contributions leading to a total.
- :func:`color_for` and :data:`PALETTE` for colours, :func:`heat_color` for shading
  HTML table cells by value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "PALETTE",
    "Series",
    "Point",
    "BeeswarmRow",
    "color_for",
    "heat_color",
    "line_chart",
    "bar_chart",
    "scatter_chart",
    "beeswarm_chart",
    "waterfall_chart",
]

# Okabe-Ito palette: distinguishable with the common kinds of colour blindness.
PALETTE = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000",
)
FONT_FAMILY = "system-ui, 'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', sans-serif"
_LOW_COLOR = (0x00, 0x72, 0xB2)
_HIGH_COLOR = (0xD5, 0x1E, 0x3C)
_MISSING_COLOR = "#9A9A9A"
_AXIS_COLOR = "#555555"
_GRID_COLOR = "#E3E3E3"

Formatter = Callable[[float], str]
XValue = float | int | dt.date


@dataclass(frozen=True)
class Series:
    """One named curve of a line chart.

    ``x`` contains numbers or ``datetime.date`` values (all of one kind within a
    chart); ``y`` holds numbers, with ``None`` or NaN for a gap. ``color`` defaults
    to the palette colour of the series position; ``dashed`` draws a dashed line
    (for reference lines such as the diagonal of a ROC chart); ``markers`` draws a
    dot at every point.
    """

    name: str
    x: Sequence[XValue]
    y: Sequence[float | None]
    color: str | None = None
    dashed: bool = False
    markers: bool = False


@dataclass(frozen=True)
class Point:
    """One point of a scatter chart, coloured by ``value`` (``None`` draws grey)."""

    x: float
    y: float
    value: float | None = None
    label: str | None = None


@dataclass(frozen=True)
class BeeswarmRow:
    """One feature row of a beeswarm chart.

    ``contributions`` are the x positions (for SHAP, log-odds contributions of the
    feature, one per sampled row); ``color_values`` are the feature values of the
    same rows, used only for colour and ranked within the row, with ``None`` or NaN
    for a missing value (drawn grey).
    """

    label: str
    contributions: Sequence[float]
    color_values: Sequence[float | None] = field(default_factory=tuple)


def color_for(index: int) -> str:
    """Return the palette colour for series number ``index`` (cycling)."""
    return PALETTE[index % len(PALETTE)]


def heat_color(value: float | None, low: float, high: float) -> str:
    """Return a CSS colour from light blue (``low``) to light red (``high``).

    Meant for the background of HTML table cells; values outside ``[low, high]``
    are clipped and a missing value gives light grey.
    """
    if _missing(value) or not high > low:
        return "#F2F2F2"
    share = min(max((float(value) - low) / (high - low), 0.0), 1.0)
    light_blue, light_red = (0xD6, 0xE9, 0xF8), (0xF8, 0xD3, 0xD3)
    return _mix(light_blue, light_red, share)


def line_chart(
    series: Sequence[Series],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 520,
    height: int = 340,
    x_format: Formatter | None = None,
    y_format: Formatter | None = None,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
) -> str:
    """Draw one or more curves on shared axes, with a legend when there are several.

    Date x values are placed by calendar day and labelled ``YYYY-MM-DD`` unless
    ``x_format`` is given (it then receives a ``datetime.date``). ``x_range`` and
    ``y_range`` fix the axis limits (for example ``(0, 1)`` for a ROC chart);
    otherwise they span the data with rounded ticks.
    """
    dates = any(isinstance(x, dt.date) for s in series for x in s.x)
    points = [[(_x_number(x), y) for x, y in zip(s.x, s.y, strict=True)] for s in series]
    xs = [x for line in points for x, y in line if not _missing(y)]
    ys = [float(y) for line in points for _, y in line if not _missing(y)]
    entries = [(s.name, s.color or color_for(i)) for i, s in enumerate(series)]
    legend_rows = len(_legend_rows(entries, width - 64 - 36)) if len(series) > 1 else 0
    frame = _Frame(width, height, legend=legend_rows, title=bool(title), right_margin=36)
    x_scale = _date_scale(xs, frame) if dates and x_range is None else _Scale.fit(
        xs, x_range, frame.left, frame.right)
    y_scale = _Scale.fit(ys, y_range, frame.bottom, frame.top)

    x_formatter = x_format or _number
    if dates and x_format is not None:
        x_formatter = lambda value: x_format(dt.date.fromordinal(round(value)))  # noqa: E731
    elif dates:
        x_formatter = lambda value: _date_label(dt.date.fromordinal(round(value)))  # noqa: E731
    parts = _axes(frame, x_scale, y_scale, x_formatter, y_format or _number, x_label, y_label)
    for index, (one, line) in enumerate(zip(series, points, strict=True)):
        parts.append(_polyline(line, x_scale, y_scale, one.color or color_for(index), one))
    if len(series) > 1:
        parts.append(_legend(frame, entries))
    return _svg(width, height, title, parts)


def bar_chart(
    categories: Sequence[str],
    values: Mapping[str, Sequence[float | None]],
    *,
    stacked: bool = False,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 520,
    height: int = 340,
    y_format: Formatter | None = None,
    value_format: Formatter | None = None,
    colors: Mapping[str, str] | None = None,
) -> str:
    """Draw vertical bars: one group per category, one bar per series.

    ``values`` maps a series name to one value per category (``None``/NaN leaves
    the bar out). With ``stacked=True`` the series of a category are stacked;
    negative values are stacked downwards from 0. ``value_format``, when given,
    prints each bar's value above it (grouped bars only).
    """
    names = list(values)
    for name in names:
        if len(values[name]) != len(categories):
            raise ValueError(
                f"bar series {name!r} has {len(values[name])} values but there are "
                f"{len(categories)} categories; pass one value per category."
            )
    palette = {name: (colors or {}).get(name) or color_for(i) for i, name in enumerate(names)}
    entries = [(name, palette[name]) for name in names]
    legend_rows = len(_legend_rows(entries, width - 64 - 16)) if len(names) > 1 else 0
    frame = _Frame(width, height, legend=legend_rows, title=bool(title))
    y_scale = _Scale.fit(_bar_extent(categories, values, stacked), None, frame.bottom, frame.top)
    y_scale = y_scale.including_zero()
    band = (frame.right - frame.left) / max(len(categories), 1)

    parts = _y_axis(frame, y_scale, y_format or _number, y_label)
    parts += _category_axis(frame, categories, band, x_label)
    for position in range(len(categories)):
        left = frame.left + position * band
        if stacked:
            parts += _stacked_bars(values, names, position, left, band, y_scale, palette)
        else:
            parts += _grouped_bars(values, names, position, left, band, y_scale, palette, value_format)
    if len(names) > 1:
        parts.append(_legend(frame, entries))
    return _svg(width, height, title, parts)


def scatter_chart(
    points: Sequence[Point],
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 520,
    height: int = 340,
    x_format: Formatter | None = None,
    y_format: Formatter | None = None,
    color_label: tuple[str, str] | None = None,
    radius: float = 3.0,
) -> str:
    """Draw points coloured from blue (low ``value``) to red (high ``value``).

    ``color_label`` is the (low, high) caption of the colour legend; without it no
    colour legend is drawn. A point's ``label`` becomes its hover tooltip.
    """
    drawn = [p for p in points if not (_missing(p.x) or _missing(p.y))]
    frame = _Frame(width, height, legend=color_label is not None, title=bool(title))
    x_scale = _Scale.fit([p.x for p in drawn], None, frame.left, frame.right)
    y_scale = _Scale.fit([p.y for p in drawn], None, frame.bottom, frame.top)
    colour_values = [p.value for p in drawn if not _missing(p.value)]
    low, high = (min(colour_values), max(colour_values)) if colour_values else (0.0, 1.0)

    parts = _axes(frame, x_scale, y_scale, x_format or _number, y_format or _number, x_label, y_label)
    for point in drawn:
        colour = _MISSING_COLOR if _missing(point.value) else _gradient(point.value, low, high)
        tooltip = f"<title>{escape(point.label)}</title>" if point.label else ""
        parts.append(
            f'<circle cx="{x_scale(point.x):.1f}" cy="{y_scale(point.y):.1f}" r="{radius}" '
            f'fill="{colour}" fill-opacity="0.8">{tooltip}</circle>'
        )
    if color_label is not None:
        parts.append(_color_legend(frame, *color_label))
    return _svg(width, height, title, parts)


def beeswarm_chart(
    rows: Sequence[BeeswarmRow],
    *,
    title: str = "",
    x_label: str = "",
    color_label: tuple[str, str] = ("low", "high"),
    width: int = 640,
    row_height: int = 26,
    label_width: int = 180,
    x_format: Formatter | None = None,
    radius: float = 2.2,
) -> str:
    """Draw a beeswarm: one row per feature, one dot per sampled row.

    Rows are drawn in the given order (sort them by importance first). Dots that
    would overlap are stacked alternately above and below the row's centre line,
    so the row's thickness shows how many rows have that contribution. Colour runs
    from blue (lowest feature value in the row) to red (highest), by rank, and a
    missing feature value is grey. ``color_label`` captions the colour legend.
    """
    contributions = [float(c) for row in rows for c in row.contributions if not _missing(c)]
    top = 46 if title else 22
    height = top + row_height * max(len(rows), 1) + 78
    frame = _Frame(width, height, legend=False, title=bool(title), left=label_width, top=top, bottom=68)
    x_scale = _Scale.fit(contributions + [0.0], None, frame.left, frame.right)

    parts = _x_axis(frame, x_scale, x_format or _number, x_label)
    zero = x_scale(0.0)
    parts.append(_line(zero, frame.top, zero, frame.bottom, _AXIS_COLOR, width=1))
    for index, row in enumerate(rows):
        centre = frame.top + row_height * (index + 0.5)
        parts.append(_text(frame.left - 8, centre + 4, row.label, anchor="end"))
        parts.append(_line(frame.left, centre, frame.right, centre, _GRID_COLOR))
        parts += _swarm_dots(row, x_scale, centre, row_height / 2 - 2, radius)
    parts.append(_color_legend(frame, *color_label, y=height - 8))
    return _svg(width, height, title, parts)


def waterfall_chart(
    base: float,
    contributions: Sequence[tuple[str, float]],
    *,
    base_label: str,
    total_label: str,
    title: str = "",
    x_label: str = "",
    width: int = 640,
    row_height: int = 24,
    label_width: int = 220,
    value_format: Formatter | None = None,
) -> str:
    """Draw a horizontal waterfall: base value, one step per contribution, total.

    Each step starts where the previous one ended, red when it raises the running
    sum and blue when it lowers it; the first and last rows are the base and the
    total (base plus all contributions) drawn from 0. Labels are on the left and
    each step's signed value on its right.
    """
    steps = [(label, float(value)) for label, value in contributions]
    total = base + sum(value for _, value in steps)
    running = [base]
    for _, value in steps:
        running.append(running[-1] + value)
    top = 46 if title else 22
    height = top + row_height * (len(steps) + 2) + 52
    frame = _Frame(width, height, legend=False, title=bool(title), left=label_width, top=top, bottom=42,
                   right_margin=70)
    x_scale = _Scale.fit(running + [0.0, total], None, frame.left, frame.right)
    formatter = value_format or _number

    parts = _x_axis(frame, x_scale, formatter, x_label)
    rows = [(base_label, 0.0, base, "#7F7F7F", formatter(base))]
    rows += [
        (label, running[i], running[i + 1], _HIGH_HEX if value > 0 else _LOW_HEX, _signed(formatter, value))
        for i, (label, value) in enumerate(steps)
    ]
    rows.append((total_label, 0.0, total, "#333333", formatter(total)))
    for index, (label, start, end, colour, shown) in enumerate(rows):
        parts += _waterfall_row(frame, x_scale, index, row_height, label, start, end, colour, shown)
    return _svg(width, height, title, parts)


# ---------------------------------------------------------------------------
# Geometry


@dataclass(frozen=True)
class _Frame:
    """Plot area of a chart: pixel bounds inside the SVG canvas.

    ``legend`` is the number of legend rows above the plot (a bool counts as 0 or 1).
    """

    width: int
    height: int
    legend: int
    title: bool
    left: float = 64
    top: float = 0
    bottom: float = 0
    right_margin: float = 16

    def __post_init__(self) -> None:
        top = self.top or (34 if self.title else 14) + 20 * int(self.legend)
        object.__setattr__(self, "top", top)
        object.__setattr__(self, "bottom", self.height - (self.bottom or 48))

    @property
    def right(self) -> float:
        return self.width - self.right_margin


@dataclass(frozen=True)
class _Scale:
    """Linear map from data values to pixels, with rounded tick values."""

    low: float
    high: float
    pixel_low: float
    pixel_high: float
    ticks: tuple[float, ...]

    @classmethod
    def fit(cls, values: Sequence[float], fixed: tuple[float, float] | None, pixel_low: float,
            pixel_high: float) -> _Scale:
        if fixed is not None:
            low, high = float(fixed[0]), float(fixed[1])
            return cls(low, high, pixel_low, pixel_high, _nice_ticks(low, high, snap=False))
        finite = [float(v) for v in values if not _missing(v)]
        low, high = (min(finite), max(finite)) if finite else (0.0, 1.0)
        if high == low:
            pad = abs(low) * 0.1 or 1.0
            low, high = low - pad, high + pad
        ticks = _nice_ticks(low, high, snap=True)
        return cls(min(ticks[0], low), max(ticks[-1], high), pixel_low, pixel_high, ticks)

    def including_zero(self) -> _Scale:
        if self.low <= 0 <= self.high:
            return self
        low, high = min(self.low, 0.0), max(self.high, 0.0)
        return _Scale(low, high, self.pixel_low, self.pixel_high, _nice_ticks(low, high, snap=True))

    def __call__(self, value: float) -> float:
        share = (float(value) - self.low) / (self.high - self.low)
        return self.pixel_low + share * (self.pixel_high - self.pixel_low)


def _date_scale(ordinals: Sequence[float], frame: _Frame) -> _Scale:
    """Return a scale spanning the dates exactly, with at most six ticks on month starts."""
    if not ordinals:
        return _Scale.fit([], None, frame.left, frame.right)
    low, high = float(min(ordinals)), float(max(ordinals))
    if high == low:
        low, high = low - 15, high + 15
    first, last = dt.date.fromordinal(int(low)), dt.date.fromordinal(int(high))
    month_starts = []
    year, month = first.year, first.month
    while dt.date(year, month, 1) <= last:
        if dt.date(year, month, 1) >= first:
            month_starts.append(dt.date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    step = next((m for m in (1, 2, 3, 6, 12, 24, 60, 120) if len(month_starts) / m <= 6), 240)
    ticks = tuple(
        float(day.toordinal()) for day in month_starts
        if ((day.year * 12 + day.month - 1) % step) == 0
    )
    return _Scale(low, high, frame.left, frame.right, ticks)


def _nice_ticks(low: float, high: float, *, snap: bool, count: int = 5) -> tuple[float, ...]:
    """Return about ``count`` ticks on a 1-2-5 step covering ``[low, high]``."""
    raw_step = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw_step)
    start = math.floor(low / step) * step if snap else math.ceil(low / step - 1e-9) * step
    stop = math.ceil(high / step) * step if snap else high
    ticks = []
    value = start
    while value <= stop + step * 1e-6:
        ticks.append(round(value, 12))
        value += step
    return tuple(ticks)


# ---------------------------------------------------------------------------
# Drawing pieces


_LOW_HEX = "#0072B2"
_HIGH_HEX = "#D51E3C"


def _axes(frame: _Frame, x_scale: _Scale, y_scale: _Scale, x_format: Formatter, y_format: Formatter,
          x_label: str, y_label: str) -> list[str]:
    return _y_axis(frame, y_scale, y_format, y_label) + _x_axis(frame, x_scale, x_format, x_label)


def _x_axis(frame: _Frame, scale: _Scale, formatter: Formatter, label: str) -> list[str]:
    parts = [_line(frame.left, frame.bottom, frame.right, frame.bottom, _AXIS_COLOR)]
    for tick in scale.ticks:
        x = scale(tick)
        parts.append(_line(x, frame.top, x, frame.bottom, _GRID_COLOR))
        parts.append(_text(x, frame.bottom + 16, formatter(tick), anchor="middle", size=11))
    if label:
        parts.append(_text((frame.left + frame.right) / 2, frame.bottom + 36, label, anchor="middle"))
    return parts


def _y_axis(frame: _Frame, scale: _Scale, formatter: Formatter, label: str) -> list[str]:
    parts = [_line(frame.left, frame.top, frame.left, frame.bottom, _AXIS_COLOR)]
    for tick in scale.ticks:
        y = scale(tick)
        parts.append(_line(frame.left, y, frame.right, y, _GRID_COLOR))
        parts.append(_text(frame.left - 6, y + 4, formatter(tick), anchor="end", size=11))
    if label:
        y_middle = (frame.top + frame.bottom) / 2
        parts.append(
            f'<text x="14" y="{y_middle:.1f}" text-anchor="middle" font-size="12" '
            f'transform="rotate(-90 14 {y_middle:.1f})">{escape(label)}</text>'
        )
    return parts


def _category_axis(frame: _Frame, categories: Sequence[str], band: float, label: str) -> list[str]:
    parts = [_line(frame.left, frame.bottom, frame.right, frame.bottom, _AXIS_COLOR)]
    for position, category in enumerate(categories):
        x = frame.left + band * (position + 0.5)
        parts.append(_text(x, frame.bottom + 16, category, anchor="middle", size=11))
    if label:
        parts.append(_text((frame.left + frame.right) / 2, frame.bottom + 36, label, anchor="middle"))
    return parts


def _polyline(points: list[tuple[float, float | None]], x_scale: _Scale, y_scale: _Scale, colour: str,
              series: Series) -> str:
    # A missing y splits the curve into separate runs, so a gap stays visible.
    runs: list[list[str]] = [[]]
    dots: list[str] = []
    for x, y in points:
        if _missing(y) or _missing(x):
            runs.append([])
            continue
        px, py = x_scale(x), y_scale(float(y))
        runs[-1].append(f"{px:.1f},{py:.1f}")
        if series.markers:
            dots.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="2.5" fill="{colour}"/>')
    dash = ' stroke-dasharray="5 4"' if series.dashed else ""
    lines = [
        f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>'
        for run in runs if run
    ]
    return f"<g>{''.join(lines + dots)}</g>"


def _bar_extent(categories: Sequence[str], values: Mapping[str, Sequence[float | None]],
                stacked: bool) -> list[float]:
    if not stacked:
        return [float(v) for series in values.values() for v in series if not _missing(v)] + [0.0]
    extent = [0.0]
    for position in range(len(categories)):
        present = [float(series[position]) for series in values.values() if not _missing(series[position])]
        extent += [sum(v for v in present if v > 0), sum(v for v in present if v < 0)]
    return extent


def _grouped_bars(values: Mapping[str, Sequence[float | None]], names: list[str], position: int, left: float,
                  band: float, y_scale: _Scale, palette: Mapping[str, str],
                  value_format: Formatter | None) -> list[str]:
    inner = band * 0.8
    bar_width = inner / max(len(names), 1)
    parts = []
    for index, name in enumerate(names):
        value = values[name][position]
        if _missing(value):
            continue
        x = left + band * 0.1 + index * bar_width
        parts.append(_bar(x, bar_width * 0.92, y_scale(0.0), y_scale(float(value)), palette[name],
                          f"{name}: {(value_format or _number)(float(value))}"))
        if value_format is not None:
            y = min(y_scale(float(value)), y_scale(0.0)) - 3
            parts.append(_text(x + bar_width * 0.46, y, value_format(float(value)), anchor="middle", size=10))
    return parts


def _stacked_bars(values: Mapping[str, Sequence[float | None]], names: list[str], position: int, left: float,
                  band: float, y_scale: _Scale, palette: Mapping[str, str]) -> list[str]:
    parts = []
    up, down = 0.0, 0.0
    for name in names:
        value = values[name][position]
        if _missing(value):
            continue
        value = float(value)
        start = up if value >= 0 else down
        end = start + value
        if value >= 0:
            up = end
        else:
            down = end
        parts.append(_bar(left + band * 0.15, band * 0.7, y_scale(start), y_scale(end), palette[name],
                          f"{name}: {_number(value)}"))
    return parts


def _bar(x: float, width: float, y_from: float, y_to: float, colour: str, tooltip: str) -> str:
    top, height = min(y_from, y_to), abs(y_to - y_from)
    return (
        f'<rect x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{max(height, 0.5):.1f}" '
        f'fill="{colour}"><title>{escape(tooltip)}</title></rect>'
    )


def _swarm_dots(row: BeeswarmRow, x_scale: _Scale, centre: float, half_band: float,
                radius: float) -> list[str]:
    colour_ranks = _ranks(row.color_values, len(row.contributions))
    occupied: dict[int, int] = {}
    order = sorted(
        (i for i, c in enumerate(row.contributions) if not _missing(c)),
        key=lambda i: float(row.contributions[i]),
    )
    dots = []
    for i in order:
        x = x_scale(float(row.contributions[i]))
        bucket = int(x // (radius * 2))
        slot = occupied.get(bucket, 0)
        occupied[bucket] = slot + 1
        # Slots alternate above and below the centre line; once the band is full the
        # dots wrap into it again, so a dense row stays inside its band.
        offset = ((slot + 1) // 2) * radius * 1.6 * (1 if slot % 2 else -1)
        if abs(offset) > half_band:
            offset = math.copysign(abs(offset) % half_band, offset)
        rank = colour_ranks[i]
        colour = _MISSING_COLOR if rank is None else _mix(_LOW_COLOR, _HIGH_COLOR, rank)
        dots.append(f'<circle cx="{x:.1f}" cy="{centre + offset:.1f}" r="{radius}" fill="{colour}"/>')
    return dots


def _ranks(values: Sequence[float | None], count: int) -> list[float | None]:
    """Return each value's rank share in [0, 1] (``None`` where missing or absent)."""
    present = [(float(v), i) for i, v in enumerate(values) if not _missing(v)]
    ranks: list[float | None] = [None] * count
    if not present:
        return ranks
    ordered = sorted(present)
    span = max(len(ordered) - 1, 1)
    position = 0
    while position < len(ordered):
        # Tied values share the mean rank, so equal feature values get equal colour.
        end = position
        while end + 1 < len(ordered) and ordered[end + 1][0] == ordered[position][0]:
            end += 1
        share = ((position + end) / 2) / span
        for _, index in ordered[position:end + 1]:
            if index < count:
                ranks[index] = share
        position = end + 1
    return ranks


def _waterfall_row(frame: _Frame, x_scale: _Scale, index: int, row_height: float, label: str, start: float,
                   end: float, colour: str, shown: str) -> list[str]:
    y = frame.top + index * row_height
    left, right = sorted((x_scale(start), x_scale(end)))
    return [
        _text(frame.left - 8, y + row_height * 0.65, label, anchor="end"),
        f'<rect x="{left:.1f}" y="{y + 3:.1f}" width="{max(right - left, 1):.1f}" '
        f'height="{row_height - 6:.1f}" fill="{colour}"><title>{escape(label)}: {escape(shown)}</title></rect>',
        _text(right + 4, y + row_height * 0.65, shown, size=11),
    ]


def _legend(frame: _Frame, entries: Sequence[tuple[str, str]]) -> str:
    rows = _legend_rows(entries, frame.right - frame.left)
    parts = []
    for row_index, row in enumerate(rows):
        y = frame.top - 12 - 20 * (len(rows) - 1 - row_index)
        x = frame.left
        for name, colour in row:
            parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="12" height="10" fill="{colour}"/>')
            parts.append(_text(x + 16, y, name, size=11))
            x += _legend_entry_width(name)
    return f"<g>{''.join(parts)}</g>"


def _legend_rows(entries: Sequence[tuple[str, str]], available: float) -> list[list[tuple[str, str]]]:
    """Split legend entries into rows that fit ``available`` pixels (an estimate from character counts)."""
    rows: list[list[tuple[str, str]]] = [[]]
    used = 0.0
    for entry in entries:
        needed = _legend_entry_width(entry[0])
        if rows[-1] and used + needed > available:
            rows.append([])
            used = 0.0
        rows[-1].append(entry)
        used += needed
    return rows


def _legend_entry_width(name: str) -> float:
    return 28 + 6.5 * _display_width(name)


def _color_legend(frame: _Frame, low_label: str, high_label: str, y: float | None = None) -> str:
    y = frame.top - 12 if y is None else y
    x = frame.right - 150
    steps = 10
    parts = [_text(x - 4, y, low_label, anchor="end", size=11)]
    for step in range(steps):
        colour = _mix(_LOW_COLOR, _HIGH_COLOR, step / (steps - 1))
        parts.append(f'<rect x="{x + step * 10:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{colour}"/>')
    parts.append(_text(x + steps * 10 + 4, y, high_label, size=11))
    return f"<g>{''.join(parts)}</g>"


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, width: float = 1) -> str:
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{colour}" stroke-width="{width}"/>'
    )


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 12) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}">'
        f"{escape(str(content))}</text>"
    )


def _svg(width: int, height: int, title: str, parts: list[str]) -> str:
    heading = ""
    if title:
        heading = (
            f"<title>{escape(title)}</title>"
            f'<text x="{width / 2:.1f}" y="20" text-anchor="middle" font-size="14" '
            f'font-weight="600">{escape(title)}</text>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family={quoteattr(FONT_FAMILY)} fill="#222222">'
        f"{heading}{''.join(parts)}</svg>"
    )


# ---------------------------------------------------------------------------
# Values and colours


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _x_number(value: XValue) -> float:
    if isinstance(value, dt.datetime):
        return float(value.date().toordinal())
    if isinstance(value, dt.date):
        return float(value.toordinal())
    return float("nan") if value is None else float(value)


def _number(value: float) -> str:
    if _missing(value):
        return ""
    return f"{value:.4g}"


def _signed(formatter: Formatter, value: float) -> str:
    text = formatter(value)
    return text if value < 0 or text.startswith(("+", "-", "−")) else f"+{text}"


def _date_label(value: dt.date) -> str:
    return value.isoformat()


def _gradient(value: float, low: float, high: float) -> str:
    share = 0.5 if high <= low else (float(value) - low) / (high - low)
    return _mix(_LOW_COLOR, _HIGH_COLOR, min(max(share, 0.0), 1.0))


def _mix(low: tuple[int, int, int], high: tuple[int, int, int], share: float) -> str:
    channels = (round(a + (b - a) * share) for a, b in zip(low, high, strict=True))
    return "#" + "".join(f"{c:02X}" for c in channels)


def _display_width(text: str) -> float:
    """Return the width of ``text`` in Latin-character units (CJK counts as two)."""
    return sum(2.0 if ord(char) > 0x2E80 else 1.0 for char in text)
