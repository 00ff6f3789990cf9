"""Label snapshots as bad or good over their outcome window, and join labels to features.

A snapshot ``(customer_id, as_of)`` is bad when, in the outcome window
``[as_of, as_of + horizon_months)``:

- some invoice reaches ``dpd_threshold`` days past due with at least
  ``min_amount`` (base currency) open: the day ``due_on + dpd_threshold`` lies in
  the window and the invoice's open amount at the start of that day, counting
  the payments and credit notes dated before it, is >= ``min_amount``; or
- a credit event of a listed type has ``event_on`` in the window.

A snapshot is ``in_default_at_as_of`` when at the start of as_of an invoice is
already ``dpd_threshold`` or more days past due with at least ``min_amount``
open, or a listed credit event is dated before as_of. Such snapshots describe
customers already in default and are left out of training.

Open amounts follow :func:`creditlimit.features.tables.create_invoice_balances`
(invoice currency settlement valued at the invoice's rate).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.catalog import SNAPSHOT_KEYS
from creditlimit.features.contract import CREDIT_EVENT_TYPES
from creditlimit.features.tables import create_invoice_balances, require_tables
from creditlimit.i18n import register

__all__ = ["LabelDefinition", "build_labels", "training_table", "LABEL_COLUMNS"]

logger = logging.getLogger(__name__)

LABEL_COLUMNS = ("customer_id", "as_of", "is_bad", "in_default_at_as_of")

register({
    "features.param_amount": {
        "en": "{section}.{name} must be a finite number > 0 (base currency); got {value}.",
        "zh_CN": "{section}.{name} 必须是大于 0 的有限数值（本位币）；实际为 {value}。",
    },
    "features.param_event_types": {
        "en": "{section}.{name} must be a list of distinct credit event types from: {known}; got {value}.",
        "zh_CN": "{section}.{name} 必须是由以下信用事件类型组成且不重复的列表：{known}；实际为 {value}。",
    },
    "features.invalid_observation_end": {
        "en": "observation_end {value} is not a calendar date. Pass the datetime.date returned by monthly_as_of_dates.",
        "zh_CN": "observation_end 值 {value} 不是日历日期。请传入 monthly_as_of_dates 返回的 datetime.date。",
    },
    "features.frame_columns_missing": {
        "en": "The {frame} frame is missing column(s) {columns}. Pass a frame with {expected}.",
        "zh_CN": "{frame} 数据框缺少列 {columns}。请传入包含 {expected} 的数据框。",
    },
})

_SECTION = "label"
_FIELDS = ("horizon_months", "dpd_threshold", "min_amount", "event_types")


@dataclass(frozen=True)
class LabelDefinition:
    """Definition of a bad snapshot (``label`` section of params.yaml).

    Attributes
    ----------
    horizon_months : int
        Length of the outcome window in months (>= 1).
    dpd_threshold : int
        Days past due that make an invoice bad (>= 1).
    min_amount : float
        Minimum open amount, base currency, for a past-due invoice to count (> 0,
        so that a settled invoice never counts).
    event_types : tuple of str
        Credit event types that make a snapshot bad; may be empty.
    """

    horizon_months: int
    dpd_threshold: int
    min_amount: float
    event_types: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_int("horizon_months", self.horizon_months, 1)
        _check_int("dpd_threshold", self.dpd_threshold, 1)
        amount = self.min_amount
        if isinstance(amount, bool) or not isinstance(amount, (int, float, np.number)) or not (
            math.isfinite(amount) and amount > 0
        ):
            raise ParamsError("features.param_amount", section=_SECTION, name="min_amount", value=repr(amount))
        types = self.event_types
        if (
            isinstance(types, str)
            or not isinstance(types, tuple)
            or any(t not in CREDIT_EVENT_TYPES for t in types)
            or len(set(types)) != len(types)
        ):
            raise ParamsError(
                "features.param_event_types", section=_SECTION, name="event_types",
                known=", ".join(CREDIT_EVENT_TYPES), value=repr(types),
            )

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, object]) -> LabelDefinition:
        """Validate the ``label`` section and build the definition.

        Raises
        ------
        ParamsError
            If a key is missing or unknown or a value breaks its rule.
        """
        unknown = sorted(set(mapping) - set(_FIELDS))
        if unknown:
            raise ParamsError(
                "features.param_unknown", section=_SECTION, names=", ".join(unknown), known=", ".join(_FIELDS)
            )
        for name in _FIELDS:
            if name not in mapping:
                raise ParamsError("features.param_missing", section=_SECTION, name=name)
        event_types = mapping["event_types"]
        if isinstance(event_types, (list, tuple)):
            event_types = tuple(event_types)
        min_amount = mapping["min_amount"]
        if isinstance(min_amount, int) and not isinstance(min_amount, bool):
            min_amount = float(min_amount)
        return cls(
            horizon_months=mapping["horizon_months"],
            dpd_threshold=mapping["dpd_threshold"],
            min_amount=min_amount,
            event_types=event_types,
        )

    def to_dict(self) -> dict[str, object]:
        """Return the definition as JSON-safe values, for recording with a model."""
        return {
            "horizon_months": int(self.horizon_months),
            "dpd_threshold": int(self.dpd_threshold),
            "min_amount": float(self.min_amount),
            "event_types": list(self.event_types),
        }


def build_labels(
    con: duckdb.DuckDBPyConnection,
    snapshots: pd.DataFrame,
    *,
    definition: LabelDefinition,
    observation_end: dt.date,
) -> pd.DataFrame:
    """Label each snapshot whose outcome window is complete.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the views ``invoices``, ``payments`` and ``credit_events``.
    snapshots : pandas.DataFrame
        Columns ``customer_id`` and ``as_of``; other columns are ignored and
        duplicate keys are labelled once.
    definition : LabelDefinition
        What makes a snapshot bad.
    observation_end : datetime.date
        First day not observed: a window ``[as_of, as_of + horizon_months)`` is
        complete when its end is on or before this day.

    Returns
    -------
    pandas.DataFrame
        ``customer_id`` (object), ``as_of`` (datetime64[us]), ``is_bad`` (int64,
        0 or 1) and ``in_default_at_as_of`` (bool), sorted by (as_of,
        customer_id). Snapshots with an incomplete window are left out (and
        counted in the log).

    Raises
    ------
    InputDataError
        If ``snapshots`` lacks a key column or a table is not loaded.
    ParamsError
        If ``observation_end`` is not a date.
    """
    started = time.perf_counter()
    if isinstance(observation_end, dt.datetime) or not isinstance(observation_end, dt.date):
        raise ParamsError("features.invalid_observation_end", value=repr(observation_end))
    keys = _snapshot_keys(snapshots, "snapshots")
    require_tables(con, ("invoices", "payments", "credit_events"))
    if keys.empty:
        logger.info("No snapshots to label")
        return _empty_labels()

    con.register("_label_input", keys)
    con.execute(_WINDOWS_SQL, {"horizon": definition.horizon_months})
    total, complete, first_day, last_day = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE window_end <= $end), min(as_of), max(window_end) "
        "FROM _label_windows",
        {"end": observation_end},
    ).fetchall()[0]
    con.unregister("_label_input")
    create_invoice_balances(con, first_day=first_day, last_day=last_day)

    params = {
        "end": observation_end,
        "dpd": definition.dpd_threshold,
        "min_amount": float(definition.min_amount),
        "event_types": list(definition.event_types),
    }
    labels = con.execute(_LABELS_SQL, params).df()
    labels = _fix_label_dtypes(labels)
    bad = int(labels["is_bad"].sum())
    logger.info(
        "Labelled %d of %d snapshots (%d with an incomplete window left out): %d bad (%.2f %%), "
        "%d in default at as_of, in %.2f s",
        complete, total, total - complete, bad, 100.0 * bad / max(len(labels), 1),
        int(labels["in_default_at_as_of"].sum()), time.perf_counter() - started,
    )
    return labels


def training_table(features: pd.DataFrame, labels: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Join features to labels and drop snapshots already in default.

    Parameters
    ----------
    features : pandas.DataFrame
        Output of :func:`creditlimit.features.snapshots.build_features`.
    labels : pandas.DataFrame
        Output of :func:`build_labels`.

    Returns
    -------
    table : pandas.DataFrame
        The feature columns plus ``is_bad`` (int64), one row per labelled
        snapshot not in default at as_of, sorted by (as_of, customer_id).
    counts : dict of str to int
        ``features_in``, ``labels_in``, ``no_label`` (feature rows without a
        label, mostly incomplete windows), ``labels_without_features``,
        ``in_default_at_as_of`` (dropped), ``rows_out`` and ``bad``;
        ``features_in == no_label + in_default_at_as_of + rows_out``.

    Raises
    ------
    InputDataError
        If a frame lacks a required column.
    """
    _require_columns(features, "features", SNAPSHOT_KEYS)
    _require_columns(labels, "labels", LABEL_COLUMNS)
    features = features.assign(as_of=_as_datetime(features["as_of"]))
    labels = labels.loc[:, list(LABEL_COLUMNS)].assign(as_of=_as_datetime(labels["as_of"]))

    merged = features.merge(labels, on=list(SNAPSHOT_KEYS), how="outer", indicator=True, validate="one_to_one")
    labelled = merged[merged["_merge"] == "both"]
    in_default = labelled["in_default_at_as_of"].astype(bool)
    table = labelled[~in_default].drop(columns=["_merge", "in_default_at_as_of"])
    table = table.astype({"is_bad": "int64"}).sort_values(["as_of", "customer_id"]).reset_index(drop=True)

    counts = {
        "features_in": len(features),
        "labels_in": len(labels),
        "no_label": int((merged["_merge"] == "left_only").sum()),
        "labels_without_features": int((merged["_merge"] == "right_only").sum()),
        "in_default_at_as_of": int(in_default.sum()),
        "rows_out": len(table),
        "bad": int(table["is_bad"].sum()),
    }
    # Every feature row is either unlabelled, dropped as in default, or kept.
    assert counts["features_in"] == counts["no_label"] + counts["in_default_at_as_of"] + counts["rows_out"]
    logger.info(
        "Training table: %d feature rows in; dropped %d without a label and %d in default at as_of; "
        "%d labels without features; %d rows out, %d bad",
        counts["features_in"], counts["no_label"], counts["in_default_at_as_of"],
        counts["labels_without_features"], counts["rows_out"], counts["bad"],
    )
    return table, counts


_WINDOWS_SQL = """
CREATE OR REPLACE TEMP TABLE _label_windows AS
SELECT customer_id, as_of, CAST(as_of + to_months($horizon) AS DATE) AS window_end
FROM (SELECT DISTINCT CAST(customer_id AS VARCHAR) AS customer_id, CAST(as_of AS DATE) AS as_of FROM _label_input)
"""

# ``reached``: the day each invoice reaches the threshold, kept when the open
# amount at the start of that day is at least min_amount. The balance state that
# applies to day d has after_on < d <= until_on.
_LABELS_SQL = """
WITH snaps AS (
    SELECT customer_id, as_of, window_end FROM _label_windows WHERE window_end <= $end
),
reached AS (
    SELECT b.customer_id, CAST(b.due_on + $dpd AS DATE) AS reached_on
    FROM invoice_balances AS b
    WHERE b.issued_on < b.due_on + $dpd
      AND (b.after_on IS NULL OR b.after_on < b.due_on + $dpd)
      AND (b.until_on IS NULL OR b.due_on + $dpd <= b.until_on)
      AND b.open_doc > 0
      AND b.open_base >= $min_amount
),
events AS (
    SELECT customer_id, event_on FROM credit_events WHERE list_contains($event_types, event_type)
)
SELECT s.customer_id, s.as_of,
       EXISTS (
           SELECT 1 FROM reached AS r
           WHERE r.customer_id = s.customer_id AND r.reached_on >= s.as_of AND r.reached_on < s.window_end
       ) OR EXISTS (
           SELECT 1 FROM events AS e
           WHERE e.customer_id = s.customer_id AND e.event_on >= s.as_of AND e.event_on < s.window_end
       ) AS is_bad,
       EXISTS (
           SELECT 1 FROM invoice_balances AS b
           WHERE b.customer_id = s.customer_id
             AND b.issued_on < s.as_of
             AND (b.after_on IS NULL OR b.after_on < s.as_of)
             AND (b.until_on IS NULL OR s.as_of <= b.until_on)
             AND date_diff('day', b.due_on, s.as_of) >= $dpd
             AND b.open_doc > 0
             AND b.open_base >= $min_amount
       ) OR EXISTS (
           SELECT 1 FROM events AS e WHERE e.customer_id = s.customer_id AND e.event_on < s.as_of
       ) AS in_default_at_as_of
FROM snaps AS s
ORDER BY s.as_of, s.customer_id
"""


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParamsError("features.param_int", section=_SECTION, name=name, minimum=minimum, value=repr(value))


def _require_columns(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise InputDataError(
            "features.frame_columns_missing", frame=name, columns=", ".join(missing), expected=", ".join(columns)
        )


def _snapshot_keys(snapshots: pd.DataFrame, name: str) -> pd.DataFrame:
    _require_columns(snapshots, name, SNAPSHOT_KEYS)
    keys = snapshots.loc[:, list(SNAPSHOT_KEYS)]
    return pd.DataFrame({
        "customer_id": keys["customer_id"].astype(str).to_numpy(dtype=object),
        "as_of": _as_datetime(keys["as_of"]).to_numpy(),
    })


def _as_datetime(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[us]")


def _fix_label_dtypes(labels: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": labels["customer_id"].astype(object),
        "as_of": _as_datetime(labels["as_of"]),
        "is_bad": labels["is_bad"].astype(bool).astype("int64"),
        "in_default_at_as_of": labels["in_default_at_as_of"].astype(bool),
    })


def _empty_labels() -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.Series([], dtype=object),
        "as_of": pd.Series([], dtype="datetime64[us]"),
        "is_bad": pd.Series([], dtype="int64"),
        "in_default_at_as_of": pd.Series([], dtype=bool),
    })
