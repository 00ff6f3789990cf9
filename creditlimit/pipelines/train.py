"""Stage ``train``: fit, calibrate, validate, log and register the PD model."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

from creditlimit.errors import ModelError
from creditlimit.i18n import get_locale, register, translate
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
        "en": "Model {name} version {version} is registered but not promoted. Failed gates: {gates}",
        "zh_CN": "模型 {name} 第 {version} 版已注册但未晋升。未通过的门槛：{gates}",
    },
})


def run(*, params_path: Path, training_path: Path, out_dir: Path) -> None:
    """Train on ``training_path``; write ``metrics.json`` and ``model.json`` to ``out_dir``."""
    from creditlimit.features.labels import LabelDefinition
    from creditlimit.models.gates import GateThresholds, evaluate_gates
    from creditlimit.models.registry import log_and_register
    from creditlimit.models.training import TrainParams, train_pd_model
    from creditlimit.serving.publish import read_parquet

    params = load_params(params_path)
    train_params = TrainParams.from_mapping(section(params, "train"))
    # TrainParams leaves the gates optional for library callers, but the stage needs
    # them. Without train.gates, from_train_section raises ParamsError naming them.
    thresholds = train_params.gates or GateThresholds.from_train_section(section(params, "train"))
    definition = LabelDefinition.from_mapping(section(params, "label"))
    settings = mlflow_settings(params)
    started = time.perf_counter()

    table = read_parquet(training_path)
    trained = train_pd_model(table, params=train_params)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / "metrics.json"
    train_rows, oot_rows = _train_and_oot_rows(table, train_params)
    stability = _stability(trained, train_rows, oot_rows)
    gates = evaluate_gates(metrics=trained.metrics, stability=stability,
                           champion_auc=_champion_auc(settings, oot_rows), thresholds=thresholds)
    # Keyed by gate name, so that `dvc metrics show` lists gates.<name>.value and .passed.
    metrics = {**trained.metrics, "stability": stability,
               "gates": {gate.name: gate.to_dict() for gate in gates}}
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
        # log_and_register checks min_oot_auc itself.
        extra_failed_gates=[gate.text_en for gate in gates
                            if not gate.passed and gate.name != "min_oot_auc"],
    )
    model_record = {
        "name": result.name, "version": str(result.version), "run_id": result.run_id,
        "promoted": bool(result.promoted), "failed_gates": list(result.failed_gates),
        "default_definition": definition.to_dict(),
    }
    (out_dir / "model.json").write_text(json.dumps(model_record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    log.info("training finished in %.1f s", time.perf_counter() - started)
    _report(result, gates, trained.metrics["oot"])


def _report(result, gates, oot) -> None:
    """Print every gate result in the active locale, then the promotion or raise ModelError."""
    locale = get_locale()
    for gate in gates:
        print(gate.text(locale))
    if not result.promoted:
        failed = [gate.text(locale) for gate in gates if not gate.passed] or list(result.failed_gates)
        raise ModelError("train.gates_failed", name=result.name, version=result.version,
                         gates=" ".join(failed))
    print(translate("train.done", name=result.name, version=result.version, run_id=result.run_id,
                    alias="champion", **{k: _fmt(oot.get(k)) for k in ("auc", "gini", "ks", "brier")}))


def _train_and_oot_rows(table, train_params):
    from creditlimit.models.split import split_by_time

    split = split_by_time(table, valid_months=train_params.valid_months,
                          oot_months=train_params.oot_months, gap_months=train_params.gap_months)
    return table[split.train.mask], table[split.oot.mask]


def _champion_auc(settings, oot_rows) -> float | None:
    """Compute the current champion's AUC (raw margin) on ``oot_rows``.

    Returns None when there is no champion, and NaN when the AUC is undefined (one
    class only), so that the gate fails.
    """
    from creditlimit.models.metrics import auc
    from creditlimit.models.registry import CHAMPION_ALIAS, load_model_if_aliased

    champion = load_model_if_aliased(tracking_uri=settings.tracking_uri,
                                     model_name=settings.model_name, alias=CHAMPION_ALIAS)
    if champion is None:
        return None
    # NOTE: a champion that needs a feature the current table lacks raises ModelError
    # here, so after removing a feature the alias must be cleared or the run fails.
    margin = champion.python_model.predict(None, oot_rows)["raw_margin"]
    value = auc(oot_rows["is_bad"].to_numpy(), margin.to_numpy()).value
    log.info("champion %s has OOT AUC %s on %d rows", champion.uri, value, len(oot_rows))
    return float("nan") if value is None else value


def _stability(trained, train_rows, oot_rows) -> dict:
    """Record score PSI and feature CSI of the out-of-time part against training."""
    from creditlimit.features.catalog import CATEGORICAL_FEATURES
    from creditlimit.models.stability import csi, psi

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
