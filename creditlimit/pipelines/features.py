"""Stage ``features``: monthly point-in-time snapshots with default labels."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from creditlimit.i18n import register, translate
from creditlimit.pipelines.params import load_params, section

__all__ = ["run"]

log = logging.getLogger(__name__)

register({
    "features.done": {
        "en": "Training snapshots written to {out}: {rows} rows, {months} months from {first} to {last}, bad rate {bad_rate:.1%}.",
        "zh_CN": "训练快照已写入 {out}：{rows} 行，{months} 个月（{first} 至 {last}），坏样本率 {bad_rate:.1%}。",
    },
})


def run(*, params_path: Path, clean_dir: Path, out_path: Path) -> None:
    """Build features and labels for every complete monthly snapshot."""
    from creditlimit.features.labels import LabelDefinition, build_labels, training_table
    from creditlimit.features.snapshots import build_features, monthly_as_of_dates
    from creditlimit.features.tables import clean_table_paths, connect_tables
    from creditlimit.serving.publish import write_parquet

    params = load_params(params_path)
    feature_params = section(params, "features")
    definition = LabelDefinition.from_mapping(section(params, "label"))
    started = time.perf_counter()

    con = connect_tables(clean_table_paths(clean_dir))
    as_of_dates, observation_end = monthly_as_of_dates(
        con,
        min_history_months=int(feature_params["min_history_months"]),
        horizon_months=definition.horizon_months,
    )
    features = build_features(
        con, as_of_dates, max_statement_age_months=int(feature_params["max_statement_age_months"])
    )
    labels = build_labels(con, features[["customer_id", "as_of"]], definition=definition,
                          observation_end=observation_end)
    table, counts = training_table(features, labels)

    out_path.parent.mkdir(parents=True, exist_ok=True)
    write_parquet(table, out_path)
    summary = _summary(table, counts, observation_end)
    out_path.with_name("training_summary.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    log.info("features finished in %.1f s: %s", time.perf_counter() - started, summary)
    print(translate("features.done", out=out_path, rows=summary["rows"], months=summary["months"],
                    first=summary["first_as_of"], last=summary["last_as_of"],
                    bad_rate=summary["bad_rate"]))


def _summary(table, counts, observation_end) -> dict:
    months = sorted(table["as_of"].dt.date.unique())
    return {
        "rows": int(len(table)),
        "months": len(months),
        "first_as_of": str(months[0]) if months else None,
        "last_as_of": str(months[-1]) if months else None,
        "observation_end": str(observation_end),
        "bad_rate": float(table["is_bad"].mean()) if len(table) else float("nan"),
        "bads": int(table["is_bad"].sum()),
        "counts": {str(k): int(v) for k, v in dict(counts).items()},
    }
