"""Tests for creditlimit.reports.svg: well-formed, escaped, self-contained inline SVG charts."""

from __future__ import annotations

import datetime as dt
import math
import re
import xml.etree.ElementTree as ET

import pytest

from creditlimit.reports import svg

NS = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{NS}svg"
    return root


def _texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{NS}text")]


def _all_charts() -> list[str]:
    return [
        svg.line_chart([svg.Series("a", [0, 1], [0, 1])], title="t"),
        svg.bar_chart(["x", "y"], {"s": [1.0, 2.0]}),
        svg.scatter_chart([svg.Point(0, 0, 1.0), svg.Point(1, 1, None)], color_label=("low", "high")),
        svg.beeswarm_chart([svg.BeeswarmRow("f", [0.1, -0.2], [1.0, 2.0])]),
        svg.waterfall_chart(-2.0, [("a", 0.5)], base_label="base", total_label="total"),
    ]


def test_charts_parse_as_standalone_svg():
    """Every chart is one well-formed <svg> element with a viewBox."""
    for markup in _all_charts():
        root = _parse(markup)
        assert root.get("viewBox")


def test_charts_load_nothing_external():
    """No chart references a URL, script or font file; the only URL is the SVG namespace."""
    for markup in _all_charts():
        urls = re.findall(r"https?://[^\"' ]+", markup)
        assert urls == ["http://www.w3.org/2000/svg"]
        assert "<script" not in markup
        assert "href" not in markup
        assert "@font-face" not in markup


def test_text_is_escaped_and_kept_as_characters():
    """Markup characters in labels are escaped, and Chinese stays as text elements."""
    markup = svg.line_chart(
        [svg.Series("违约 <bads> & \"goods\"", [0, 1], [0, 1]), svg.Series("b", [0, 1], [1, 0])],
        title="ROC <曲线>", x_label="假阳性率", y_label="a&b",
    )
    root = _parse(markup)
    texts = _texts(root)
    assert "ROC <曲线>" in texts
    assert "违约 <bads> & \"goods\"" in texts
    assert "假阳性率" in texts
    assert "a&b" in texts
    assert "<曲线>" not in markup


def test_line_chart_missing_value_splits_line():
    """A None in y leaves a gap: the series is drawn as two polylines, never through 0."""
    root = _parse(svg.line_chart([svg.Series("s", [0, 1, 2, 3], [1.0, 2.0, None, 3.0])]))
    lines = list(root.iter(f"{NS}polyline"))
    assert len(lines) == 2
    assert len(lines[0].get("points").split()) == 2
    assert len(lines[1].get("points").split()) == 1


def test_line_chart_nan_treated_as_missing():
    """NaN in y is a gap like None."""
    root = _parse(svg.line_chart([svg.Series("s", [0, 1, 2], [1.0, math.nan, 3.0])]))
    assert len(list(root.iter(f"{NS}polyline"))) == 2


def test_line_chart_fixed_range_ticks():
    """x_range and y_range fix the axes: ticks run from 0 to 1."""
    root = _parse(svg.line_chart([svg.Series("s", [0.1, 0.9], [0.2, 0.8])], x_range=(0, 1), y_range=(0, 1)))
    texts = _texts(root)
    assert "0" in texts
    assert "1" in texts


def test_line_chart_date_axis_month_ticks():
    """Date x values get ticks on month starts, labelled ISO by default."""
    dates = [dt.date(2024, 1, 15), dt.date(2024, 4, 20), dt.date(2024, 7, 31)]
    root = _parse(svg.line_chart([svg.Series("psi", dates, [0.01, 0.02, 0.05])]))
    ticks = [text for text in _texts(root) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text)]
    assert ticks
    assert all(text.endswith("-01") for text in ticks)
    assert all("2024-02-01" <= text <= "2024-07-01" for text in ticks)


def test_line_chart_date_axis_custom_format():
    """x_format receives a date for a date axis."""
    dates = [dt.date(2024, 1, 1), dt.date(2024, 12, 31)]
    root = _parse(svg.line_chart([svg.Series("s", dates, [1, 2])], x_format=lambda day: f"{day.year}年{day.month}月"))
    assert any(text.endswith("月") for text in _texts(root))


def test_bar_chart_grouped_bar_count():
    """Grouped bars: one rect per present value, missing values left out."""
    root = _parse(svg.bar_chart(["A", "B", "C"], {"obs": [0.1, None, 0.3], "pred": [0.1, 0.2, 0.25]}))
    bars = [rect for rect in root.iter(f"{NS}rect") if rect.find(f"{NS}title") is not None]
    assert len(bars) == 5


def test_bar_chart_value_labels():
    """value_format prints each bar's value above it."""
    root = _parse(svg.bar_chart(["A"], {"s": [0.125]}, value_format=lambda v: f"{v:.1%}"))
    assert "12.5%" in _texts(root)


def test_bar_chart_stacked_negative_goes_down():
    """Stacked bars: a negative value is drawn below the zero line."""
    root = _parse(svg.bar_chart(["A"], {"up": [2.0], "down": [-1.0]}, stacked=True))
    bars = {rect.find(f"{NS}title").text.split(":")[0]: rect for rect in root.iter(f"{NS}rect")
            if rect.find(f"{NS}title") is not None}
    up_bottom = float(bars["up"].get("y")) + float(bars["up"].get("height"))
    down_top = float(bars["down"].get("y"))
    assert up_bottom == pytest.approx(down_top, abs=0.2)


def test_bar_chart_length_mismatch_raises():
    """A series with the wrong number of values raises, naming the series."""
    with pytest.raises(ValueError, match="bar series 'obs' has 1 values but there are 2 categories"):
        svg.bar_chart(["A", "B"], {"obs": [1.0]})


def test_beeswarm_dot_per_value():
    """One dot per non-missing contribution; a missing feature value is grey."""
    row = svg.BeeswarmRow("f", [0.1, 0.1, 0.1, -0.3, math.nan], [1.0, None, 3.0, 4.0, 5.0])
    root = _parse(svg.beeswarm_chart([row]))
    dots = list(root.iter(f"{NS}circle"))
    assert len(dots) == 4
    assert sum(dot.get("fill") == "#9A9A9A" for dot in dots) == 1


def test_beeswarm_overlapping_dots_spread():
    """Equal contributions are stacked at different heights instead of on top of each other."""
    row = svg.BeeswarmRow("f", [0.5] * 6, [1.0] * 6)
    root = _parse(svg.beeswarm_chart([row]))
    heights = {dot.get("cy") for dot in root.iter(f"{NS}circle")}
    assert len(heights) > 1


def test_beeswarm_colour_runs_low_to_high():
    """The lowest feature value is blue and the highest red."""
    row = svg.BeeswarmRow("f", [0.0, 1.0], [10.0, 20.0])
    dots = {dot.get("cx"): dot.get("fill") for dot in _parse(svg.beeswarm_chart([row])).iter(f"{NS}circle")}
    low, high = sorted(dots, key=float)
    assert dots[low] == "#0072B2"
    assert dots[high] == "#D51E3C"


def test_waterfall_total_equals_base_plus_contributions():
    """The total row shows base plus the sum of contributions, each step signed."""
    markup = svg.waterfall_chart(-3.0, [("dpd", 0.8), ("sales", -0.4)], base_label="base", total_label="total",
                                 value_format=lambda v: f"{v:.2f}")
    texts = _texts(_parse(markup))
    assert "-2.60" in texts
    assert "+0.80" in texts
    assert "-0.40" in texts


def test_heat_color_bounds_and_missing():
    """heat_color clips to its range and gives grey for a missing value."""
    assert svg.heat_color(-5, 0, 1) == svg.heat_color(0, 0, 1)
    assert svg.heat_color(5, 0, 1) == svg.heat_color(1, 0, 1)
    assert svg.heat_color(None, 0, 1) == "#F2F2F2"
    assert svg.heat_color(math.nan, 0, 1) == "#F2F2F2"


def test_legend_wraps_long_entries():
    """Many long legend entries wrap onto several rows instead of running off the chart."""
    series = [svg.Series(f"a long legend entry number {i}", [0, 1], [0, i]) for i in range(4)]
    root = _parse(svg.line_chart(series, width=400))
    legend_rows = {rect.get("y") for rect in root.iter(f"{NS}rect")}
    assert len(legend_rows) > 1
