"""Read everything the credit usage report shows: the run, earlier runs, clean tables, model files.

Pieces that other stages add over time are optional: extra run tables such as
``features`` or ``grade_migration``, limits columns such as ``next_review_on``, and
the model report. A missing file or column is recorded as missing, and the report
shows "not available" for it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from creditlimit.errors import InputDataError
from creditlimit.i18n import register

__all__ = ["RunOutputs", "ReportInputs", "load_report_inputs", "read_run", "history_dates"]

log = logging.getLogger(__name__)

_CORE_TABLES = ("limits", "explanations", "flags")
_HISTORY_COLUMNS = ("customer_id", "as_of", "grade", "pd_12m", "current_limit", "proposed_limit",
                    "new_limit", "action", "effective_on")

register({
    "report.no_run": {
        "en": "No complete scoring run for {as_of} in {folder} (manifest.json is missing). "
              "Run `creditlimit score --as-of {as_of}` first.",
        "zh_CN": "{folder} 中没有 {as_of} 的完整评分结果（缺少 manifest.json）。"
                 "请先运行 `creditlimit score --as-of {as_of}`。",
    },
})


@dataclass(frozen=True)
class RunOutputs:
    """Tables of one published scoring run.

    ``extra`` contains every other ``<name>.parquet`` of the run folder by name.
    """

    as_of: dt.date
    folder: Path
    manifest: dict
    limits: pd.DataFrame
    explanations: pd.DataFrame
    flags: pd.DataFrame
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)


@dataclass(frozen=True)
class ReportInputs:
    """Everything the portfolio report and the customer pages are rendered from.

    Attributes
    ----------
    run : RunOutputs
        The run being reported.
    previous : RunOutputs or None
        The latest complete run before it.
    limit_history : pandas.DataFrame
        One row per customer and run within the history window up to
        ``run.as_of``, with grade, PD and limits.
    history : pandas.DataFrame
        Feature rows of every customer at the month starts of the history window
        (and at as_of), as the feature builder computes them.
    monthly_flows : pandas.DataFrame
        ``customer_id``, ``month`` (first day), ``invoiced`` (net of credit notes)
        and ``paid`` per calendar month before as_of.
    ageing : pandas.DataFrame
        ``customer_id``, ``days_past_due`` and ``open_amount`` of every invoice
        open at as_of (days past due <= 0 means not yet due).
    customers : pandas.DataFrame
        ``customer_id``, ``name``, ``industry``, ``region`` from the clean table.
    validation_report : dict or None
    model_info, metrics : dict or None
        ``model.json`` and ``metrics.json`` of the training stage.
    training : pandas.DataFrame or None
        Model feature columns of the training snapshots (reference of the CSI).
    model_report : dict of str to str
        Locale to the model report's path relative to the report folder, for the
        locales whose file exists.
    """

    run: RunOutputs
    previous: RunOutputs | None
    limit_history: pd.DataFrame
    history: pd.DataFrame
    monthly_flows: pd.DataFrame
    ageing: pd.DataFrame
    customers: pd.DataFrame
    validation_report: dict | None
    model_info: dict | None
    metrics: dict | None
    training: pd.DataFrame | None
    model_report: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def read_run(scores_root: Path, as_of: dt.date) -> RunOutputs:
    """Read the run folder of ``as_of``.

    Raises
    ------
    InputDataError
        If the folder has no ``manifest.json`` (no run, or an unfinished one).
    """
    from creditlimit.serving.publish import read_parquet

    folder = scores_root / f"as_of={as_of.isoformat()}"
    if not (folder / "manifest.json").is_file():
        raise InputDataError("report.no_run", as_of=as_of.isoformat(), folder=scores_root)
    tables = {}
    for path in sorted(folder.glob("*.parquet")):
        tables[path.stem] = read_parquet(path)
    core = {name: tables.pop(name, pd.DataFrame({"customer_id": pd.Series([], dtype=str)}))
            for name in _CORE_TABLES}
    return RunOutputs(
        as_of=as_of, folder=folder,
        manifest=json.loads((folder / "manifest.json").read_text(encoding="utf-8")),
        limits=core["limits"], explanations=core["explanations"], flags=core["flags"], extra=tables,
    )


def history_dates(as_of: dt.date, months: int) -> list[dt.date]:
    """Return the first days of the last ``months`` months up to ``as_of``, plus ``as_of``."""
    first_of_month = as_of.replace(day=1)
    dates = []
    for back in range(months - 1, -1, -1):
        index = first_of_month.year * 12 + first_of_month.month - 1 - back
        dates.append(dt.date(index // 12, index % 12 + 1, 1))
    if as_of not in dates:
        dates.append(as_of)
    return dates


def load_report_inputs(
    *,
    scores_root: Path,
    as_of: dt.date,
    clean_dir: Path,
    models_dir: Path,
    training_path: Path,
    report_dir: Path,
    history_months: int,
    max_statement_age_months: int,
) -> ReportInputs:
    """Read the run of ``as_of`` and everything around it.

    Parameters
    ----------
    scores_root : Path
        Folder of the ``as_of=YYYY-MM-DD`` run folders.
    clean_dir : Path
        Validated tables; ``validation_report.json`` is read from its parent.
    models_dir : Path
        Folder of ``model.json``, ``metrics.json`` and ``report/``.
    training_path : Path
        Training snapshot table (Parquet), the reference of the feature CSI.
    report_dir : Path
        Folder the report is written to (for relative links).
    history_months : int
        Months of history for the customer pages.
    max_statement_age_months : int
        Passed to the feature builder, as in the score stage.
    """
    from creditlimit.features.tables import clean_table_paths, connect_tables
    from creditlimit.serving.previous_run import published_as_of_dates

    timings: dict[str, float] = {}
    started = time.perf_counter()
    run = read_run(scores_root, as_of)
    earlier = [day for day in published_as_of_dates(scores_root) if day < as_of]
    previous = read_run(scores_root, earlier[-1]) if earlier else None
    window_start = history_dates(as_of, history_months)[0]
    limit_history = _limit_history(scores_root, [*(day for day in earlier if day >= window_start), as_of])
    timings["runs_s"] = time.perf_counter() - started

    started = time.perf_counter()
    con = connect_tables(clean_table_paths(clean_dir))
    history, ageing = _history_and_ageing(con, as_of, history_months, max_statement_age_months)
    # The first snapshot (first day of month M) shows the state at the end of the
    # month before, so the flows start one month earlier to cover that month too.
    first_snapshot = history_dates(as_of, history_months)[0]
    flows_start = (first_snapshot - dt.timedelta(days=1)).replace(day=1)
    monthly_flows = _monthly_flows(con, flows_start, as_of)
    customers = con.execute("SELECT customer_id, name, industry, region FROM customers").df()
    con.close()
    timings["history_s"] = time.perf_counter() - started

    model_info = _read_json(models_dir / "model.json")
    same_model = _trained_model_scored(model_info, run)
    return ReportInputs(
        run=run, previous=previous, limit_history=limit_history, history=history,
        monthly_flows=monthly_flows, ageing=ageing, customers=customers,
        validation_report=_read_json(clean_dir.parent / "validation_report.json"),
        model_info=model_info,
        # After a retrain that was not promoted, data/models describes another
        # version than the one that scored: its figures would be misleading.
        metrics=_read_json(models_dir / "metrics.json") if same_model else None,
        training=_read_training(training_path),
        model_report=_model_report_links(models_dir, report_dir) if same_model else {},
        timings=timings,
    )


def _trained_model_scored(model_info: dict | None, run) -> bool:
    """Tell whether data/models describes the model version that scored the run."""
    scored = (getattr(run, "manifest", None) or {}).get("model", {})
    if not model_info or not scored:
        return False
    same = str(model_info.get("version")) == str(scored.get("version")) and \
        model_info.get("name") == scored.get("name")
    if not same:
        log.warning("data/models describes %s version %s, but the run was scored with %s version %s; "
                    "the report leaves the model metrics out", model_info.get("name"), model_info.get("version"),
                    scored.get("name"), scored.get("version"))
    return same


def _limit_history(scores_root: Path, dates: list[dt.date]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    frames = []
    for day in dates:
        path = scores_root / f"as_of={day.isoformat()}" / "limits.parquet"
        if not path.is_file():
            continue
        names = set(pq.read_schema(path).names)
        columns = [c for c in _HISTORY_COLUMNS if c in names]
        frame = pq.read_table(path, columns=columns).to_pandas(date_as_object=False)
        frame["as_of"] = pd.Timestamp(day)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=list(_HISTORY_COLUMNS))
    return pd.concat(frames, ignore_index=True).sort_values(["customer_id", "as_of"], ignore_index=True)


def _history_and_ageing(con, as_of: dt.date, months: int,
                        max_statement_age_months: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build monthly feature rows, then read the open invoices at as_of from the balances they leave."""
    from creditlimit.features.snapshots import build_features

    history = build_features(con, history_dates(as_of, months), max_statement_age_months=max_statement_age_months)
    # build_features leaves the temp table invoice_balances, which covers as_of.
    ageing = con.execute(
        """
        SELECT customer_id, date_diff('day', due_on, $as_of) AS days_past_due, open_base AS open_amount
        FROM invoice_balances
        WHERE issued_on < $as_of AND open_base > 0
          AND (after_on IS NULL OR after_on < $as_of) AND (until_on IS NULL OR $as_of <= until_on)
        -- A fixed row order keeps float sums over these rows identical on every run.
        ORDER BY customer_id, days_past_due, open_amount
        """,
        {"as_of": as_of},
    ).df()
    return history, ageing


def _monthly_flows(con, first_day: dt.date, as_of: dt.date) -> pd.DataFrame:
    """Invoiced (net of credit notes) and paid amounts per customer and calendar month before as_of."""
    return con.execute(
        """
        WITH documents AS (
            SELECT customer_id, date_trunc('month', issued_on) AS month, amount AS invoiced, 0.0 AS paid
            FROM invoices WHERE issued_on >= $first AND issued_on < $as_of
            UNION ALL
            SELECT customer_id, date_trunc('month', paid_on), 0.0, amount
            FROM payments WHERE paid_on >= $first AND paid_on < $as_of
        )
        SELECT customer_id, CAST(month AS DATE) AS month,
               CAST(sum(invoiced::DECIMAL(38, 6)) AS DOUBLE) AS invoiced,
               CAST(sum(paid::DECIMAL(38, 6)) AS DOUBLE) AS paid
        FROM documents GROUP BY ALL ORDER BY customer_id, month
        """,
        {"first": first_day, "as_of": as_of},
    ).df()


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        log.info("%s not found; the report shows that piece as not available", path)
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _read_training(path: Path) -> pd.DataFrame | None:
    import pyarrow.parquet as pq

    from creditlimit.features.catalog import FEATURE_NAMES

    if not path.is_file():
        log.info("training table %s not found; feature CSI is not available", path)
        return None
    names = set(pq.read_schema(path).names)
    return pq.read_table(path, columns=[c for c in FEATURE_NAMES if c in names]).to_pandas()


def _model_report_links(models_dir: Path, report_dir: Path) -> dict[str, str]:
    links = {}
    for locale in ("zh_CN", "en"):
        path = models_dir / "report" / f"model_report.{locale}.html"
        if path.is_file():
            links[locale] = Path(os.path.relpath(path.resolve(), report_dir.resolve())).as_posix()
    return links
