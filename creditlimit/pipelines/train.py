"""Stage ``train``: fit, calibrate, validate, log and register the PD model and its challenger."""

from __future__ import annotations

import dataclasses
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
    "train.challenger_compare": {
        "en": (
            "Challenger scorecard version {version} (alias 'challenger'): OOT AUC {auc}, KS {ks}, "
            "Brier {brier}; candidate: OOT AUC {candidate_auc}, KS {candidate_ks}, Brier {candidate_brier}."
        ),
        "zh_CN": "挑战者评分卡第 {version} 版（别名“challenger”）：跨时间测试 AUC {auc}，KS {ks}，Brier {brier}；候选模型：跨时间测试 AUC {candidate_auc}，KS {candidate_ks}，Brier {candidate_brier}。",
    },
    "train.search_done": {
        "en": "Hyperparameter search: {trials} trials, best validation AUC {auc} with {values}.",
        "zh_CN": "超参数搜索：共 {trials} 次试验，最佳验证集 AUC {auc}，取值 {values}。",
    },
})


def run(*, params_path: Path, training_path: Path, out_dir: Path) -> None:
    """Train on ``training_path``; write ``metrics.json`` and ``model.json`` to ``out_dir``.

    Raises
    ------
    ModelError
        After everything is written and registered, when the candidate fails a
        gate; the message lists the failed gates in the active locale.
    """
    from creditlimit.features.labels import LabelDefinition
    from creditlimit.models.gates import GateThresholds
    from creditlimit.models.training import TrainParams
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

    # Fit the candidate (after the optional search) and the challenger on one split.
    search = _search(table, train_params)
    if search is not None:
        train_params = dataclasses.replace(train_params, lightgbm=search.lightgbm)
    trained, challenger = _fit_models(table, train_params)

    # Evaluate: segments, stability and gates; write the DVC metrics file.
    split = _split(table, train_params)
    segments = _segment_metrics(table, split, train_params, trained, challenger)
    stability = _stability(trained, table[split.train.mask], table[split.oot.mask])
    gates = _gates(trained, stability, settings, table[split.oot.mask], thresholds)
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_path = out_dir / "metrics.json"
    metrics = _metrics_record(trained, challenger, search, stability, gates, segments)
    _write_json(metrics_path, metrics)

    # Log and register both models, then record what was registered.
    result = _register_candidate(trained, params, train_params, definition, settings, metrics_path,
                                 gates, segments, search)
    registered_challenger = _register_challenger(challenger, params, definition, settings, segments)
    _write_json(out_dir / "model.json", _model_record(result, registered_challenger, definition))
    _write_model_reports(trained, table, params, metrics_path, out_dir / "model.json", settings)
    log.info("training finished in %.1f s", time.perf_counter() - started)
    _report(result, gates, trained.metrics["oot"], challenger, registered_challenger, search)


def _search(table, train_params):
    """Run the hyperparameter search when ``train.search.enabled`` is true, else return None."""
    if train_params.search is None or not train_params.search.enabled:
        return None
    import optuna

    from creditlimit.models.search import search_hyperparameters

    # Entry points own logging: keep Optuna's per-trial lines out of the stage output.
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return search_hyperparameters(table, params=train_params, search=train_params.search)


def _fit_models(table, train_params):
    """Train the champion candidate and, when enabled, the challenger scorecard."""
    from creditlimit.models.scorecard import train_challenger
    from creditlimit.models.training import train_pd_model

    trained = train_pd_model(table, params=train_params)
    settings = train_params.challenger
    if settings is None or not settings.enabled:
        return trained, None
    challenger = train_challenger(
        table, params=settings, valid_months=train_params.valid_months,
        oot_months=train_params.oot_months, gap_months=train_params.gap_months,
        monotone_constraints=trained.monotone_constraints,
        feature_names=trained.feature_names, categorical_features=trained.categorical_features,
    )
    return trained, challenger


def _split(table, train_params):
    from creditlimit.models.split import split_by_time

    return split_by_time(table, valid_months=train_params.valid_months,
                         oot_months=train_params.oot_months, gap_months=train_params.gap_months)


def _segment_metrics(table, split, train_params, trained, challenger) -> dict:
    """Compute metrics by segment for the candidate and the challenger (empty without train.segments)."""
    from creditlimit.models.segments import metrics_by_segment, segment_frame

    if train_params.segments is None:
        return {}
    segments = segment_frame(table, params=train_params.segments)
    parts = {part.name: part.mask for part in split.parts()}
    y = table["is_bad"].to_numpy()
    result = {}
    for name, model in (("candidate", trained), ("challenger", challenger)):
        if model is None:
            continue
        scored = model.predict(table)
        result[name] = metrics_by_segment(segments, y=y, pd_values=scored["pd_12m"],
                                          score=scored["raw_margin"], parts=parts)
    return result


def _gates(trained, stability, settings, oot_rows, thresholds):
    from creditlimit.models.gates import evaluate_gates

    return evaluate_gates(metrics=trained.metrics, stability=stability,
                          champion_auc=_champion_auc(settings, oot_rows), thresholds=thresholds)


def _metrics_record(trained, challenger, search, stability, gates, segments) -> dict:
    """Assemble metrics.json: per part, segments, stability, gates, challenger and search."""
    # Keyed by gate name, so that `dvc metrics show` lists gates.<name>.value and .passed.
    metrics = {**trained.metrics, "stability": stability,
               "gates": {gate.name: gate.to_dict() for gate in gates}}
    if "candidate" in segments:
        metrics["segments"] = segments["candidate"]
    if challenger is not None:
        metrics["challenger"] = {**challenger.metrics,
                                 "dropped_features": dict(challenger.model.dropped),
                                 "features": list(challenger.model.feature_names)}
        if "challenger" in segments:
            metrics["challenger"]["segments"] = segments["challenger"]
    if search is not None:
        metrics["search"] = {"trials": int(len(search.trials)),
                             "best_valid_auc": search.best_valid_auc,
                             "best_params": dict(search.best_params)}
    return metrics


def _register_candidate(trained, params, train_params, definition, settings, metrics_path, gates,
                        segments, search):
    from creditlimit.models.registry import log_and_register
    from creditlimit.models.segments import segment_metric_records

    params_to_log = {"train": section(params, "train"), "label": section(params, "label"),
                     "params_hash": params_hash(params, ("train", "label", "features"))}
    extra_tables = {}
    if search is not None:
        params_to_log["search.best"] = dict(search.best_params)
        extra_tables["search/trials.json"] = search.trials
    return log_and_register(
        trained,
        tracking_uri=settings.tracking_uri,
        artifact_location=settings.artifact_location,
        experiment=settings.experiment,
        model_name=settings.model_name,
        default_definition=definition.to_dict(),
        params_to_log=params_to_log,
        min_oot_auc=train_params.min_oot_auc,
        metrics_path=metrics_path,
        # log_and_register checks min_oot_auc itself.
        extra_failed_gates=[gate.text_en for gate in gates
                            if not gate.passed and gate.name != "min_oot_auc"],
        extra_metrics=segment_metric_records(segments.get("candidate", {}), prefix="segment."),
        extra_tables=extra_tables,
    )


def _register_challenger(challenger, params, definition, settings, segments):
    """Log and register the challenger with alias ``challenger``; None when it is disabled."""
    if challenger is None:
        return None
    from creditlimit.models.registry import log_and_register_challenger
    from creditlimit.models.segments import segment_metric_records

    return log_and_register_challenger(
        challenger,
        tracking_uri=settings.tracking_uri,
        artifact_location=settings.artifact_location,
        experiment=settings.experiment,
        model_name=settings.model_name,
        default_definition=definition.to_dict(),
        params_to_log={"train.challenger": section(params, "train.challenger"),
                       "train.monotone_constraints": section(params, "train.monotone_constraints"),
                       "label": section(params, "label"),
                       "params_hash": params_hash(params, ("train", "label", "features"))},
        extra_metrics=segment_metric_records(segments.get("challenger", {}), prefix="segment."),
    )


def _write_model_reports(trained, table, params, metrics_path, model_path, settings) -> None:
    """Write the model report (zh_CN and en) to ``report/`` and log it to the candidate's run."""
    from creditlimit.reports.model_report import publish_model_reports

    publish_model_reports(trained=trained, table=table, params=params, metrics_path=metrics_path,
                          model_record=json.loads(model_path.read_text(encoding="utf-8")),
                          out_dir=metrics_path.parent / "report", tracking_uri=settings.tracking_uri)


def _model_record(result, challenger, definition) -> dict:
    record = {
        "name": result.name, "version": str(result.version), "run_id": result.run_id,
        "promoted": bool(result.promoted), "failed_gates": list(result.failed_gates),
        "default_definition": definition.to_dict(),
    }
    if challenger is not None:
        record["challenger"] = {"version": str(challenger.version), "run_id": challenger.run_id,
                                "alias": "challenger"}
    return record


def _report(result, gates, oot, challenger, registered_challenger, search) -> None:
    """Print every gate result and the challenger comparison, then the promotion or raise ModelError."""
    locale = get_locale()
    if search is not None:
        print(translate("train.search_done", trials=len(search.trials), auc=_fmt(search.best_valid_auc),
                        values=json.dumps(search.best_params, sort_keys=True)))
    for gate in gates:
        print(gate.text(locale))
    if challenger is not None:
        challenger_oot = challenger.metrics["oot"]
        print(translate("train.challenger_compare", version=registered_challenger.version,
                        **{k: _fmt(challenger_oot.get(k)) for k in ("auc", "ks", "brier")},
                        **{f"candidate_{k}": _fmt(oot.get(k)) for k in ("auc", "ks", "brier")}))
    if not result.promoted:
        failed = [gate.text(locale) for gate in gates if not gate.passed] or list(result.failed_gates)
        raise ModelError("train.gates_failed", name=result.name, version=result.version,
                         gates=" ".join(failed))
    print(translate("train.done", name=result.name, version=result.version, run_id=result.run_id,
                    alias="champion", **{k: _fmt(oot.get(k)) for k in ("auc", "gini", "ks", "brier")}))


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


def _write_json(path: Path, record: dict) -> None:
    path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{float(value):.4f}"
