"""Score the book on Spark: the same features, model, policy, flags and reasons as the local engine.

``creditlimit score --engine spark`` runs :func:`score_book_spark` in place of
:func:`creditlimit.pipelines.score.score_book`. The steps:

1. Features: the local engine's DuckDB SQL, transpiled to Spark SQL over the
   clean Parquet tables (:mod:`creditlimit.features.spark_features`).
2. Model: the registered champion is checked by
   :func:`creditlimit.serving.model_guard.load_guarded_model`, then PD and raw
   margin come from ``mlflow.pyfunc.spark_udf`` on that exact version.
3. Grades, limits, flags, reason codes, change summaries and restoring changes
   come from the product's own functions, run by ``groupBy(bucket).applyInPandas``.
   Customers are bucketed by group (a customer outside a group by its own id), so
   every group is capped with all its members present.
4. Concentration, the one portfolio-wide flag, uses the portfolio's customer
   count and total open exposure from a Spark aggregation.

The per-customer results of every bucket come back to the driver as Arrow
payloads and are written by the stage's own writer in one atomic step, as the
local engine's are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import os
import pickle
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from creditlimit.errors import InputDataError

__all__ = ["SESSION_CONF", "spark_session", "score_book_spark"]

logger = logging.getLogger(__name__)

# DuckDB's semantics where Spark's defaults differ: a division by zero is NULL,
# not an error, and dates are plain calendar days.
SESSION_CONF = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
MASTER_ENV = "CREDITLIMIT_SPARK_MASTER"
_PAYLOAD_SCHEMA = "table string, payload binary"
_BUCKET = "_bucket"


def spark_session(app_name: str = "creditlimit-score"):
    """Return the active Spark session, or start one.

    Under ``spark-submit`` the master comes from its ``--master``; otherwise from
    the ``CREDITLIMIT_SPARK_MASTER`` environment variable (default ``local[*]``).
    Other settings come from ``spark-defaults.conf`` in ``SPARK_CONF_DIR``.
    """
    from pyspark import SparkConf
    from pyspark.sql import SparkSession

    # Spark workers start the python found on PATH unless PYSPARK_PYTHON names one.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    if not SparkConf().contains("spark.master"):
        builder = builder.master(os.environ.get(MASTER_ENV, "local[*]"))
    for key, value in SESSION_CONF.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


@dataclass(frozen=True)
class _BucketContext:
    """Everything a bucket needs besides its rows; broadcast once to the executors.

    ``model_texts`` carries the model's artifact files, because the pyfunc pickles
    without its fitted state. Each executor rebuilds ``model`` from them.
    """

    model_texts: dict[str, str]
    model: Any
    master_scale: Any
    policy: Any
    flag_params: Any
    explain_params: Any
    quarantine: pd.DataFrame | None
    previous: Any
    as_of: dt.date
    run_id: str
    model_version: str
    top_k: int
    batch_size: int
    base_currency: str


def score_book_spark(params: Mapping[str, Any], *, as_of: dt.date, clean_dir: Path, model_alias: str | None,
                     previous=None, model_version: int | None = None, spark=None):
    """Score every customer as of ``as_of`` on Spark; same inputs and result as ``score_book``.

    ``model_version`` pins a registered version instead of the alias's current one.

    Returns
    -------
    creditlimit.pipelines.score.ScoredBook
    """
    from creditlimit.features.quarantine import quarantine_summary
    from creditlimit.pipelines import score as stage

    setup = stage.ScoringSetup.from_params(params, model_alias)
    spark = spark or spark_session()
    timings: dict[str, float] = {}

    started = time.perf_counter()
    stage._check_currency(clean_dir, setup.base_currency)
    features, table_paths = _features(spark, clean_dir, as_of, setup)
    features = features.localCheckpoint(eager=True)
    customers = features.count()
    if customers == 0:
        raise InputDataError("score.no_customers", as_of=as_of, clean_dir=clean_dir)
    quarantine = quarantine_summary(clean_dir.parent / "quarantine", as_of)
    timings["features_s"] = time.perf_counter() - started

    started = time.perf_counter()
    model = _load_model(params, setup, features, clean_dir, model_version)
    timings["model_load_s"] = time.perf_counter() - started

    started = time.perf_counter()
    manifest = stage._manifest(params, as_of=as_of, alias=setup.alias, model=model, table_paths=table_paths)
    predicted = _predict(spark, features, model, setup.mlflow.tracking_uri)
    context = _BucketContext(
        model_texts=_model_texts(model.python_model), model=None, master_scale=setup.master_scale, policy=setup.policy,
        flag_params=dataclasses.replace(setup.flag_params, concentration_min_customers=sys.maxsize),
        explain_params=setup.explain_params, quarantine=quarantine, previous=previous, as_of=as_of,
        run_id=manifest["run_id"], model_version=str(model.version), top_k=setup.top_k,
        batch_size=setup.batch_size, base_currency=setup.base_currency,
    )
    tables = _score_buckets(spark, predicted, context)
    concentration = _concentration_flags(features, setup.flag_params, as_of, setup.base_currency)
    result = _result(tables, concentration, context, timings)
    timings["model_policy_and_explanations_s"] = time.perf_counter() - started

    manifest["row_counts"] = stage._row_counts(result)
    if previous is not None:
        manifest["previous_as_of"] = previous.as_of.isoformat()
    logger.info("spark engine scored %d customers: %s", customers, {k: round(v, 2) for k, v in timings.items()})
    return stage.ScoredBook(result=result, manifest=manifest, base_currency=setup.base_currency,
                            timings=timings)


def _load_model(params: Mapping[str, Any], setup, features, clean_dir: Path, version: int | None):
    """Check and load the champion as the local engine does; the signature check reads a sample of rows."""
    from creditlimit.features.spark_features import FEATURE_COLUMNS, fix_feature_dtypes
    from creditlimit.pipelines.score import load_checked_model

    sample = fix_feature_dtypes(features.select(*FEATURE_COLUMNS).limit(200).toPandas())
    return load_checked_model(params, setup, sample, clean_dir, version)


def _features(spark, clean_dir: Path, as_of: dt.date, setup):
    """Register the clean tables and build the features; the same checks as the local engine."""
    from creditlimit.features.spark_features import register_clean_tables, spark_features
    from creditlimit.features.spark_sql import SparkSQL
    from creditlimit.features.tables import clean_table_paths
    from creditlimit.pipelines.score import _check_as_of_in_data

    table_paths = clean_table_paths(clean_dir)
    sql = SparkSQL(spark)
    register_clean_tables(sql, table_paths)
    _check_as_of_in_data(sql, as_of, clean_dir)
    features = spark_features(sql, as_of, max_statement_age_months=setup.max_statement_age_months,
                              recent_months=setup.flag_params.recent_months)
    return features, table_paths


def _predict(spark, features, model, tracking_uri: str):
    """Add ``pd_12m`` and ``raw_margin`` from ``mlflow.pyfunc.spark_udf`` on the checked model version."""
    import mlflow
    from pyspark.sql import functions as F

    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(tracking_uri)
    predict = mlflow.pyfunc.spark_udf(spark, model.uri, result_type="pd_12m double, raw_margin double",
                                      env_manager="local")
    inputs = F.struct(*[F.col(name) for name in model.python_model.feature_names])
    predicted = features.withColumn("_prediction", predict(inputs))
    return predicted.select("*", "_prediction.pd_12m", "_prediction.raw_margin").drop("_prediction")


def _score_buckets(spark, predicted, context: _BucketContext) -> dict[str, list[pd.DataFrame]]:
    """Run the per-customer steps bucket by bucket; return each output table's parts."""
    from pyspark import cloudpickle
    from pyspark.sql import functions as F

    buckets = int(spark.conf.get("spark.sql.shuffle.partitions"))
    key = F.coalesce(F.col("group_id"), F.concat(F.lit("customer:"), F.col("customer_id")))
    bucketed = predicted.withColumn(_BUCKET, F.pmod(F.xxhash64(key), F.lit(buckets)))
    # cloudpickle, because the params contain read-only mappings that plain pickle rejects.
    shared = spark.sparkContext.broadcast(cloudpickle.dumps(context))

    def score(frame: pd.DataFrame) -> pd.DataFrame:
        shipped = pickle.loads(shared.value)
        return _score_bucket(frame.drop(columns=[_BUCKET]),
                             dataclasses.replace(shipped, model=_rebuild_model(shipped.model_texts)))

    rows = bucketed.groupBy(_BUCKET).applyInPandas(score, schema=_PAYLOAD_SCHEMA).collect()
    tables: dict[str, list[pd.DataFrame]] = {}
    for row in rows:
        tables.setdefault(row["table"], []).append(_from_payload(row["payload"]))
    return tables


def _model_texts(model) -> dict[str, str]:
    """Read the model's artifact files as text."""
    with tempfile.TemporaryDirectory() as folder:
        paths = model.write_artifacts(folder)
        return {name: Path(path).read_text(encoding="utf-8") for name, path in paths.items()}


def _rebuild_model(texts: dict[str, str]):
    """Rebuild the model on an executor from its artifact texts."""
    from creditlimit.models.pyfunc import BOOSTER_ARTIFACT, SPEC_ARTIFACT, CreditPDModel

    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for name, text in texts.items():
            paths[name] = Path(folder) / name
            paths[name].write_text(text, encoding="utf-8")
        return CreditPDModel.from_artifacts(paths[BOOSTER_ARTIFACT], paths[SPEC_ARTIFACT])


def _score_bucket(frame: pd.DataFrame, context: _BucketContext) -> pd.DataFrame:
    """Score one bucket (whole groups) with the scorer's own steps; one payload row per output table."""
    from creditlimit.features.spark_features import fix_feature_dtypes

    frame = frame.sort_values("customer_id", kind="stable", ignore_index=True)
    features = fix_feature_dtypes(frame)
    scored, top, explanations = _model_outputs(features, frame, context)
    limits, flags, extra = _finish(features, scored, top, explanations, context)
    tables = {"limits": limits, "explanations": explanations, "flags": flags, **extra}
    return pd.DataFrame({"table": list(tables), "payload": [_to_payload(t) for t in tables.values()]})


def _model_outputs(features: pd.DataFrame, frame: pd.DataFrame, context: _BucketContext):
    """Attach the Spark UDF's PD and raw margin and compute SHAP reason codes batch by batch, as the scorer does."""
    from creditlimit.serving.reasons import reason_codes

    model = context.model
    names = list(model.feature_names)
    scored_parts, top_parts, explanation_parts = [], [], []
    for start in range(0, len(features), context.batch_size):
        batch = features.iloc[start:start + context.batch_size]
        raw_margin = frame["raw_margin"].to_numpy(dtype=float)[start:start + context.batch_size]
        X, _ = model.encode(batch)
        contributions, bias = model.contributions(X)
        scored = batch.copy()
        scored["raw_margin"] = raw_margin
        scored["pd_12m"] = frame["pd_12m"].to_numpy(dtype=float)[start:start + context.batch_size]
        reasons = reason_codes(contributions, bias, raw_margin, names, batch[names],
                               batch["customer_id"].to_numpy(), top_k=context.top_k,
                               base_currency=context.base_currency)
        scored_parts.append(scored)
        top_parts.append(reasons.top)
        explanation_parts.append(reasons.explanations)
    return (pd.concat(scored_parts, ignore_index=True), pd.concat(top_parts, ignore_index=True),
            pd.concat(explanation_parts, ignore_index=True))


def _finish(features, scored, top, explanations, context: _BucketContext):
    """Run the scorer's steps after the model on one bucket (see :func:`scorer.finish_scoring`)."""
    from creditlimit.serving.scorer import finish_scoring

    return finish_scoring(
        features, scored, top, explanations, model=context.model, master_scale=context.master_scale,
        policy=context.policy, flag_params=context.flag_params, explain_params=context.explain_params,
        previous=context.previous, quarantine=context.quarantine, as_of=context.as_of, run_id=context.run_id,
        model_version=context.model_version, base_currency=context.base_currency,
    )


def _concentration_flags(features, flag_params, as_of: dt.date, base_currency: str) -> pd.DataFrame:
    """Raise concentration flags against the portfolio's count and total open exposure (Spark aggregates).

    Only the customers at or above the share are collected. The early-warning rule
    itself runs on them plus one row containing the rest of the portfolio's exposure,
    so each share is measured against the whole portfolio's total.
    """
    from pyspark.sql import functions as F

    from creditlimit.serving.early_warning import concentration_flags as concentration_rule

    stats = features.agg(F.count(F.lit(1)).alias("customers"),
                         F.sum("open_exposure").alias("total")).first()
    total = float(stats["total"] or 0.0)
    if stats["customers"] < flag_params.concentration_min_customers or not total > 0:
        return pd.DataFrame()
    share = F.col("open_exposure") / F.lit(total)
    candidates = (features.filter(share >= F.lit(flag_params.concentration_share))
                  .select("customer_id", "open_exposure").toPandas())
    rest = pd.DataFrame({"customer_id": [None],
                         "open_exposure": [total - float(candidates["open_exposure"].sum())]})
    frame = pd.concat([candidates, rest], ignore_index=True)
    params = dataclasses.replace(flag_params, concentration_min_customers=1)
    flags = concentration_rule(frame, params, base_currency)
    flags = flags[flags["customer_id"].notna()].copy()
    flags.insert(1, "as_of", pd.Timestamp(as_of))
    return flags


def _result(tables: dict[str, list[pd.DataFrame]], concentration: pd.DataFrame, context: _BucketContext,
            timings: dict[str, float]):
    """Join the buckets' tables in customer order, add the concentration flags and the grade migration."""
    from creditlimit.serving.migration import grade_migration
    from creditlimit.serving.scorer import ScoreResult, add_portfolio_flags

    joined = {name: _in_customer_order(parts) for name, parts in tables.items()}
    limits, explanations, flags = joined.pop("limits"), joined.pop("explanations"), joined.pop("flags")
    limits, flags = add_portfolio_flags(limits, flags, concentration)
    joined["grade_migration"] = grade_migration(
        limits["customer_id"], limits["grade"], context.previous,
        grade_order=context.master_scale.grade_order, scale_version=context.policy.scale_version,
    )
    return ScoreResult(limits=limits, explanations=explanations, flags=flags, timings=timings, extra=joined)


def _in_customer_order(parts: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.concat(parts, ignore_index=True)
    if "customer_id" not in frame.columns:
        return frame
    keys = [c for c in ("customer_id", "code", "subject") if c in frame.columns] if "code" in frame else ["customer_id"]
    return frame.sort_values(keys, kind="mergesort", ignore_index=True)


def _to_payload(frame: pd.DataFrame) -> bytes:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _from_payload(payload: bytes) -> pd.DataFrame:
    with pa.ipc.open_stream(io.BytesIO(payload)) as reader:
        return reader.read_all().to_pandas()
