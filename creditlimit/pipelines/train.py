"""Stage ``train``: fit, calibrate, validate, log and register the PD model."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from creditlimit.errors import ModelError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.mlflow_settings import mlflow_settings
from creditlimit.pipelines.params import load_params, params_hash, section

__all__ = ["run"]

log = logging.getLogger(__name__)

register({
    "train.done": {
        "en": "Model {name} version {version} registered (run {run_id}); OOT AUC {auc}, Gini {gini}, KS {ks}, Brier {brier}. Alias '{alias}' set.",
        "zh_CN": "模型 {name} 第 {version} 版已注册（运行 {run_id}）；跨时间测试 AUC {auc}，Gini {gini}，KS {ks}，Brier {brier}。已设置别名“{alias}”。",
    },
    "train.gates_failed": {
        "en": "Model {name} version {version} is registered but not promoted: failed gates: {gates}.",
        "zh_CN": "模型 {name} 第 {version} 版已注册但未晋升：未通过的门槛：{gates}。",
    },
})


def run(*, params_path: Path, training_path: Path, out_dir: Path) -> None:
    """Train on ``training_path``; write ``metrics.json`` and ``model.json`` to ``out_dir``."""
    from creditlimit.features.labels import LabelDefinition
    from creditlimit.models.registry import log_and_register
    from creditlimit.models.training import TrainParams, train_pd_model
    from creditlimit.serving.publish import read_parquet

    params = load_params(params_path)
    train_params = TrainParams.from_mapping(section(params, "train"))
    definition = LabelDefinition.from_mapping(section(params, "label"))
    settings = mlflow_settings(params)
    started = time.perf_counter()

    table = read_parquet(training_path)
    trained = train_pd_model(table, params=train_params)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / "metrics.json"
    metrics = {**trained.metrics, "stability": _stability(trained, table, train_params)}
    metrics_path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    result = log_and_register(
        trained,
        tracking_uri=settings.tracking_uri,
        artifact_location=settings.artifact_location,
        experiment=settings.experiment,
        model_name=settings.model_name,
        default_definition=definition.to_dict(),
        params_to_log={"train": section(params, "train"), "label": section(params, "label"),
                       "params_hash": params_hash(params, ("train", "label", "features"))},
        min_oot_auc=train_params.min_oot_auc,
        metrics_path=metrics_path,
    )
    model_record = {
        "name": result.name, "version": str(result.version), "run_id": result.run_id,
        "promoted": bool(result.promoted), "failed_gates": list(result.failed_gates),
        "default_definition": definition.to_dict(),
    }
    (out_dir / "model.json").write_text(json.dumps(model_record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("training finished in %.1f s", time.perf_counter() - started)

    if not result.promoted:
        raise ModelError("train.gates_failed", name=result.name, version=result.version,
                         gates=", ".join(result.failed_gates))
    oot = trained.metrics["oot"]
    print(translate("train.done", name=result.name, version=result.version, run_id=result.run_id,
                    alias="champion", **{k: _fmt(oot.get(k)) for k in ("auc", "gini", "ks", "brier")}))


def _stability(trained, table, train_params) -> dict:
    """Record score PSI and feature CSI of the out-of-time part against training.

    Recorded for the model's validation evidence; no gate reads them yet.
    """
    from creditlimit.features.catalog import CATEGORICAL_FEATURES
    from creditlimit.models.split import split_by_time
    from creditlimit.models.stability import csi, psi

    split = split_by_time(table, valid_months=train_params.valid_months,
                          oot_months=train_params.oot_months, gap_months=train_params.gap_months)
    train_rows = table[split.train.mask]
    oot_rows = table[split.oot.mask]
    score_psi = psi(trained.predict(train_rows)["raw_margin"], trained.predict(oot_rows)["raw_margin"])
    feature_csi = csi(train_rows, oot_rows, columns=list(trained.feature_names),
                      categorical_columns=list(CATEGORICAL_FEATURES))
    return {
        "reference": "train", "compared": "oot",
        "score_psi": score_psi.psi.value,
        "feature_csi": {row.column: row.psi for row in feature_csi.itertuples()},
    }


def _fmt(value) -> str:
    return "n/a" if value is None else f"{float(value):.4f}"
