"""Customer pages of the credit usage report: one page per customer and locale.

A page shows the limit decision with its calculation log, the customer's flags
and a SHAP waterfall of its PD with the reason texts. It then shows what changed
since the previous run and what would restore the previous grade. Charts and
tables of monthly invoiced, paid and overdue amounts, the limit history and the
financial ratios over time close the page.

:class:`CustomerIndex` groups every input table by customer once, so rendering
thousands of pages costs a dictionary lookup per table and page.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import pandas as pd

from creditlimit.features.catalog import FEATURES
from creditlimit.reports import svg
from creditlimit.reports.inputs import ReportInputs
from creditlimit.reports.page import Formatter, cell, escape, finite, is_missing, page_html, section_html, \
    table_html, unavailable_html
from creditlimit.reports.params import ReportParams
from creditlimit.reports.texts import flag_label, label, severity_label
from creditlimit.serving.reasons import format_value

__all__ = ["CustomerIndex", "render_customer_page", "customer_ids", "RATIO_FEATURES"]

_SPECS = {spec.name: spec for spec in FEATURES}
RATIO_FEATURES = ("debt_to_assets", "current_ratio", "quick_ratio", "interest_coverage", "ocf_to_liabilities",
                  "net_margin", "roa", "revenue_growth")
_CHART_RATIOS = ("debt_to_assets", "net_margin", "roa")
_HISTORY_COLUMNS = ("customer_id", "as_of", "overdue_amount", "open_exposure", "statement_age_months", *RATIO_FEATURES)
_AMOUNT_STEPS = {"capacity_from_equity", "capacity_from_revenue", "capacity_limit", "need_limit", "base_limit",
                 "factored_limit", "el_cap", "model_limit", "step_up_cap", "step_down_floor", "proposed_limit",
                 "new_limit", "limit_in_force", "group_cap", "group_combined_capacity", "group_exposure",
                 "group_limit_total", "limit_before_group_cap", "monthly_volume"}
_RULE_STEPS = {"binding_rule", "proposal_rule"}
# The limit chart shows every run of the history window; the table below it only
# the latest runs, so monthly runs do not grow every page by a row each month.
_LIMIT_TABLE_RUNS = 6


def _group(frame: pd.DataFrame | None, columns: tuple[str, ...] | None = None) -> dict[str, list[dict]]:
    """Split ``frame`` into plain dicts per customer (``tolist`` avoids pandas' per-cell boxing)."""
    if frame is None or frame.empty or "customer_id" not in frame.columns:
        return {}
    names = [c for c in (columns or frame.columns) if c in frame.columns]
    grouped: dict[str, list[dict]] = {}
    for values in zip(*(frame[name].tolist() for name in names), strict=True):
        record = dict(zip(names, values, strict=True))
        grouped.setdefault(record["customer_id"], []).append(record)
    return grouped


def _by_customer(frame: pd.DataFrame | None) -> dict[str, dict]:
    return {cid: records[0] for cid, records in _group(frame).items()}


@dataclass
class CustomerIndex:
    """Every per-customer input of the pages, grouped by ``customer_id``."""

    limits: dict[str, dict]
    previous: dict[str, dict]
    customers: dict[str, dict]
    flags: dict[str, list[dict]]
    explanations: dict[str, list[dict]]
    changes: dict[str, list[dict]]
    limit_history: dict[str, list[dict]]
    history: dict[str, list[dict]]
    flows: dict[str, list[dict]]

    @classmethod
    def build(cls, inputs: ReportInputs) -> CustomerIndex:
        """Group the inputs of every customer of the run."""
        previous = inputs.previous.limits if inputs.previous is not None else None
        return cls(
            limits=_by_customer(inputs.run.limits),
            previous=_by_customer(previous),
            customers=_by_customer(inputs.customers),
            flags=_group(inputs.run.flags),
            explanations=_group(inputs.run.explanations),
            changes=_group(inputs.run.extra.get("changes")),
            limit_history=_group(inputs.limit_history),
            history=_group(inputs.history, _HISTORY_COLUMNS),
            flows=_group(inputs.monthly_flows),
        )


def render_customer_page(customer_id: str, index: CustomerIndex, inputs: ReportInputs, params: ReportParams,
                         fmt: Formatter, *, other_href: str, report_href: str) -> str:
    """Render the page of ``customer_id`` in ``fmt.locale``."""
    row = index.limits[customer_id]
    customer = index.customers.get(customer_id, {})
    sections = [
        ("decision", "cust.sec.decision", _decision(row, fmt)),
        ("calculation", "cust.sec.calculation", _calculation(row, fmt)),
        ("flags", "cust.sec.flags", _flags(index.flags.get(customer_id, []), fmt)),
        ("explanation", "cust.sec.explanation",
         _explanation(row, index.explanations.get(customer_id, []), params, fmt)),
        ("changed", "cust.sec.changed", _changed(row, index, inputs, fmt)),
        ("restore", "cust.sec.restore", _restore(row, fmt)),
        ("history", "cust.sec.history", _flows(index.flows.get(customer_id, []),
                                               index.history.get(customer_id, []), fmt)),
        ("limit-history", "cust.sec.limit_history", _limit_history(index.limit_history.get(customer_id, []), fmt)),
        ("ratios", "cust.sec.ratios", _ratios(index.history.get(customer_id, []), fmt)),
    ]
    toc = "".join(f'<a href="#{sid}">{escape(fmt.text("report." + key))}</a>' for sid, key, _ in sections)
    body = (f'<nav class="toc"><a id="back-to-report" href="{escape(report_href)}">← '
            f'{escape(fmt.text("report.back_to_report"))}</a> {toc}</nav>')
    body += "".join(section_html(sid, fmt.text("report." + key), html) for sid, key, html in sections)
    name = customer.get("name")
    industry = customer.get("industry")
    subtitle = fmt.text("report.cust.subtitle", name=name if not is_missing(name) else fmt.na(),
                        industry=industry if not is_missing(industry) else fmt.na(), as_of=fmt.date(inputs.run.as_of))
    return page_html(fmt=fmt, title=fmt.text("report.cust.title", customer_id=customer_id), subtitle=subtitle,
                     other_href=other_href, body=body)


# ---------------------------------------------------------------------------
# Decision and calculation log


def _kv_table(rows: list[tuple[str, str, str, object]], fmt: Formatter, table_id: str) -> str:
    """Key-value table; each row is (element id, label, shown HTML, raw value)."""
    body = []
    for element_id, name, shown, raw in rows:
        data = "" if raw is None or is_missing(raw) else f' data-value="{escape(raw)}"'
        identity = f' id="{escape(element_id)}"' if element_id else ""
        value = f'<span class="na">{escape(fmt.na())}</span>' if shown == escape(fmt.na()) else shown
        body.append(f"<tr><th>{escape(name)}</th><td{identity}{data}>{value}</td></tr>")
    return f'<table id="{table_id}"><tbody>{"".join(body)}</tbody></table>'


def _decision(row: dict, fmt: Formatter) -> str:
    t = fmt.text
    action = row.get("action")
    rows = [
        ("cust-grade", t("report.col.grade"), escape(row.get("grade", fmt.na())), row.get("grade")),
        ("cust-pd", t("report.col.pd"), escape(fmt.pd(row.get("pd_12m"))), row.get("pd_12m")),
        ("cust-current-limit", t("report.col.current_limit"), escape(fmt.amount(row.get("current_limit"))),
         row.get("current_limit")),
        ("cust-proposed-limit", t("report.col.proposed_limit"), escape(fmt.amount(row.get("proposed_limit"))),
         row.get("proposed_limit")),
        ("cust-new-limit", t("report.col.new_limit"), escape(fmt.amount(row.get("new_limit"))), row.get("new_limit")),
        ("cust-action", t("report.col.action"), escape(label("action", action, fmt.locale)), action),
        ("cust-effective-on", t("report.col.effective_on"), escape(fmt.date(row.get("effective_on"))), None),
        ("cust-exposure", t("report.col.exposure"), escape(fmt.amount(row.get("exposure"))), row.get("exposure")),
        ("cust-utilisation", t("report.col.utilisation"), escape(fmt.percent(row.get("utilisation"))),
         row.get("utilisation")),
        ("cust-available", t("report.col.available"), escape(fmt.amount(row.get("available_credit"))),
         row.get("available_credit")),
        ("cust-binding-rule", t("report.cust.binding_rule"),
         escape(label("rule", row.get("binding_rule"), fmt.locale)), row.get("binding_rule")),
        ("cust-needs-review", t("report.cust.needs_review"), escape(fmt.flag(row.get("needs_review"))), None),
        ("cust-locked", t("report.cust.locked"), escape(fmt.flag(row.get("limit_locked"))), None),
        ("cust-next-review", t("report.col.review_on"),
         escape(fmt.date(row.get("next_review_on")) if "next_review_on" in row else fmt.na()), None),
    ]
    html = _kv_table(rows, fmt, "decision-table")
    notice = row.get(f"notice_{'zh' if fmt.locale == 'zh_CN' else 'en'}")
    if not is_missing(notice) and notice:
        html += (f'<div class="notice" id="cust-notice"><strong>{escape(t("report.cust.notice"))}:</strong> '
                 f"{escape(notice)}</div>")
    return html


def _step_value(name: str, value: object, fmt: Formatter) -> str:
    if isinstance(value, bool):
        return fmt.flag(value)
    if name in _AMOUNT_STEPS:
        return fmt.amount(value)
    if name in _RULE_STEPS:
        return label("rule", value, fmt.locale) if not is_missing(value) else fmt.na()
    if name == "action":
        return label("action", value, fmt.locale)
    if name in ("effective_on", "next_review_on"):
        return fmt.date(value)
    if isinstance(value, int | float) and not is_missing(value):
        return fmt.number(value, 4 if abs(float(value)) < 10 else 0)
    return fmt.na() if is_missing(value) else str(value)


def _calculation(row: dict, fmt: Formatter) -> str:
    text = row.get("calculation_log")
    if is_missing(text) or not text:
        return unavailable_html(fmt)
    log = json.loads(text)
    steps = log.get("steps") or {}
    rows = [[cell(fmt, escape(label("step", name, fmt.locale))), cell(fmt, escape(_step_value(name, value, fmt)))]
            for name, value in steps.items()]
    inputs = log.get("inputs") or {}
    input_rows = [[cell(fmt, escape(name)), cell(fmt, escape(fmt.na() if value is None else str(value)))]
                  for name, value in inputs.items()]
    headers = [fmt.text("report.col.item"), fmt.text("report.col.value")]
    return (f"<h3>{escape(fmt.text('report.cust.steps'))}</h3>{table_html(headers, rows, table_id='steps-table')}"
            f"<details><summary>{escape(fmt.text('report.cust.inputs'))}</summary>"
            f"{table_html(headers, input_rows, table_id='inputs-table')}</details>")


# ---------------------------------------------------------------------------
# Flags and explanation


def _text_column(fmt: Formatter, stem: str) -> str:
    return f"{stem}_{'zh' if fmt.locale == 'zh_CN' else 'en'}"


def _flags(flags: list[dict], fmt: Formatter) -> str:
    if not flags:
        return f'<p id="no-flags">{escape(fmt.text("report.cust.no_flags"))}</p>'
    text_column = _text_column(fmt, "text")
    rows = [[f'<td class="sev-{escape(f.get("severity"))}">{escape(severity_label(f.get("severity"), fmt.locale))}</td>',
             f'<td data-code="{escape(f.get("code"))}">{escape(flag_label(f.get("code"), fmt.locale))}</td>',
             cell(fmt, escape(f.get(text_column) or ""))] for f in flags]
    headers = [fmt.text("report.col.severity"), fmt.text("report.col.kind"), fmt.text("report.col.text")]
    return table_html(headers, rows, table_id="flags-table")


def _feature_caption(record: dict, fmt: Formatter) -> str:
    spec = _SPECS.get(record["feature"])
    name = _feature_label(record["feature"], fmt)
    if spec is not None and spec.unit == "category":
        value = record.get("value_category")
        shown = fmt.na() if is_missing(value) else str(value)
    elif spec is not None:
        shown = format_value(record.get("value"), spec.unit, locale=fmt.locale, base_currency=fmt.currency)
    else:
        shown = fmt.number(record.get("value"), 2)
    return f"{name} = {shown}"


def _explanation(row: dict, records: list[dict], params: ReportParams, fmt: Formatter) -> str:
    if not records or "contribution" not in records[0]:
        return unavailable_html(fmt)
    ordered = sorted(records, key=lambda r: -abs(r["contribution"]) if finite(r["contribution"]) is not None else 0)
    shown, rest = ordered[:params.waterfall_features], ordered[params.waterfall_features:]
    steps = [(_feature_caption(r, fmt), float(r["contribution"])) for r in shown]
    rest_sum = sum(float(r["contribution"]) for r in rest if finite(r["contribution"]) is not None)
    if rest:
        steps.append((fmt.text("report.cust.waterfall_other", count=len(rest)), rest_sum))
    base = float(records[0].get("base_value", 0.0))
    chart = svg.waterfall_chart(base, steps, base_label=fmt.text("report.cust.waterfall_base"),
                                total_label=fmt.text("report.cust.waterfall_total"),
                                title=fmt.text("report.cust.waterfall_title"), width=760, label_width=330,
                                value_format=lambda v: f"{v:.3f}")
    margin = row.get("raw_margin")
    note = fmt.text("report.cust.waterfall_note", base=f"{base:.3f}",
                    margin=fmt.na() if is_missing(margin) else f"{float(margin):.3f}", pd=fmt.pd(row.get("pd_12m")))
    text_column = _text_column(fmt, "text")
    reasons = [r for r in sorted(records, key=lambda r: r.get("rank", 0)) if not is_missing(r.get(text_column))
               and r.get(text_column)]
    reason_list = "".join(f"<li>{escape(r[text_column])}</li>" for r in reasons)
    html = f'<p class="muted">{escape(note)}</p><div class="charts" id="waterfall">{chart}</div>'
    if row.get("additivity_ok") is False or any(r.get("additivity_ok") is False for r in records[:1]):
        html += f'<div class="notice warn">{escape(fmt.text("report.cust.additivity_failed"))}</div>'
    html += f"<h3>{escape(fmt.text('report.cust.reasons'))}</h3><ol id=\"reasons\">{reason_list}</ol>"
    return html


# ---------------------------------------------------------------------------
# Changes since the previous run and the way back


def _changed(row: dict, index: CustomerIndex, inputs: ReportInputs, fmt: Formatter) -> str:
    parts = []
    summary_column = _text_column(fmt, "change_summary")
    if summary_column in row:
        summary = row.get(summary_column)
        if not is_missing(summary) and summary:
            parts.append(f'<p id="change-summary">{escape(summary)}</p>')
    else:
        parts.append(unavailable_html(fmt, fmt.text("report.col.reason")))
    previous = index.previous.get(row["customer_id"])
    if inputs.previous is None or previous is None:
        parts.append(f'<p class="muted">{escape(fmt.text("report.cust.no_previous"))}</p>')
    else:
        parts.append(f'<p class="muted">{escape(fmt.text("report.cust.previous_run", previous=fmt.date(inputs.previous.as_of)))}</p>')
        headers = [fmt.text("report.col.item"), fmt.text("report.col.previous"), fmt.text("report.col.current")]
        rows = [
            [cell(fmt, escape(fmt.text("report.col.grade"))), cell(fmt, escape(str(previous.get("grade")))),
             cell(fmt, escape(str(row.get("grade"))))],
            [cell(fmt, escape(fmt.text("report.col.pd"))), cell(fmt, fmt.pd(previous.get("pd_12m")), numeric=True),
             cell(fmt, fmt.pd(row.get("pd_12m")), numeric=True)],
            [cell(fmt, escape(fmt.text("report.col.new_limit"))),
             cell(fmt, fmt.amount(previous.get("new_limit")), numeric=True),
             cell(fmt, fmt.amount(row.get("new_limit")), numeric=True)],
        ]
        parts.append(table_html(headers, rows, table_id="previous-table", numeric_columns=(1, 2)))
    changes = index.changes.get(row["customer_id"], [])
    if changes:
        text_column = _text_column(fmt, "text")
        rows = [[cell(fmt, escape(c.get(text_column) or c.get("cause") or "")),
                 cell(fmt, fmt.number(c.get("delta"), 4), numeric=True)] for c in changes]
        parts.append(table_html([fmt.text("report.col.cause"), fmt.text("report.col.delta")], rows,
                                table_id="changes-table", numeric_columns=(1,)))
    return "".join(parts)


def _restore(row: dict, fmt: Formatter) -> str:
    text_column = _text_column(fmt, "restore")
    if text_column not in row:
        return unavailable_html(fmt)
    text = row.get(text_column)
    feasible = row.get("restore_feasible")
    if (is_missing(text) or not text) and is_missing(feasible):
        return f'<p class="muted">{escape(fmt.text("report.cust.restore_not_applicable"))}</p>'
    html = f'<p id="restore-text">{escape(text if not is_missing(text) else fmt.na())}</p>'
    html += f"<p>{escape(fmt.text('report.cust.restore_feasible'))}: {escape(fmt.flag(feasible))}</p>"
    changes = row.get("restore_changes")
    if not is_missing(changes) and changes:
        try:
            items = json.loads(changes)
        except (TypeError, ValueError):
            items = []
        rows = []
        for item in items:
            spec = _SPECS.get(item.get("feature"))
            name = _feature_label(item.get("feature"), fmt)
            unit = spec.unit if spec else "ratio"
            rows.append([cell(fmt, escape(name)),
                         cell(fmt, escape(format_value(item.get("from"), unit, locale=fmt.locale,
                                                       base_currency=fmt.currency)), numeric=True),
                         cell(fmt, escape(format_value(item.get("to"), unit, locale=fmt.locale,
                                                       base_currency=fmt.currency)), numeric=True)])
        if rows:
            html += table_html([fmt.text("report.col.feature"), fmt.text("report.col.from"),
                                fmt.text("report.col.to")], rows, table_id="restore-table", numeric_columns=(1, 2))
    return html


# ---------------------------------------------------------------------------
# Charts over time


def _month_end_state(history: list[dict]) -> dict[dt.date, dict]:
    """Map each month to the snapshot at the start of the next month (its month-end state)."""
    states = {}
    for record in history:
        day = pd.Timestamp(record["as_of"]).date()
        if day.day == 1:
            previous_month = (day - dt.timedelta(days=1)).replace(day=1)
            states[previous_month] = record
    return states


def _flows(flows: list[dict], history: list[dict], fmt: Formatter) -> str:
    states = _month_end_state(history)
    months = sorted({pd.Timestamp(f["month"]).date() for f in flows} | set(states))
    if not months:
        return f'<p class="na">{escape(fmt.text("report.cust.no_history"))}</p>'
    by_month = {pd.Timestamp(f["month"]).date(): f for f in flows}
    invoiced = [by_month.get(m, {}).get("invoiced", 0.0) for m in months]
    paid = [by_month.get(m, {}).get("paid", 0.0) for m in months]
    overdue = [finite(states[m].get("overdue_amount")) if m in states else None for m in months]
    markers = len(months) < 4
    series = [svg.Series(fmt.text("report.cust.invoiced"), months, invoiced, markers=markers),
              svg.Series(fmt.text("report.cust.paid"), months, paid, markers=markers),
              svg.Series(fmt.text("report.cust.overdue_month_end"), months, overdue, markers=markers)]
    chart = svg.line_chart(series, title=fmt.text("report.cust.history_chart"), width=760, height=320,
                           x_format=fmt.month, y_format=fmt.axis_amount)
    rows = [[cell(fmt, escape(fmt.month(m))), cell(fmt, fmt.amount(i), numeric=True),
             cell(fmt, fmt.amount(p), numeric=True), cell(fmt, fmt.amount(o), numeric=True)]
            for m, i, p, o in zip(months, invoiced, paid, overdue, strict=True)]
    headers = [fmt.text("report.col.month"), fmt.text("report.cust.invoiced"), fmt.text("report.cust.paid"),
               fmt.text("report.cust.overdue_month_end")]
    return (f'<div class="charts" id="flows-chart">{chart}</div><details><summary>{escape(fmt.text("report.col.month"))}'
            f'</summary>{table_html(headers, rows, table_id="flows-table", numeric_columns=(1, 2, 3))}</details>')


def _limit_history(history: list[dict], fmt: Formatter) -> str:
    if not history:
        return unavailable_html(fmt)
    days = [pd.Timestamp(r["as_of"]).date() for r in history]
    current = [finite(r.get("current_limit")) for r in history]
    new = [finite(r.get("new_limit")) for r in history]
    series = [svg.Series(fmt.text("report.cust.limit_in_force"), days, current, markers=True),
              svg.Series(fmt.text("report.cust.limit_after"), days, new, markers=True)]
    chart = svg.line_chart(series, title=fmt.text("report.cust.limit_chart"), width=760, height=300,
                           x_format=fmt.month, y_format=fmt.axis_amount)
    rows = [[cell(fmt, escape(fmt.date(r["as_of"]))), cell(fmt, escape(str(r.get("grade", "")))),
             cell(fmt, fmt.pd(r.get("pd_12m")), numeric=True), cell(fmt, fmt.amount(r.get("current_limit")), numeric=True),
             cell(fmt, fmt.amount(r.get("new_limit")), numeric=True),
             cell(fmt, escape(label("action", r.get("action"), fmt.locale)))] for r in history[-_LIMIT_TABLE_RUNS:]]
    headers = [fmt.text(f"report.col.{k}") for k in ("as_of", "grade", "pd", "current_limit", "new_limit", "action")]
    return (f'<div class="charts" id="limit-chart">{chart}</div>'
            f'{table_html(headers, rows, table_id="limit-history-table", numeric_columns=(2, 3, 4))}')


def _feature_label(name: object, fmt: Formatter) -> str:
    """Name of a model feature in the page's language (the identifier when the catalog lacks it)."""
    spec = _SPECS.get(str(name))
    if spec is None:
        return str(name)
    return spec.label_zh if fmt.locale == "zh_CN" else spec.label_en


def _ratio_label(name: str, fmt: Formatter) -> str:
    return _feature_label(name, fmt)


def _ratios(history: list[dict], fmt: Formatter) -> str:
    known = [r for r in history if finite(r.get("statement_age_months")) is not None]
    if not known:
        return f'<p class="na">{escape(fmt.text("report.cust.no_statements"))}</p>'
    # One row per statement: the first snapshot at which its ratios appear.
    rows, last = [], None
    for record in known:
        values = tuple(finite(record.get(name)) for name in RATIO_FEATURES)
        if values != last:
            rows.append(record)
            last = values
    days = [pd.Timestamp(r["as_of"]).date() for r in known]
    series = [svg.Series(_ratio_label(name, fmt), days, [finite(r.get(name)) for r in known])
              for name in _CHART_RATIOS]
    chart = svg.line_chart(series, title=fmt.text("report.cust.ratios_chart"), width=760, height=300,
                           x_format=fmt.month, y_format=lambda v: fmt.percent(v, 0))
    table_rows = [[cell(fmt, escape(fmt.month(r["as_of"])))] +
                  [cell(fmt, escape(format_value(r.get(name), _SPECS[name].unit, locale=fmt.locale,
                                                 base_currency=fmt.currency)), numeric=True)
                   for name in RATIO_FEATURES] for r in rows]
    headers = [fmt.text("report.col.month")] + [_ratio_label(name, fmt) for name in RATIO_FEATURES]
    return (f'<p class="muted">{escape(fmt.text("report.cust.ratios_note"))}</p>'
            f'{table_html(headers, table_rows, table_id="ratios-table", numeric_columns=tuple(range(1, 9)))}'
            f'<div class="charts" id="ratios-chart">{chart}</div>')


def customer_ids(inputs: ReportInputs) -> list[str]:
    """Customers of the run, in the run's order."""
    return inputs.run.limits["customer_id"].astype(str).tolist()

