"""Policy simulation: the limit moves another policy or model would make across the whole book.

Both books are scored in memory from the same data and ``as_of``; nothing is
published. Each customer's limit is its ``new_limit``, the limit in force once
pending changes take effect. Amounts are in base currency:

- expected loss = PD × LGD × limit, with each book's own PD and LGD, so the
  limit is taken as the exposure at default;
- covered exposure = Σ min(open exposure, limit), the part of today's exposure
  the limits cover, and exposure over limit = Σ max(open exposure − limit, 0);
- a customer is cut to zero when its current-params limit is positive and the
  scenario's limit is 0.

Segments use the grade under the current params and the customer's industry
(``"(missing)"`` when it has none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.i18n import register, translate

__all__ = ["SimulationReport", "simulate_moves", "render_report", "MOVE_COLUMNS", "SEGMENT_METRICS"]

MISSING_SEGMENT = "(missing)"
MOVE_COLUMNS = (
    "customer_id", "industry", "grade", "scenario_grade", "pd_12m", "scenario_pd_12m", "exposure",
    "limit", "scenario_limit", "limit_change", "move", "cut_to_zero", "expected_loss",
    "scenario_expected_loss",
)
SEGMENT_METRICS = (
    "customers", "increases", "increase_amount", "decreases", "decrease_amount", "cut_to_zero",
    "limit_total", "scenario_limit_total", "limit_change", "covered_exposure", "scenario_covered_exposure",
    "covered_exposure_change", "over_limit_exposure", "scenario_over_limit_exposure",
    "expected_loss", "scenario_expected_loss", "expected_loss_change",
)

register({
    "simulate.header": {
        "en": (
            "Policy simulation as of {as_of} (nothing published).\n"
            "Current: {baseline_params}, policy {baseline_policy}, model {baseline_model}.\n"
            "Scenario: {scenario_params}, policy {scenario_policy}, model {scenario_model}.\n"
            "Amounts in {currency}."
        ),
        "zh_CN": (
            "策略模拟，评估日 {as_of}（未发布任何结果）。\n"
            "现行：{baseline_params}，策略 {baseline_policy}，模型 {baseline_model}。\n"
            "方案：{scenario_params}，策略 {scenario_policy}，模型 {scenario_model}。\n"
            "金额单位 {currency}。"
        ),
    },
    "simulate.totals": {
        "en": (
            "{customers} customers: {increases} increases (+{increase_amount}), {decreases} decreases "
            "(-{decrease_amount}), {cut_to_zero} cut to zero.\n"
            "Total limits {limit_total} -> {scenario_limit_total} ({limit_change}).\n"
            "Exposure covered by limits {covered_exposure} -> {scenario_covered_exposure} "
            "({covered_exposure_change}); exposure over limit {over_limit_exposure} -> "
            "{scenario_over_limit_exposure}.\n"
            "Expected loss (PD x LGD x limit) {expected_loss} -> {scenario_expected_loss} ({expected_loss_change})."
        ),
        "zh_CN": (
            "共 {customers} 户：上调 {increases} 户（+{increase_amount}），下调 {decreases} 户"
            "（-{decrease_amount}），降为零 {cut_to_zero} 户。\n"
            "额度总额 {limit_total} -> {scenario_limit_total}（{limit_change}）。\n"
            "额度覆盖的敞口 {covered_exposure} -> {scenario_covered_exposure}（{covered_exposure_change}）；"
            "超额敞口 {over_limit_exposure} -> {scenario_over_limit_exposure}。\n"
            "预期损失（PD × LGD × 额度）{expected_loss} -> {scenario_expected_loss}（{expected_loss_change}）。"
        ),
    },
    "simulate.by_grade": {"en": "By grade (current params):", "zh_CN": "按等级（现行参数）："},
    "simulate.by_industry": {"en": "By industry:", "zh_CN": "按行业："},
    "simulate.columns": {
        "en": "segment|customers|increases|decreases|cut to zero|limit change|expected loss change",
        "zh_CN": "分组|客户数|上调|下调|降为零|额度变化|预期损失变化",
    },
    "simulate.saved": {"en": "Simulation saved to {path}.", "zh_CN": "模拟结果已保存至 {path}。"},
})


@dataclass(frozen=True)
class SimulationReport:
    """Moves per customer and their totals overall, by grade and by industry."""

    moves: pd.DataFrame
    overall: dict[str, float]
    by_grade: pd.DataFrame
    by_industry: pd.DataFrame


def simulate_moves(
    baseline: pd.DataFrame,
    scenario: pd.DataFrame,
    *,
    industries: pd.DataFrame,
    grade_order: tuple[str, ...],
    lgd: float,
    scenario_lgd: float,
) -> SimulationReport:
    """Compare the limits of the same book under the current params and a scenario.

    Parameters
    ----------
    baseline, scenario : pandas.DataFrame
        Limits frames of the scorer (``customer_id``, ``grade``, ``pd_12m``,
        ``new_limit``, ``exposure``), one row per customer. Only customers in
        both frames are compared.
    industries : pandas.DataFrame
        ``customer_id`` and ``industry`` of every customer.
    grade_order : tuple of str
        Grades of the current params from best to worst, ending with ``"D"``.
    lgd, scenario_lgd : float
        Loss given default of each policy.

    Returns
    -------
    SimulationReport
    """
    moves = _moves(baseline, scenario, industries, lgd=lgd, scenario_lgd=scenario_lgd)
    by_grade = _segments(moves, "grade")
    rank = {grade: i for i, grade in enumerate(grade_order)}
    by_grade = by_grade.sort_values("segment", key=lambda s: s.map(lambda g: rank.get(g, len(rank))),
                                    kind="stable").reset_index(drop=True)
    by_industry = _segments(moves, "industry")
    overall = _totals(moves)
    return SimulationReport(moves=moves, overall=overall, by_grade=by_grade, by_industry=by_industry)


def _moves(baseline, scenario, industries, *, lgd: float, scenario_lgd: float) -> pd.DataFrame:
    """One row per customer with both limits, the move and both expected losses."""
    left = baseline[["customer_id", "grade", "pd_12m", "exposure", "new_limit"]].rename(
        columns={"new_limit": "limit"})
    right = scenario[["customer_id", "grade", "pd_12m", "new_limit"]].rename(
        columns={"grade": "scenario_grade", "pd_12m": "scenario_pd_12m", "new_limit": "scenario_limit"})
    moves = left.merge(right, on="customer_id", how="inner", validate="one_to_one")
    industry = industries.drop_duplicates("customer_id").set_index("customer_id")["industry"]
    moves["industry"] = moves["customer_id"].map(industry).fillna(MISSING_SEGMENT).astype(str)
    moves["limit_change"] = moves["scenario_limit"] - moves["limit"]
    moves["move"] = np.select([moves["limit_change"] > 0, moves["limit_change"] < 0],
                              ["increase", "decrease"], default="unchanged")
    moves["cut_to_zero"] = (moves["limit"] > 0) & (moves["scenario_limit"] == 0)
    moves["expected_loss"] = moves["pd_12m"] * lgd * moves["limit"]
    moves["scenario_expected_loss"] = moves["scenario_pd_12m"] * scenario_lgd * moves["scenario_limit"]
    return moves[list(MOVE_COLUMNS)].sort_values("customer_id", kind="stable").reset_index(drop=True)


def _totals(moves: pd.DataFrame) -> dict[str, float]:
    """Sum the moves of one segment into the metrics of ``SEGMENT_METRICS``."""
    change = moves["limit_change"]
    # A customer with missing exposure is left out of the exposure sums, never counted as 0.
    exposure = moves["exposure"]
    totals = {
        "customers": len(moves),
        "increases": int((change > 0).sum()),
        "increase_amount": float(change[change > 0].sum()),
        "decreases": int((change < 0).sum()),
        "decrease_amount": float(-change[change < 0].sum()),
        "cut_to_zero": int(moves["cut_to_zero"].sum()),
        "limit_total": float(moves["limit"].sum()),
        "scenario_limit_total": float(moves["scenario_limit"].sum()),
        "covered_exposure": float(np.minimum(exposure, moves["limit"]).sum()),
        "scenario_covered_exposure": float(np.minimum(exposure, moves["scenario_limit"]).sum()),
        "over_limit_exposure": float((exposure - moves["limit"]).clip(lower=0).sum()),
        "scenario_over_limit_exposure": float((exposure - moves["scenario_limit"]).clip(lower=0).sum()),
        "expected_loss": float(moves["expected_loss"].sum()),
        "scenario_expected_loss": float(moves["scenario_expected_loss"].sum()),
    }
    totals["limit_change"] = totals["scenario_limit_total"] - totals["limit_total"]
    totals["covered_exposure_change"] = totals["scenario_covered_exposure"] - totals["covered_exposure"]
    totals["expected_loss_change"] = totals["scenario_expected_loss"] - totals["expected_loss"]
    return {name: totals[name] for name in SEGMENT_METRICS}


def _segments(moves: pd.DataFrame, column: str) -> pd.DataFrame:
    rows = [{"segment": str(key), **_totals(part)} for key, part in moves.groupby(column, sort=True)]
    return pd.DataFrame(rows, columns=["segment", *SEGMENT_METRICS])


def render_report(report: SimulationReport, *, header: dict[str, object], currency: str) -> str:
    """Render the report as plain text in the active locale."""
    amounts = {name: _amount(value) for name, value in report.overall.items()}
    for name in ("limit_change", "covered_exposure_change", "expected_loss_change"):
        amounts[name] = _signed(report.overall[name])
    counts = {name: int(report.overall[name]) for name in ("customers", "increases", "decreases", "cut_to_zero")}
    lines = [
        translate("simulate.header", currency=currency, **header),
        translate("simulate.totals", **{**amounts, **counts}),
        "",
        translate("simulate.by_grade"),
        _table(report.by_grade),
        "",
        translate("simulate.by_industry"),
        _table(report.by_industry),
    ]
    return "\n".join(lines)


def _table(segments: pd.DataFrame) -> str:
    headers = translate("simulate.columns").split("|")
    rows = [
        [str(row.segment), str(int(row.customers)), str(int(row.increases)), str(int(row.decreases)),
         str(int(row.cut_to_zero)), _signed(row.limit_change), _signed(row.expected_loss_change)]
        for row in segments.itertuples()
    ]
    widths = [max(_width(cell) for cell in column) for column in zip(headers, *rows)]
    lines = []
    for cells in (headers, *rows):
        padded = [cell + " " * (width - _width(cell)) if i == 0 else " " * (width - _width(cell)) + cell
                  for i, (cell, width) in enumerate(zip(cells, widths))]
        lines.append("  ".join(padded))
    return "\n".join(lines)


def _width(text: str) -> int:
    # Chinese characters take two terminal columns.
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def _amount(value: float) -> str:
    return f"{value:,.0f}"


def _signed(value: float) -> str:
    return f"{value:+,.0f}"
