"""Portfolio page of the credit usage report (信用使用情况报告): one run, one locale.

Sections: summary figures, overdue ageing, grade distribution and migration,
limit changes and largest movers, alerts, pending decreases, reviews due, score
and feature drift, data quality, the model, and the list of every customer
linking to its page. A section whose input the run lacks shows "not available"
instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from creditlimit.features.catalog import FEATURES
from creditlimit.i18n import translate
from creditlimit.reports import svg
from creditlimit.reports.drift import drift_status, feature_csi, score_psi, scored_features
from creditlimit.reports.inputs import ReportInputs
from creditlimit.reports.page import (
    Formatter, cell, escape, is_missing, page_html, section_html, table_html, unavailable_html,
)
from creditlimit.reports.params import ReportParams
from creditlimit.reports.texts import flag_label, label, severity_label
from creditlimit.serving import flags as _flags  # noqa: F401  (registers the review reason texts)

__all__ = ["render_portfolio", "grade_sort_key", "ageing_table", "limit_change", "limit_change_table",
           "migration_matrix"]

ACTIONS = ("increase", "decrease", "hold", "new", "suspend")
SEVERITY_ORDER = ("critical", "high", "medium", "low", "info")
_FEATURE_LABELS = {spec.name: {"en": spec.label_en, "zh_CN": spec.label_zh} for spec in FEATURES}


def grade_sort_key(grade: object) -> tuple[int, int, str]:
    """Order grades 1, 2, ... 10, then D, then anything else."""
    text = str(grade)
    if text.isdigit():
        return (0, int(text), text)
    return (1 if text == "D" else 2, 0, text)


def render_portfolio(inputs: ReportInputs, params: ReportParams, fmt: Formatter, *,
                     customer_href: Callable[[str], str], other_href: str) -> str:
    """Render the portfolio page of ``inputs`` in ``fmt.locale``."""
    limits = inputs.run.limits
    sections = [
        ("summary", "sec.summary", _summary(inputs, fmt)),
        ("ageing", "sec.ageing", _ageing(inputs, params, fmt)),
        ("grades", "sec.grades", _grades(limits, fmt)),
        ("migration", "sec.migration", _migration(inputs, fmt)),
        ("changes", "sec.changes", _changes(limits, fmt)),
        ("movers", "sec.movers", _movers(inputs, params, fmt, customer_href)),
        ("alerts", "sec.alerts", _alerts(inputs.run.flags, fmt)),
        ("pending", "sec.pending", _pending(inputs, fmt, customer_href)),
        ("reviews", "sec.reviews", _reviews(inputs, params, fmt, customer_href)),
        ("drift", "sec.drift", _drift(inputs, params, fmt)),
        ("quality", "sec.quality", _quality(inputs, fmt)),
        ("model", "sec.model", _model(inputs, fmt)),
        ("customers", "sec.customers", _customer_list(inputs, fmt, customer_href)),
    ]
    toc = "".join(f'<a href="#{sid}">{escape(fmt.text("report." + key))}</a>' for sid, key, _ in sections)
    body = f'<nav class="toc"><strong>{escape(fmt.text("report.contents"))}:</strong> {toc}</nav>'
    body += "".join(section_html(sid, fmt.text("report." + key), html) for sid, key, html in sections)
    manifest = inputs.run.manifest
    model = manifest.get("model", {})
    subtitle = fmt.text("report.subtitle", as_of=fmt.date(inputs.run.as_of), run_id=manifest.get("run_id", ""),
                        customers=fmt.integer(len(limits)))
    footer = escape(fmt.text(
        "report.footer", as_of=fmt.date(inputs.run.as_of), run_id=manifest.get("run_id", ""),
        model=model.get("name", fmt.na()), version=model.get("version", fmt.na()),
        policy=manifest.get("policy_version", fmt.na()), currency=fmt.currency,
    ))
    return page_html(fmt=fmt, title=fmt.text("report.title"), subtitle=subtitle, other_href=other_href,
                     body=body, footer=footer, with_filter=True)


# ---------------------------------------------------------------------------
# Summary


def _kpi(key: str, fmt: Formatter, text: str, raw: object) -> str:
    data = "" if is_missing(raw) else f' data-value="{escape(raw)}"'
    return (f'<div class="kpi" id="kpi-{escape(key)}"{data}><div class="label">{escape(fmt.text("report.kpi." + key))}'
            f'</div><div class="value">{escape(text)}</div></div>')


def _sum(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame.columns:
        return None
    return float(frame[column].sum(min_count=1)) if frame[column].notna().any() else None


def _summary(inputs: ReportInputs, fmt: Formatter) -> str:
    limits = inputs.run.limits
    current, new, exposure = (_sum(limits, c) for c in ("current_limit", "new_limit", "exposure"))
    available = _sum(limits, "available_credit")
    utilisation = exposure / current if exposure is not None and current else None
    overdue = float(inputs.ageing.loc[inputs.ageing["days_past_due"] > 0, "open_amount"].sum())
    flags = inputs.run.flags
    serious = flags[flags["severity"].isin(["high", "critical"])]["customer_id"].nunique() if "severity" in flags else None
    mean_pd = float(limits["pd_12m"].mean()) if "pd_12m" in limits and limits["pd_12m"].notna().any() else None
    tiles = [
        _kpi("customers", fmt, fmt.integer(len(limits)), len(limits)),
        _kpi("current_limits", fmt, fmt.compact_amount(current), current),
        _kpi("new_limits", fmt, fmt.compact_amount(new), new),
        _kpi("exposure", fmt, fmt.compact_amount(exposure), exposure),
        _kpi("utilisation", fmt, fmt.percent(utilisation), utilisation),
        _kpi("available", fmt, fmt.compact_amount(available), available),
        _kpi("overdue", fmt, fmt.compact_amount(overdue), overdue),
        _kpi("flags", fmt, fmt.integer(serious), serious),
        _kpi("mean_pd", fmt, fmt.pd(mean_pd), mean_pd),
    ]
    return f'<div class="kpis">{"".join(tiles)}</div>'


# ---------------------------------------------------------------------------
# Overdue ageing


def ageing_table(ageing: pd.DataFrame, bucket_days: tuple[int, ...]) -> pd.DataFrame:
    """Sum open amounts into the buckets not yet due, ``1..b1``, ``b1+1..b2``, ... and over the last bound.

    Returns one row per bucket in order with ``low`` and ``high`` days (``high``
    None for the last bucket, both None for not yet due), ``amount`` and
    ``customers`` (customers with an amount in the bucket).
    """
    bounds = [(None, None), *zip([1, *[b + 1 for b in bucket_days[:-1]]], bucket_days, strict=True),
              (bucket_days[-1], None)]
    rows = []
    days = ageing["days_past_due"]
    for index, (low, high) in enumerate(bounds):
        if index == 0:
            mask = days <= 0
        elif high is None:
            mask = days > low
        else:
            mask = (days >= low) & (days <= high)
        part = ageing[mask]
        rows.append({"low": low, "high": high, "amount": float(part["open_amount"].sum()),
                     "customers": int(part["customer_id"].nunique())})
    return pd.DataFrame(rows)


def _bucket_label(fmt: Formatter, index: int, low: object, high: object) -> str:
    if index == 0:
        return fmt.text("report.bucket.current")
    if is_missing(high):
        return fmt.text("report.bucket.over", days=int(low))
    return fmt.text("report.bucket.range", low=int(low), high=int(high))


def _ageing(inputs: ReportInputs, params: ReportParams, fmt: Formatter) -> str:
    table = ageing_table(inputs.ageing, params.ageing_bucket_days)
    labels = [_bucket_label(fmt, i, r.low, r.high) for i, r in enumerate(table.itertuples())]
    total = table["amount"].sum()
    rows = [
        [cell(fmt, escape(name)), cell(fmt, fmt.amount(r.amount), raw=round(r.amount, 2), numeric=True),
         cell(fmt, fmt.percent(r.amount / total if total else None), numeric=True),
         cell(fmt, fmt.integer(r.customers), raw=r.customers, numeric=True)]
        for name, r in zip(labels, table.itertuples(), strict=True)
    ]
    headers = [fmt.text(f"report.col.{k}") for k in ("bucket", "amount", "share", "count")]
    chart = svg.bar_chart(labels, {fmt.text("report.col.amount"): table["amount"].tolist()},
                          title=fmt.text("report.ageing.chart"), y_format=fmt.axis_amount,
                          value_format=fmt.axis_amount, width=560, height=300)
    note = fmt.text("report.ageing.note", as_of=fmt.date(inputs.run.as_of))
    return (f'<p class="muted">{escape(note)}</p>'
            f'{table_html(headers, rows, table_id="ageing-table", numeric_columns=(1, 2, 3))}'
            f'<div class="charts">{chart}</div>')


# ---------------------------------------------------------------------------
# Grades and migration


def _grades(limits: pd.DataFrame, fmt: Formatter) -> str:
    if "grade" not in limits.columns or limits.empty:
        return unavailable_html(fmt)
    grades = sorted(limits["grade"].dropna().astype(str).unique(), key=grade_sort_key)
    grouped = limits.groupby(limits["grade"].astype(str))
    counts = grouped.size()
    rows = []
    for grade in grades:
        part = grouped.get_group(grade)
        rows.append([
            cell(fmt, escape(grade)),
            cell(fmt, fmt.integer(counts[grade]), raw=int(counts[grade]), numeric=True),
            cell(fmt, fmt.percent(counts[grade] / len(limits)), numeric=True),
            cell(fmt, fmt.amount(part["new_limit"].sum()) if "new_limit" in part else fmt.na(), numeric=True),
            cell(fmt, fmt.pd(part["pd_12m"].mean()) if "pd_12m" in part else fmt.na(), numeric=True),
        ])
    headers = [fmt.text(f"report.col.{k}") for k in ("grade", "count", "share", "total_limit", "mean_pd")]
    chart = svg.bar_chart(list(grades), {fmt.text("report.col.count"): [float(counts[g]) for g in grades]},
                          title=fmt.text("report.grades.chart"), value_format=lambda v: f"{v:,.0f}",
                          y_format=lambda v: f"{v:,.0f}", width=560, height=300)
    return (f'<p class="muted">{escape(fmt.text("report.grades.note"))}</p>'
            f'{table_html(headers, rows, table_id="grade-table", numeric_columns=(1, 2, 3, 4))}'
            f'<div class="charts">{chart}</div>')


def migration_matrix(current: pd.DataFrame, previous: pd.DataFrame | None,
                     extra_table: pd.DataFrame | None = None) -> pd.DataFrame | None:
    """Customers per (previous grade, current grade), as a square-ish crosstab.

    The run's own ``grade_migration`` table (``from_grade``, ``to_grade``,
    ``customers``) is used when given; otherwise the grades of the two runs are
    joined by customer. Customers without a previous grade count under ``new``.
    """
    if extra_table is not None and {"from_grade", "to_grade", "customers"} <= set(extra_table.columns):
        pairs = extra_table.assign(from_grade=extra_table["from_grade"].fillna("new").astype(str),
                                   to_grade=extra_table["to_grade"].astype(str))
        matrix = pairs.pivot_table(index="from_grade", columns="to_grade", values="customers",
                                   aggfunc="sum", fill_value=0)
    elif previous is not None and "grade" in previous.columns and not previous.empty:
        joined = current[["customer_id", "grade"]].merge(
            previous[["customer_id", "grade"]], on="customer_id", how="left", suffixes=("", "_previous"))
        joined["grade_previous"] = joined["grade_previous"].astype(object).where(
            joined["grade_previous"].notna(), "new")
        matrix = pd.crosstab(joined["grade_previous"].astype(str), joined["grade"].astype(str))
    else:
        return None
    rows = sorted(matrix.index, key=lambda g: (g == "new", grade_sort_key(g)))
    columns = sorted(matrix.columns, key=grade_sort_key)
    return matrix.reindex(index=rows, columns=columns, fill_value=0)


def _migration(inputs: ReportInputs, fmt: Formatter) -> str:
    previous = inputs.previous
    matrix = migration_matrix(inputs.run.limits, previous.limits if previous else None,
                              inputs.run.extra.get("grade_migration"))
    if matrix is None:
        return f'<p class="na">{escape(fmt.text("report.migration.none"))}</p>'
    rank = {g: i for i, g in enumerate(sorted(set(matrix.index) | set(matrix.columns), key=grade_sort_key))}
    up = same = down = 0
    high = float(matrix.to_numpy().max()) or 1.0
    header = "".join(f'<th class="num">{escape(c)}</th>' for c in matrix.columns)
    body = []
    for from_grade, row in matrix.iterrows():
        shown = fmt.text("report.migration.new") if from_grade == "new" else from_grade
        cells = [f"<th>{escape(shown)}</th>"]
        for to_grade, count in row.items():
            count = int(count)
            if from_grade != "new":
                if rank[to_grade] < rank[from_grade]:
                    up += count
                elif rank[to_grade] > rank[from_grade]:
                    down += count
                else:
                    same += count
            colour = svg.heat_color(count, 0, high) if count else "#fff"
            cells.append(f'<td class="num" style="background:{colour}" data-from="{escape(from_grade)}" '
                         f'data-to="{escape(to_grade)}">{fmt.integer(count) if count else ""}</td>')
        body.append(f"<tr>{''.join(cells)}</tr>")
    table = (f'<table id="migration-table"><thead><tr><th>{escape(fmt.text("report.col.from_to"))}</th>{header}'
             f'</tr></thead><tbody>{"".join(body)}</tbody></table>')
    when = fmt.date(previous.as_of) if previous else fmt.na()
    note = fmt.text("report.migration.note", previous=when)
    summary = fmt.text("report.migration.upgrades", count=fmt.integer(up), same=fmt.integer(same),
                       downgrades=fmt.integer(down))
    return f'<p class="muted">{escape(note)}</p>{table}<p>{escape(summary)}</p>'


# ---------------------------------------------------------------------------
# Limit changes, movers, pending decreases and reviews


def limit_change(limits: pd.DataFrame) -> pd.Series:
    """Limit after the change minus the current limit, per customer.

    A customer without a current limit has no credit in force, as the credit
    policy treats it, so its change is its whole new limit. A missing new limit
    leaves the change missing.
    """
    in_force = limits["current_limit"].where(limits["current_limit"].notna(), 0.0)
    return limits["new_limit"] - in_force


def limit_change_table(limits: pd.DataFrame) -> pd.DataFrame:
    """Per action: customers, current limits, limits after the change and the net change."""
    change = limit_change(limits)
    frame = pd.DataFrame({"action": limits["action"], "current": limits["current_limit"],
                          "new": limits["new_limit"], "change": change})
    table = frame.groupby("action").agg(customers=("action", "size"), current=("current", "sum"),
                                        new=("new", "sum"), change=("change", "sum"))
    order = [a for a in ACTIONS if a in table.index] + sorted(set(table.index) - set(ACTIONS))
    return table.reindex(order)


def _changes(limits: pd.DataFrame, fmt: Formatter) -> str:
    needed = {"action", "current_limit", "new_limit"}
    if not needed <= set(limits.columns):
        return unavailable_html(fmt)
    table = limit_change_table(limits)
    rows = [
        [f'<td data-action="{escape(action)}">{escape(label("action", action, fmt.locale))}</td>',
         cell(fmt, fmt.integer(r.customers), raw=int(r.customers), numeric=True),
         cell(fmt, fmt.amount(r.current), numeric=True), cell(fmt, fmt.amount(r.new), numeric=True),
         cell(fmt, fmt.signed_amount(r.change), raw=round(float(r.change), 2), numeric=True)]
        for action, r in table.iterrows()
    ]
    headers = [fmt.text(f"report.col.{k}") for k in ("action", "count", "current_limit", "new_limit", "change")]
    names = [label("action", a, fmt.locale) for a in table.index]
    chart = svg.bar_chart(names, {fmt.text("report.col.count"): table["customers"].astype(float).tolist()},
                          title=fmt.text("report.sec.changes"), value_format=lambda v: f"{v:,.0f}",
                          y_format=lambda v: f"{v:,.0f}", width=480, height=280)
    return (f'<p class="muted">{escape(fmt.text("report.changes.note"))}</p>'
            f'{table_html(headers, rows, table_id="changes-table", numeric_columns=(1, 2, 3, 4))}'
            f'<div class="charts">{chart}</div>')


def _customer_link(customer_id: str, customer_href: Callable[[str], str]) -> str:
    return f'<td><a href="{escape(customer_href(customer_id))}">{escape(customer_id)}</a></td>'


def _limit_rows(frame: pd.DataFrame, fmt: Formatter, customer_href, extra: Callable | None = None) -> list:
    rows = []
    for r in frame.to_dict("records"):
        row = [_customer_link(r["customer_id"], customer_href), cell(fmt, escape(str(r.get("grade", fmt.na())))),
               cell(fmt, fmt.amount(r.get("current_limit")), numeric=True),
               cell(fmt, fmt.amount(r.get("new_limit")), numeric=True),
               cell(fmt, fmt.signed_amount(r.get("_change", np.nan)), numeric=True)]
        rows.append(row + (extra(r) if extra else []))
    return rows


def _movers(inputs: ReportInputs, params: ReportParams, fmt: Formatter, customer_href) -> str:
    limits = inputs.run.limits
    if not {"current_limit", "new_limit"} <= set(limits.columns):
        return unavailable_html(fmt)
    frame = limits.assign(_change=limit_change(limits))
    headers = [fmt.text(f"report.col.{k}") for k in ("customer", "grade", "current_limit", "new_limit", "change",
                                                     "action")]
    action = lambda r: [cell(fmt, escape(label("action", r.get("action"), fmt.locale)))]  # noqa: E731
    parts = []
    for key, ascending, table_id in (("movers.up", False, "movers-up"), ("movers.down", True, "movers-down")):
        chosen = frame[frame["_change"] > 0] if not ascending else frame[frame["_change"] < 0]
        chosen = chosen.sort_values(["_change", "customer_id"], ascending=[ascending, True]).head(params.top_movers)
        rows = _limit_rows(chosen, fmt, customer_href, action)
        parts.append(f"<h3>{escape(fmt.text('report.' + key))}</h3>"
                     + table_html(headers, rows, table_id=table_id, numeric_columns=(2, 3, 4)))
    return "".join(parts)


def _pending(inputs: ReportInputs, fmt: Formatter, customer_href) -> str:
    limits = inputs.run.limits
    if "effective_on" not in limits.columns:
        return unavailable_html(fmt)
    pending_mask = limits["is_pending"].fillna(False).astype(bool) if "is_pending" in limits.columns else \
        limits["effective_on"] > limits["as_of"]
    pending = limits[pending_mask].assign(_change=limit_change(limits)).sort_values(["effective_on", "customer_id"])
    note = fmt.text("report.pending.note", as_of=fmt.date(inputs.run.as_of))
    if pending.empty:
        return f'<p class="muted">{escape(note)}</p><p>{escape(fmt.text("report.pending.none"))}</p>'
    headers = [fmt.text(f"report.col.{k}") for k in ("customer", "grade", "current_limit", "new_limit", "change",
                                                     "action", "notice_on", "effective_on")]
    extra = lambda r: [cell(fmt, escape(label("action", r.get("action"), fmt.locale))),  # noqa: E731
                       cell(fmt, fmt.date(inputs.run.as_of)), cell(fmt, fmt.date(r.get("effective_on")))]
    rows = _limit_rows(pending, fmt, customer_href, extra)
    total = float(pending["_change"].sum())
    summary = f"{fmt.integer(len(pending))} · {fmt.signed_amount(total)}"
    return (f'<p class="muted">{escape(note)}</p><details open><summary id="pending-count" '
            f'data-value="{len(pending)}">{escape(summary)}</summary>'
            f'{table_html(headers, rows, table_id="pending-table", numeric_columns=(2, 3, 4))}</details>')


def _review_reason(reason: object, locale: str) -> str:
    if is_missing(reason):
        return ""
    try:
        return translate(f"flags.review.{reason}", locale)
    except KeyError:
        return str(reason)


def _reviews(inputs: ReportInputs, params: ReportParams, fmt: Formatter, customer_href) -> str:
    limits = inputs.run.limits
    note = fmt.text("report.reviews.note", days=params.review_horizon_days)
    parts = []
    if "needs_review" in limits.columns:
        parts.append(limits[limits["needs_review"].fillna(False).astype(bool)].assign(_kind="needs_review"))
    scheduled_known = "next_review_on" in limits.columns
    if scheduled_known:
        horizon = pd.Timestamp(inputs.run.as_of) + pd.Timedelta(days=params.review_horizon_days)
        review_on = pd.to_datetime(limits["next_review_on"])
        needs_review = limits.get("needs_review", pd.Series(False, index=limits.index)).fillna(False).astype(bool)
        due = limits[(review_on <= horizon) & ~needs_review]
        parts.append(due.assign(_kind="scheduled"))
    if not parts:
        return unavailable_html(fmt)
    due = pd.concat(parts, ignore_index=True).sort_values(["_kind", "customer_id"])
    due["_change"] = limit_change(due)
    missing = "" if scheduled_known else unavailable_html(fmt, fmt.text("report.col.review_on"))
    if due.empty:
        return f'<p class="muted">{escape(note)}</p><p>{escape(fmt.text("report.reviews.none"))}</p>{missing}'
    headers = [fmt.text(f"report.col.{k}") for k in ("customer", "grade", "current_limit", "new_limit", "change",
                                                     "status", "reason", "review_on")]

    def extra(r):
        kind = fmt.text("report.reviews.needs_review" if r["_kind"] == "needs_review" else "report.reviews.scheduled")
        return [cell(fmt, escape(kind)), cell(fmt, escape(_review_reason(r.get("review_reason"), fmt.locale))),
                cell(fmt, fmt.date(r.get("next_review_on")))]

    rows = _limit_rows(due, fmt, customer_href, extra)
    return (f'<p class="muted">{escape(note)}</p>{missing}<details open><summary id="reviews-count" '
            f'data-value="{len(due)}">{escape(fmt.integer(len(due)))}</summary>'
            f'{table_html(headers, rows, table_id="reviews-table", numeric_columns=(2, 3, 4))}</details>')


# ---------------------------------------------------------------------------
# Alerts


def _alerts(flags: pd.DataFrame, fmt: Formatter) -> str:
    if flags.empty or not {"code", "severity"} <= set(flags.columns):
        return unavailable_html(fmt) if not {"code", "severity"} <= set(flags.columns) else \
            f"<p>{escape(fmt.text('report.cust.no_flags'))}</p>"
    by_severity = flags.groupby("severity").agg(flags=("code", "size"), customers=("customer_id", "nunique"))
    order = [s for s in SEVERITY_ORDER if s in by_severity.index] + sorted(set(by_severity.index) - set(SEVERITY_ORDER))
    rows = [[f'<td class="sev-{escape(s)}">{escape(severity_label(s, fmt.locale))}</td>',
             cell(fmt, fmt.integer(by_severity.loc[s, "flags"]), raw=int(by_severity.loc[s, "flags"]), numeric=True),
             cell(fmt, fmt.integer(by_severity.loc[s, "customers"]), numeric=True)] for s in order]
    headers = [fmt.text("report.col.severity"), fmt.text("report.col.flags"), fmt.text("report.col.count")]
    by_kind = flags.groupby(["code", "severity"]).agg(flags=("code", "size"), customers=("customer_id", "nunique"))
    by_kind = by_kind.reset_index()
    by_kind["_order"] = by_kind["severity"].map({s: i for i, s in enumerate(SEVERITY_ORDER)}).fillna(99)
    by_kind = by_kind.sort_values(["_order", "flags"], ascending=[True, False])
    kind_rows = [[f'<td data-code="{escape(r.code)}">{escape(flag_label(r.code, fmt.locale))}</td>',
                  f'<td class="sev-{escape(r.severity)}">{escape(severity_label(r.severity, fmt.locale))}</td>',
                  cell(fmt, fmt.integer(r.flags), raw=int(r.flags), numeric=True),
                  cell(fmt, fmt.integer(r.customers), numeric=True)] for r in by_kind.itertuples()]
    kind_headers = [fmt.text("report.col.kind"), fmt.text("report.col.severity"), fmt.text("report.col.flags"),
                    fmt.text("report.col.count")]
    return (f"<h3>{escape(fmt.text('report.alerts.by_severity'))}</h3>"
            f"{table_html(headers, rows, table_id='alerts-severity', numeric_columns=(1, 2))}"
            f"<h3>{escape(fmt.text('report.alerts.by_kind'))}</h3>"
            f"{table_html(kind_headers, kind_rows, table_id='alerts-kind', numeric_columns=(2, 3))}")


# ---------------------------------------------------------------------------
# Drift, data quality, model


def _status_cell(fmt: Formatter, value: float | None, params: ReportParams) -> str:
    status = drift_status(value, warning=params.psi_warning, alert=params.psi_alert)
    return f'<td class="status-{status}" data-status="{status}">{escape(fmt.text("report.status." + status))}</td>'


def _drift(inputs: ReportInputs, params: ReportParams, fmt: Formatter) -> str:
    note = fmt.text("report.drift.note", warning=params.psi_warning, alert=params.psi_alert)
    previous = inputs.previous
    current_psi = score_psi(inputs.run.limits, previous.limits if previous else None, bins=params.psi_bins)
    training_psi = (inputs.metrics or {}).get("stability", {}).get("score_psi")
    score_rows = []
    if previous is not None:
        score_rows.append([cell(fmt, escape(fmt.text("report.drift.score_vs_previous",
                                                     previous=fmt.date(previous.as_of)))),
                           cell(fmt, fmt.number(current_psi, 4), raw=current_psi, numeric=True),
                           _status_cell(fmt, current_psi, params)])
    score_rows.append([cell(fmt, escape(fmt.text("report.drift.score_train_oot"))),
                       cell(fmt, fmt.number(training_psi, 4), raw=training_psi, numeric=True),
                       _status_cell(fmt, training_psi, params)])
    headers = [fmt.text("report.col.item"), fmt.text("report.col.psi"), fmt.text("report.col.status")]
    parts = [f'<p class="muted">{escape(note)}</p><h3>{escape(fmt.text("report.drift.score"))}</h3>',
             table_html(headers, score_rows, table_id="score-psi", numeric_columns=(1,)),
             f'<h3>{escape(fmt.text("report.drift.features"))}</h3>']

    current, source = scored_features(inputs.run.extra, inputs.run.explanations)
    table = feature_csi(current, inputs.training, bins=params.psi_bins)
    if table is None:
        what = fmt.text("report.drift.no_training") if inputs.training is None else fmt.text("report.col.feature")
        parts.append(unavailable_html(fmt, what))
        return "".join(parts)
    parts.append(f'<p class="muted">{escape(fmt.text("report.drift.source_" + source))}</p>')
    table = table.assign(_sort=table["psi"].astype(float)).sort_values("_sort", ascending=False, na_position="last")
    rows = [[f'<td data-feature="{escape(r.column)}">{escape(_FEATURE_LABELS.get(r.column, {}).get(fmt.locale, r.column))}</td>',
             cell(fmt, fmt.number(r.psi, 4), raw=r.psi, numeric=True), _status_cell(fmt, r.psi, params)]
            for r in table.itertuples()]
    parts.append(table_html([fmt.text("report.col.feature"), fmt.text("report.col.psi"),
                             fmt.text("report.col.status")], rows, table_id="feature-csi", numeric_columns=(1,)))
    return "".join(parts)


def _quality(inputs: ReportInputs, fmt: Formatter) -> str:
    report = inputs.validation_report
    if not report or "tables" not in report:
        return unavailable_html(fmt, fmt.text("report.quality.missing"))
    rows = []
    for name, counts in sorted(report["tables"].items()):
        reasons = counts.get("quarantined") or {}
        reason_text = "; ".join(f"{reason}: {fmt.integer(n)}" for reason, n in sorted(reasons.items()))
        rows.append([cell(fmt, escape(name)), cell(fmt, fmt.integer(counts.get("rows_in")), numeric=True),
                     cell(fmt, fmt.integer(counts.get("accepted")), numeric=True),
                     cell(fmt, fmt.integer(counts.get("dropped_total")), numeric=True),
                     cell(fmt, fmt.integer(counts.get("quarantined_total")), raw=counts.get("quarantined_total"),
                          numeric=True),
                     cell(fmt, fmt.percent(counts.get("quarantined_share"), 2), numeric=True),
                     cell(fmt, escape(reason_text))])
    headers = [fmt.text(f"report.col.{k}") for k in ("table", "rows_in", "accepted", "dropped", "quarantined",
                                                     "share", "by_reason")]
    return (f'<p class="muted">{escape(fmt.text("report.quality.note"))}</p>'
            f'{table_html(headers, rows, table_id="quality-table", numeric_columns=(1, 2, 3, 4, 5))}')


def _definition_text(definition: dict | None, fmt: Formatter) -> str:
    if not definition:
        return fmt.na()
    return fmt.text("report.modelinfo.definition_text", horizon=definition.get("horizon_months", fmt.na()),
                    dpd=definition.get("dpd_threshold", fmt.na()), amount=fmt.amount(definition.get("min_amount")),
                    events=", ".join(definition.get("event_types", [])))


def _model(inputs: ReportInputs, fmt: Formatter) -> str:
    manifest = inputs.run.manifest
    model = manifest.get("model") or {}
    info = inputs.model_info or {}
    oot = (inputs.metrics or {}).get("oot") or {}
    metrics = " / ".join(fmt.number(oot.get(k), 3) for k in ("auc", "gini", "ks"))
    definition = model.get("default_definition") or info.get("default_definition")
    items = [
        ("modelinfo.name", model.get("name") or info.get("name")),
        ("modelinfo.version", model.get("version") or info.get("version")),
        ("modelinfo.alias", model.get("alias")),
        ("modelinfo.run", model.get("run_id") or info.get("run_id")),
        ("modelinfo.definition", _definition_text(definition, fmt)),
        ("modelinfo.oot", metrics if oot else None),
        ("modelinfo.policy", manifest.get("policy_version")),
        ("modelinfo.code", manifest.get("code_version")),
    ]
    rows = [[f"<th>{escape(fmt.text('report.' + key))}</th>",
             cell(fmt, escape(value) if not is_missing(value) else fmt.na())] for key, value in items]
    body = "".join("<tr>" + "".join(r) + "</tr>" for r in rows)
    table = f'<table id="model-table"><tbody>{body}</tbody></table>'
    link = inputs.model_report.get(fmt.locale)
    if link:
        table += f'<p><a href="{escape(link)}">{escape(fmt.text("report.modelinfo.report_link"))}</a></p>'
    else:
        table += unavailable_html(fmt, fmt.text("report.modelinfo.report_link"))
    return table


# ---------------------------------------------------------------------------
# Customer list


def _customer_list(inputs: ReportInputs, fmt: Formatter, customer_href) -> str:
    limits = inputs.run.limits.merge(inputs.customers[["customer_id", "name", "industry"]], on="customer_id",
                                     how="left", suffixes=("", "_customer"))
    flag_counts = inputs.run.flags.groupby("customer_id").size() if not inputs.run.flags.empty else pd.Series()
    rows = []
    for r in limits.to_dict("records"):
        customer_id = r["customer_id"]
        rows.append([
            _customer_link(customer_id, customer_href),
            cell(fmt, escape(r.get("name") or "") if not is_missing(r.get("name")) else fmt.na()),
            cell(fmt, escape(r.get("industry")) if not is_missing(r.get("industry")) else fmt.na()),
            cell(fmt, escape(str(r.get("grade", "")))),
            cell(fmt, fmt.pd(r.get("pd_12m")), raw=r.get("pd_12m"), numeric=True),
            cell(fmt, fmt.amount(r.get("current_limit")), raw=r.get("current_limit"), numeric=True),
            cell(fmt, fmt.amount(r.get("new_limit")), raw=r.get("new_limit"), numeric=True),
            cell(fmt, escape(label("action", r.get("action"), fmt.locale))),
            cell(fmt, fmt.amount(r.get("exposure")), numeric=True),
            cell(fmt, fmt.percent(r.get("utilisation")), numeric=True),
            cell(fmt, fmt.integer(int(flag_counts.get(customer_id, 0))), numeric=True),
        ])
    headers = [fmt.text(f"report.col.{k}") for k in ("customer", "name", "industry", "grade", "pd", "current_limit",
                                                     "new_limit", "action", "exposure", "utilisation", "flags")]
    box = (f'<input class="filter" type="search" data-table="customer-list" '
           f'placeholder="{escape(fmt.text("report.customers.filter"))}" aria-label="{escape(fmt.text("report.customers.filter"))}">')
    return box + table_html(headers, rows, table_id="customer-list", numeric_columns=(4, 5, 6, 8, 9, 10))
