"""Reason codes: per-customer SHAP contributions ranked and worded in zh_CN and en."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import ModelError, ParamsError
from creditlimit.features.catalog import FEATURES
from creditlimit.i18n import register, translate

__all__ = ["ReasonCodes", "reason_codes", "format_value", "UNITS"]

logger = logging.getLogger(__name__)

UNITS = ("ratio", "percent", "days", "months", "amount", "count", "category")

register({
    "reasons.raises_pd": {
        "en": "{label} is {value}, which raises the PD",
        "zh_CN": "{label}为{value}，推高违约概率",
    },
    "reasons.raises_pd_missing": {
        "en": "{label} is missing, which raises the PD",
        "zh_CN": "{label}缺失，推高违约概率",
    },
    "reasons.shape_mismatch": {
        "en": (
            "Reason codes cannot be built: {name} has shape {got}, expected {expected}. "
            "Pass the positive-class contributions in log-odds with one column per model "
            "feature and the bias column removed."
        ),
        "zh_CN": (
            "无法生成原因代码：{name}的形状为{got}，应为{expected}。"
            "请传入正类的对数几率贡献值，每个模型特征一列，并去掉偏置列。"
        ),
    },
    "reasons.missing_feature_values": {
        "en": (
            "Reason codes cannot be built: feature_values lacks the model features {columns}. "
            "Pass the feature frame that was scored."
        ),
        "zh_CN": "无法生成原因代码：feature_values 缺少模型特征 {columns}。请传入参与评分的特征表。",
    },
    "reasons.duplicate_features": {
        "en": "Reason codes cannot be built: feature_names repeats {columns}. Each feature must appear once.",
        "zh_CN": "无法生成原因代码：feature_names 中 {columns} 重复出现。每个特征只能出现一次。",
    },
    "reasons.invalid_top_k": {
        "en": "Invalid parameter score.top_reasons: it must be a whole number of at least 1, but got {value}.",
        "zh_CN": "参数 score.top_reasons 无效：应为不小于 1 的整数，实际为 {value}。",
    },
    "reasons.invalid_tolerance": {
        "en": "Invalid additivity tolerance: it must be a finite number of at least 0, but got {value}.",
        "zh_CN": "可加性容差无效：应为不小于 0 的有限数值，实际为 {value}。",
    },
})

_MISSING_TEXT = {"en": "missing", "zh_CN": "缺失"}
_SPECS = {spec.name: spec for spec in FEATURES}


@dataclass(frozen=True)
class ReasonCodes:
    """Ranked SHAP contributions of one batch and the top reasons per customer.

    Attributes
    ----------
    explanations : pandas.DataFrame
        Long frame, one row per customer and feature, in input customer order and
        then by rank. Columns:

        - ``customer_id``, ``feature``
        - ``value``: float64, NaN for categorical features
        - ``value_category``: text of a categorical feature, else missing
        - ``contribution``: SHAP value in log-odds
        - ``rank``: 1 raises the PD the most
        - ``base_value``: the bias (mean log-odds of the model)
        - ``text_zh``, ``text_en``: missing unless the row is one of the
          customer's ``top_k`` positive contributions
        - ``additivity_ok``
    top : pandas.DataFrame
        Wide frame, one row per customer: ``customer_id``, then for each
        i in 1..top_k ``reason_i`` (feature name), ``reason_i_zh`` and
        ``reason_i_en`` (missing where the customer has fewer positive
        contributions), and ``additivity_ok``.
    """

    explanations: pd.DataFrame
    top: pd.DataFrame


def format_value(
    value: object, unit: str, *, locale: str, base_currency: str | None = None
) -> str:
    """Format a feature or policy value for display, by unit and locale.

    Parameters
    ----------
    value : object
        The value. None, NaN and pd.NA are shown as missing.
    unit : str
        One of ``UNITS``. ``percent`` values are fractions (0.725 → 72.5 %).
    locale : {"en", "zh_CN"}
        Display language.
    base_currency : str, optional
        Currency code written before amounts, for example ``CNY``.

    Returns
    -------
    str
        For example "72.5 %" / "72.5%", "45 days" / "45天", "CNY 1,234,567".

    Raises
    ------
    ValueError
        If ``unit`` is not one of ``UNITS``.
    """
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS}, but got {unit!r}.")
    zh = locale == "zh_CN"
    if _is_missing(value):
        return _MISSING_TEXT["zh_CN" if zh else "en"]
    if unit == "category":
        return str(value)

    number = float(value)  # type: ignore[arg-type]
    if unit == "percent":
        return f"{number * 100:.1f}%" if zh else f"{number * 100:.1f} %"
    if unit == "ratio":
        return f"{number:.2f}"
    if unit == "amount":
        text = f"{number:,.0f}"
        return f"{base_currency} {text}" if base_currency else text
    if unit == "count":
        return _plain_number(number)
    if unit == "days":
        if zh:
            return f"{_plain_number(number)}天"
        return f"{_plain_number(number)} {'day' if number == 1 else 'days'}"
    if zh:
        return f"{_plain_number(number)}个月"
    return f"{_plain_number(number)} {'month' if number == 1 else 'months'}"


def reason_codes(
    contributions: np.ndarray,
    bias: np.ndarray,
    raw_margin: np.ndarray,
    feature_names: Sequence[str],
    feature_values: pd.DataFrame,
    customer_ids: Sequence[object],
    *,
    top_k: int,
    tolerance: float = 1e-6,
    base_currency: str | None = None,
) -> ReasonCodes:
    """Rank each customer's SHAP contributions and word the top positive ones.

    Parameters
    ----------
    contributions : numpy.ndarray of shape (n_customers, n_features)
        Positive-class contributions in log-odds, columns in ``feature_names``
        order, bias column removed.
    bias : numpy.ndarray of shape (n_customers,)
        Base value per row (mean log-odds of the model).
    raw_margin : numpy.ndarray of shape (n_customers,)
        Raw model output in log-odds, before calibration.
    feature_names : sequence of str of length n_features
        Model features in column order.
    feature_values : pandas.DataFrame
        The scored feature values, one row per customer in the same order
        (matched by position, not index), with a column per feature.
    customer_ids : sequence of length n_customers
        Customer of each row.
    top_k : int
        Number of reasons kept per customer (``score.top_reasons``).
    tolerance : float, default 1e-6
        Largest accepted ``|bias + sum(contributions) - raw_margin|`` per row.
    base_currency : str, optional
        Currency code shown with amounts in reason texts.

    Returns
    -------
    ReasonCodes
        ``explanations`` (long) and ``top`` (wide), described in :class:`ReasonCodes`.

    Raises
    ------
    ModelError
        If the array shapes disagree, a feature is repeated or a feature has no
        column in ``feature_values``.
    ParamsError
        If ``top_k`` or ``tolerance`` is invalid.

    Notes
    -----
    Rank 1 is the largest contribution over all features. Ties are broken by the
    order of the feature catalog (:data:`creditlimit.features.catalog.FEATURES`),
    and features outside it follow in ``feature_names`` order; a NaN
    contribution ranks last. Only positive
    contributions are reasons, so a customer may have fewer than ``top_k``. A row
    whose contributions do not add up to its raw margin within ``tolerance`` keeps
    its reasons with ``additivity_ok`` False, and the batch carries on.
    """
    contributions, bias, raw_margin = _check_shapes(
        contributions, bias, raw_margin, feature_names, feature_values, customer_ids
    )
    _check_settings(top_k, tolerance)
    names = list(feature_names)
    n_rows, n_features = contributions.shape

    # Rank by contribution, largest first. Ties follow the feature catalog, then feature_names.
    tie_rank = np.broadcast_to(_catalog_ranks(names), contributions.shape)
    order = np.lexsort((tie_rank, -contributions), axis=1)
    ranked = np.take_along_axis(contributions, order, axis=1)
    additivity_ok = _additivity(contributions, bias, raw_margin, tolerance, customer_ids)

    # Long frame in customer order, then by rank.
    rows = np.repeat(np.arange(n_rows), n_features)
    feature_index = order.ravel()
    units = np.asarray([_unit_of(name, feature_values[name]) for name in names], dtype=object)
    numbers, categories = _value_matrices(feature_values, names, units)
    explanations = pd.DataFrame({
        "customer_id": pd.Series(list(customer_ids)).take(rows).reset_index(drop=True),
        "feature": np.asarray(names, dtype=object)[feature_index],
        "value": numbers[rows, feature_index],
        "value_category": categories[rows, feature_index],
        "contribution": ranked.ravel(),
        "rank": np.tile(np.arange(1, n_features + 1, dtype=np.int64), n_rows),
        "base_value": bias[rows],
    })
    is_reason = (explanations["rank"].to_numpy() <= top_k) & (ranked.ravel() > 0)
    explanations["text_zh"], explanations["text_en"] = _reason_texts(
        explanations, units[feature_index], is_reason, base_currency
    )
    explanations["additivity_ok"] = additivity_ok[rows]

    top = _top_frame(explanations, is_reason, customer_ids, additivity_ok, top_k)
    return ReasonCodes(explanations=explanations, top=top)


def _check_shapes(
    contributions: np.ndarray,
    bias: np.ndarray,
    raw_margin: np.ndarray,
    feature_names: Sequence[str],
    feature_values: pd.DataFrame,
    customer_ids: Sequence[object],
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    contributions = np.asarray(contributions, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    raw_margin = np.asarray(raw_margin, dtype=np.float64)
    n_features = len(feature_names)
    if contributions.ndim != 2 or contributions.shape[1] != n_features:
        raise ModelError(
            "reasons.shape_mismatch", name="contributions",
            got=contributions.shape, expected=f"(n_customers, {n_features})",
        )
    n_rows = contributions.shape[0]
    sizes = {
        "bias": bias.shape, "raw_margin": raw_margin.shape,
        "customer_ids": (len(customer_ids),), "feature_values": (len(feature_values),),
    }
    for name, shape in sizes.items():
        if shape != (n_rows,):
            raise ModelError(
                "reasons.shape_mismatch", name=name, got=shape, expected=f"({n_rows},)"
            )

    repeated = sorted({name for name in feature_names if list(feature_names).count(name) > 1})
    if repeated:
        raise ModelError("reasons.duplicate_features", columns=repeated)
    missing = [name for name in feature_names if name not in feature_values.columns]
    if missing:
        raise ModelError("reasons.missing_feature_values", columns=missing)
    return contributions, bias, raw_margin


def _check_settings(top_k: int, tolerance: float) -> None:
    if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
        raise ParamsError("reasons.invalid_top_k", value=top_k)
    valid_number = isinstance(tolerance, (int, float)) and not isinstance(tolerance, bool)
    if not valid_number or not math.isfinite(tolerance) or tolerance < 0:
        raise ParamsError("reasons.invalid_tolerance", value=tolerance)


def _additivity(
    contributions: np.ndarray,
    bias: np.ndarray,
    raw_margin: np.ndarray,
    tolerance: float,
    customer_ids: Sequence[object],
) -> np.ndarray:
    gap = np.abs(bias + contributions.sum(axis=1) - raw_margin)
    # A NaN gap compares False, so a row with a NaN contribution fails the check.
    ok = gap <= tolerance
    failing = np.flatnonzero(~ok)
    if failing.size:
        examples = [customer_ids[i] for i in failing[:5]]
        logger.warning(
            "%d of %d rows fail SHAP additivity (|bias + sum - raw margin| > %g), so their "
            "reason codes are kept with additivity_ok=False. First customers: %s",
            failing.size, ok.size, tolerance, examples,
        )
    return ok


def _value_matrices(
    feature_values: pd.DataFrame, names: list[str], units: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Split feature values into a float matrix and a category-text matrix."""
    n_rows = len(feature_values)
    numbers = np.full((n_rows, len(names)), np.nan)
    categories = np.full((n_rows, len(names)), None, dtype=object)
    for j, name in enumerate(names):
        column = feature_values[name].reset_index(drop=True)
        if units[j] == "category":
            categories[:, j] = [None if _is_missing(v) else str(v) for v in column]
        else:
            numbers[:, j] = pd.to_numeric(column).to_numpy(dtype=np.float64, na_value=np.nan)
    return numbers, categories


def _reason_texts(
    explanations: pd.DataFrame,
    units: np.ndarray,
    is_reason: np.ndarray,
    base_currency: str | None,
) -> tuple[list[str | None], list[str | None]]:
    texts_zh: list[str | None] = [None] * len(explanations)
    texts_en: list[str | None] = [None] * len(explanations)
    features = explanations["feature"].to_numpy()
    numbers = explanations["value"].to_numpy()
    categories = explanations["value_category"].to_numpy()
    for i in np.flatnonzero(is_reason):
        name = features[i]
        unit = units[i]
        value = categories[i] if unit == "category" else numbers[i]
        texts_en[i] = _reason_text(name, value, unit, "en", base_currency)
        texts_zh[i] = _reason_text(name, value, unit, "zh_CN", base_currency)
    return texts_zh, texts_en


def _reason_text(
    name: str, value: object, unit: str, locale: str, base_currency: str | None
) -> str:
    spec = _SPECS.get(name)
    if spec is None:
        label = name
    else:
        label = spec.label_zh if locale == "zh_CN" else spec.label_en
    if _is_missing(value):
        return translate("reasons.raises_pd_missing", locale, label=label)
    formatted = format_value(value, unit, locale=locale, base_currency=base_currency)
    return translate("reasons.raises_pd", locale, label=label, value=formatted)


def _top_frame(
    explanations: pd.DataFrame,
    is_reason: np.ndarray,
    customer_ids: Sequence[object],
    additivity_ok: np.ndarray,
    top_k: int,
) -> pd.DataFrame:
    n_rows = len(additivity_ok)
    n_features = len(explanations) // n_rows if n_rows else 0
    top: dict[str, object] = {"customer_id": pd.Series(list(customer_ids))}
    for position in range(1, top_k + 1):
        codes = np.full(n_rows, None, dtype=object)
        texts_zh = np.full(n_rows, None, dtype=object)
        texts_en = np.full(n_rows, None, dtype=object)
        if position <= n_features:
            # Rows of rank `position` sit at a fixed offset inside each customer's block.
            index = np.arange(n_rows) * n_features + (position - 1)
            chosen = is_reason[index]
            codes[chosen] = explanations["feature"].to_numpy()[index][chosen]
            texts_zh[chosen] = explanations["text_zh"].to_numpy()[index][chosen]
            texts_en[chosen] = explanations["text_en"].to_numpy()[index][chosen]
        top[f"reason_{position}"] = codes
        top[f"reason_{position}_zh"] = texts_zh
        top[f"reason_{position}_en"] = texts_en
    top["additivity_ok"] = additivity_ok
    return pd.DataFrame(top)


def _catalog_ranks(names: list[str]) -> np.ndarray:
    """Position of each feature in the catalog; features outside it come after, in their own order."""
    catalog = {name: i for i, name in enumerate(_SPECS)}
    return np.asarray([catalog.get(name, len(catalog) + j) for j, name in enumerate(names)], dtype=np.int64)


def _unit_of(name: str, column: pd.Series) -> str:
    """Return the catalog unit, or guess one for a feature outside the catalog."""
    spec = _SPECS.get(name)
    if spec is not None:
        return spec.unit
    if not pd.api.types.is_numeric_dtype(column):
        return "category"
    return "ratio"


def _plain_number(number: float) -> str:
    """Write a whole number without decimals and any other number with one."""
    if math.isfinite(number) and number == round(number):
        return str(int(round(number)))
    return f"{number:.1f}"


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)
