"""Stage ``score``: regenerate limits, risk flags and reason codes as of one date."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import logging
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from creditlimit import __version__
from creditlimit.errors import InputDataError, ModelError, ParamsError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.json_logs import announce
from creditlimit.pipelines.mlflow_settings import mlflow_settings
from creditlimit.pipelines.params import load_params, params_hash, section

if TYPE_CHECKING:
    from creditlimit.serving.run_writer import RunWriter

__all__ = ["run", "score_book", "ScoredBook", "print_existing_summary", "output_dir"]

log = logging.getLogger(__name__)

SCORE_PARAM_SECTIONS = ("data.base_currency", "features", "label", "policy", "flags", "explain", "score", "mlflow")
# Params that name where outputs go. They are left out of the params hash and run id.
DESTINATION_KEYS = ("score.database_url", "ledger.database_url", "ledger.archive_dir")
# Scoring later than this after the newest record would treat every open
# invoice as long overdue and every statement as stale.
MAX_DAYS_AFTER_DATA = 62
# Beyond this gap the run goes ahead but warns: a month's payments may be missing.
STALE_DATA_DAYS = 20
ACTIONS = ("increase", "decrease", "hold", "new", "suspend")
# A DuckDB memory size: a number and a unit.
MEMORY_LIMIT = re.compile(r"(\d+(\.\d+)?)\s*(KB|MB|GB|KiB|MiB|GiB)")
MEMORY_UNITS = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
# DuckDB needs room for its buffers even when it spills. Below about 100MB it
# failed on the 3,000-customer demo book, so the cap starts at 256MB.
MIN_FEATURE_MEMORY = 256e6
# Below this many customers per batch, the fixed work of each batch dominates a run.
MIN_BATCH_SIZE = 1000
# Limit columns the end-of-run summary counts.
SUMMARY_LIMIT_COLUMNS = ("action", "effective_on", "as_of", "needs_review", "current_limit", "new_limit")
ENGINES = ("local", "spark")

register({
    "score.stale_data": {
        "en": "Warning: the newest invoice or payment is {last}, {days} days before as of {as_of}. Payments made since are missing, so overdue flags and cuts may be overstated. Load fresh data or score an earlier date.",
        "zh_CN": "警告：最新的发票或付款日期为 {last}，比评估日 {as_of} 早 {days} 天。此后的付款缺失，逾期预警和额度下调可能被高估。请导入最新数据或选择更早的评估日。",
    },
    "score.replay_not_in_ledger": {
        "en": "The replayed run got run id {run_id}, which the decision ledger does not hold: the archived inputs, params or model differ from the original run.",
        "zh_CN": "重放得到的运行编号为 {run_id}，决策台账中没有该编号：归档的输入、参数或模型与原运行不同。",
    },
    "score.summary": {
        "en": (
            "Scored {customers} customers as of {as_of} with {model} version {version}.\n"
            "Limit actions: {increase} increases, {decrease} decreases, {hold} holds, {new} new, "
            "{suspend} suspensions; {pending} cuts wait for their notice period; {review} need review.\n"
            "Total limits {old_total} -> {new_total} {currency}.\n"
            "Risk flags: {flags}.\n"
            "Limits: {limits_path}"
        ),
        "zh_CN": (
            "已按 {as_of} 为 {customers} 个客户评分，模型 {model} 第 {version} 版。\n"
            "额度调整：上调 {increase} 户，下调 {decrease} 户，维持 {hold} 户，新授信 {new} 户，"
            "暂停 {suspend} 户；其中 {pending} 户的下调或暂停在通知期满后生效；{review} 户需复核。\n"
            "额度总额 {old_total} -> {new_total} {currency}。\n"
            "风险预警：{flags}。\n"
            "额度文件：{limits_path}"
        ),
    },
    "score.no_flags": {"en": "none", "zh_CN": "无"},
    "score.unknown_engine": {
        "en": "--engine must be one of {known}; got {engine!r}.",
        "zh_CN": "--engine 必须是 {known} 之一；实际为 {engine!r}。",
    },
    "score.no_customers": {
        "en": "No customer was onboarded before {as_of} in {clean_dir}; nothing to score. Check --as-of or the input data.",
        "zh_CN": "{clean_dir} 中没有在 {as_of} 之前建立合作的客户，无可评分对象。请检查 --as-of 或输入数据。",
    },
    "score.definition_mismatch": {
        "en": "Model {model} version {version} was trained with the default definition {model_definition}, but params.yaml section 'label' is {params_definition}. Score with a model trained under the same definition (see --model-alias) or restore the label section.",
        "zh_CN": "模型 {model} 第 {version} 版训练时的违约定义为 {model_definition}，但 params.yaml 的 label 部分为 {params_definition}。请使用按相同定义训练的模型（见 --model-alias），或恢复 label 参数。",
    },
    "score.currency_mismatch": {
        "en": "The validated tables in {clean_dir} are in {data_currency}, but params data.base_currency is {params_currency}. Run `creditlimit validate` again with the same base currency.",
        "zh_CN": "{clean_dir} 中已校验数据表的币种为 {data_currency}，但参数 data.base_currency 为 {params_currency}。请用相同的本位币重新运行 `creditlimit validate`。",
    },
    "score.as_of_outside_data": {
        "en": "--as-of {as_of} is outside the data in {clean_dir}: records run from {first} to {last}. Choose a date after {first} and at most {max_gap_days} days after {last}, or load newer data.",
        "zh_CN": "--as-of {as_of} 超出 {clean_dir} 中数据的范围：记录日期为 {first} 至 {last}。请选择 {first} 之后、且不晚于 {last} 之后 {max_gap_days} 天的日期，或导入更新的数据。",
    },
    "score.invalid_param": {
        "en": "Parameter score.{name} must be a whole number >= 1; got {value!r}.",
        "zh_CN": "参数 score.{name} 必须是大于等于 1 的整数；实际为 {value!r}。",
    },
    "score.invalid_batch_size": {
        "en": ("Parameter score.batch_size must be a whole number of at least {minimum}; got {value!r}. "
               "Every batch adds about a second of fixed work, so tiny batches make a run take hours. "
               "Use 50000, or less when memory is short (see docs/operations.md)."),
        "zh_CN": ("参数 score.batch_size 必须是不小于 {minimum} 的整数；实际为 {value!r}。"
                  "每个批次都有约一秒的固定开销，批次过小会使一次运行耗时数小时。"
                  "请使用 50000；内存不足时可适当减小（见 docs/operations.zh-CN.md）。"),
    },
    "score.invalid_memory_limit": {
        "en": "Parameter score.feature_memory_limit must be a size such as 1GB or 512MB, at least 256MB; got {value!r}. It caps DuckDB's memory while the features are built; DuckDB spills to disk beyond it.",
        "zh_CN": "参数 score.feature_memory_limit 必须是 1GB 或 512MB 这样的大小，且不小于 256MB；实际为 {value!r}。它限制构建特征时 DuckDB 使用的内存，超出部分由 DuckDB 写入磁盘。",
    },
    "score.feature_memory_too_small": {
        "en": "Building the features ran out of the memory score.feature_memory_limit allows ({limit}): {detail}. Raise score.feature_memory_limit in params.yaml (1GB suits a million customers).",
        "zh_CN": "构建特征时超出了 score.feature_memory_limit 允许的内存（{limit}）：{detail}。请在 params.yaml 中调高 score.feature_memory_limit（一百万客户用 1GB 即可）。",
    },
    "score.invalid_previous_as_of": {
        "en": (
            "Parameter score.previous_as_of must be a date YYYY-MM-DD before score.as_of ({as_of}), "
            "or null; got {value!r}. The demo scores that earlier date first, so runs can be compared."
        ),
        "zh_CN": (
            "参数 score.previous_as_of 必须是早于 score.as_of（{as_of}）的 YYYY-MM-DD 日期，或为 null；"
            "实际为 {value!r}。演示流程会先对该日期评分，以便比较前后两次结果。"
        ),
    },
    "score.no_run": {
        "en": "No scoring output for {as_of} in {path}. Run `creditlimit score --as-of {as_of}` first.",
        "zh_CN": "{path} 中没有 {as_of} 的评分结果。请先运行 `creditlimit score --as-of {as_of}`。",
    },
})


def output_dir(scores_root: Path, as_of: dt.date) -> Path:
    """Folder of the run for ``as_of``."""
    return scores_root / f"as_of={as_of.isoformat()}"


@dataclass(frozen=True)
class ScoredBook:
    """One scoring of the whole book, held in memory: the scorer's result and its manifest."""

    result: Any
    manifest: dict[str, Any]
    base_currency: str
    timings: dict[str, float]


def run(*, params_path: Path, as_of: dt.date | None, clean_dir: Path, scores_root: Path,
        model_alias: str | None, engine: str = "local", model_version: int | None = None,
        replay: bool = False) -> Path:
    """Score every customer as of ``as_of`` under the run lock of ``scores_root``.

    See :func:`score_and_publish`; the lock (exit code 5 when another run holds
    it) keeps two runs from writing the same outputs.
    """
    from creditlimit.pipelines.run_lock import run_lock

    command = f"creditlimit score --as-of {as_of.isoformat() if as_of else 'score.as_of'}"
    with run_lock(scores_root, command=command):
        return score_and_publish(params_path=params_path, as_of=as_of, clean_dir=clean_dir,
                                 scores_root=scores_root, model_alias=model_alias, engine=engine,
                                 model_version=model_version, replay=replay)


def score_and_publish(*, params_path: Path, as_of: dt.date | None, clean_dir: Path, scores_root: Path,
                      model_alias: str | None, engine: str = "local", model_version: int | None = None,
                      replay: bool = False) -> Path:
    """Score every customer as of ``as_of`` and publish the outputs atomically.

    ``engine`` is ``local`` (DuckDB and pandas in this process, batch by batch,
    see :func:`score_book_in_batches`) or ``spark``
    (:mod:`creditlimit.serving.spark_engine`); both give the same outputs.
    ``model_version`` pins the registered version instead of the alias's current
    one, and ``replay`` only looks the run's decisions up in the ledger instead of
    appending them (both for ``creditlimit replay``).
    """
    from creditlimit.serving.approvals import effective_limits
    from creditlimit.serving.ledger_settings import LedgerSettings
    from creditlimit.serving.previous_run import previous_run_manifest
    from creditlimit.serving.publish import atomic_output_dir, write_manifest
    from creditlimit.serving.run_writer import RunWriter

    params = load_params(params_path)
    score_params = section(params, "score")
    _check_previous_as_of(score_params)
    as_of = as_of or dt.date.fromisoformat(str(score_params["as_of"]))
    if engine not in ENGINES:
        raise ParamsError("score.unknown_engine", engine=engine, known=", ".join(ENGINES))
    extra = {} if model_version is None else {"model_version": model_version}
    final_dir = output_dir(scores_root, as_of)
    ledger = LedgerSettings.from_params(params)
    # Order for crash safety: the outputs are written into a temporary folder;
    # archive and ledger come next (both idempotent per run id), then the run
    # folder (one atomic swap), then the database (one transaction).
    with atomic_output_dir(final_dir) as tmp:
        writer = RunWriter(tmp)
        if engine == "spark":
            book = _score_on_spark(params, as_of=as_of, clean_dir=clean_dir, scores_root=scores_root,
                                   model_alias=model_alias, writer=writer, **extra)
        else:
            book = score_book_in_batches(params, as_of=as_of, clean_dir=clean_dir, scores_root=scores_root,
                                         model_alias=model_alias, writer=writer, **extra)
        manifest, timings = book.manifest, dict(book.timings)
        started = time.perf_counter()
        writer.finish()
        timings["write_outputs_s"] = time.perf_counter() - started
        started = time.perf_counter()
        _record_in_ledger(ledger, manifest, clean_dir, tmp / "limits.parquet", replay=replay)
        timings["ledger_s"] = time.perf_counter() - started
        previous = previous_run_manifest(scores_root, as_of)
        if previous is not None:
            manifest["previous_run_id"] = previous.get("run_id")
        # Every params value of the run, so `creditlimit replay` can score it again.
        write_manifest(_without_destinations(params), tmp / "params.json", sort_keys=False)
        write_manifest(manifest, tmp / "manifest.json")

    started = time.perf_counter()
    _publish(final_dir, url=str(score_params["database_url"]), as_of=as_of, run_id=manifest["run_id"],
             effective=effective_limits(ledger.database_url, as_of=as_of))
    timings["publish_s"] = time.perf_counter() - started
    log.info("score run %s timings (s): %s", manifest["run_id"], {k: round(v, 2) for k, v in timings.items()})
    _append_run_log(scores_root, manifest, timings)
    announce(_folder_summary(final_dir, manifest, currency=book.base_currency), as_of=as_of.isoformat(),
             run_id=manifest["run_id"])
    return final_dir


@dataclass(frozen=True)
class WrittenBook:
    """One scoring of the whole book, handed to a :class:`RunWriter`: its manifest and timings."""

    manifest: dict[str, Any]
    base_currency: str
    timings: dict[str, float]


def score_book_in_batches(params: Mapping[str, Any], *, as_of: dt.date, clean_dir: Path, scores_root: Path,
                          model_alias: str | None, writer: RunWriter,
                          model_version: int | None = None) -> WrittenBook:
    """Score every customer as of ``as_of`` in batches of ``score.batch_size``, handing each batch to ``writer``.

    The features go to a Parquet file in the writer's folder first
    (:func:`creditlimit.features.batches.write_feature_batches`), and each batch is
    scored with the previous run's rows of its customers
    (:func:`creditlimit.serving.batch_scorer.score_batches`), so memory follows the
    batch size. The outputs equal those of :func:`score_book` in the order of the
    batches; a book of at most one batch comes out in customer order.
    """
    import duckdb

    from creditlimit.features.batches import write_feature_batches
    from creditlimit.features.quarantine import quarantine_summary
    from creditlimit.serving.batch_scorer import score_batches
    from creditlimit.serving.previous_run import find_previous_run, previous_run_manifest
    from creditlimit.serving.run_writer import PARTS_FOLDER

    setup = ScoringSetup.from_params(params, model_alias)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    table_paths, con = _open_clean_tables(setup, clean_dir, as_of)
    feature_file = writer.folder / PARTS_FOLDER / "features_in.parquet"
    feature_file.parent.mkdir(parents=True, exist_ok=True)
    _limit_memory(con, setup.feature_memory_limit, spill_dir=feature_file.parent / "duckdb")
    try:
        batches = write_feature_batches(con, as_of, feature_file, max_statement_age_months=setup.max_statement_age_months,
                                        recent_months=setup.flag_params.recent_months, batch_size=setup.batch_size)
    except duckdb.OutOfMemoryException as error:
        raise ParamsError("score.feature_memory_too_small", limit=setup.feature_memory_limit,
                          detail=str(error).splitlines()[0]) from error
    finally:
        con.close()
    if batches.customers == 0:
        raise InputDataError("score.no_customers", as_of=as_of, clean_dir=clean_dir)
    quarantine = quarantine_summary(clean_dir.parent / "quarantine", as_of)
    timings["features_s"] = time.perf_counter() - started

    started = time.perf_counter()
    model = load_checked_model(params, setup, batches.read(0), clean_dir, model_version)
    timings["model_load_s"] = time.perf_counter() - started

    manifest = _manifest(params, as_of=as_of, alias=setup.alias, model=model, table_paths=table_paths)
    summary = score_batches(
        batches, writer, load_previous=functools.partial(find_previous_run, scores_root, as_of),
        flag_params=setup.flag_params, master_scale=setup.master_scale, policy=setup.policy, as_of=as_of,
        base_currency=setup.base_currency, model=model.python_model, run_id=manifest["run_id"],
        model_version=str(model.version), top_k=setup.top_k, batch_size=setup.batch_size,
        explain_params=setup.explain_params, quarantine=quarantine,
    )
    feature_file.unlink()
    timings.update(summary.timings)
    manifest["row_counts"] = {"customers": summary.rows.get("limits", 0), "actions": summary.actions,
                              "flags": summary.flags, "explanation_rows": summary.rows.get("explanations", 0)}
    previous = previous_run_manifest(scores_root, as_of)
    if previous is not None:
        manifest["previous_as_of"] = previous["as_of"]
    return WrittenBook(manifest=manifest, base_currency=setup.base_currency, timings=timings)


def _score_on_spark(params: Mapping[str, Any], *, as_of: dt.date, clean_dir: Path, scores_root: Path,
                    model_alias: str | None, writer: RunWriter, model_version: int | None = None) -> WrittenBook:
    """Score the book on Spark (in memory on the driver) and hand its tables to ``writer``."""
    from creditlimit.serving.previous_run import find_previous_run
    from creditlimit.serving.spark_engine import score_book_spark

    extra = {} if model_version is None else {"model_version": model_version}
    book = score_book_spark(params, as_of=as_of, clean_dir=clean_dir, model_alias=model_alias,
                            previous=find_previous_run(scores_root, as_of), **extra)
    result = book.result
    for name, frame in (("limits", result.limits), ("explanations", result.explanations), ("flags", result.flags),
                        *sorted(result.extra.items())):
        writer.add(name, frame)
    return WrittenBook(manifest=book.manifest, base_currency=book.base_currency, timings=book.timings)


def score_book(params: Mapping[str, Any], *, as_of: dt.date, clean_dir: Path, model_alias: str | None,
               previous=None, model_version: int | None = None, what_if: bool = False) -> ScoredBook:
    """Score every customer as of ``as_of`` under ``params`` without writing anything.

    The stage publishes the result; ``creditlimit simulate`` compares two of them.
    """
    from creditlimit.features.quarantine import quarantine_summary
    from creditlimit.features.recent_behaviour import recent_behaviour
    from creditlimit.features.snapshots import build_features
    from creditlimit.serving.scorer import score_portfolio

    setup = ScoringSetup.from_params(params, model_alias)
    timings: dict[str, float] = {}

    started = time.perf_counter()
    table_paths, con = _open_clean_tables(setup, clean_dir, as_of)
    features = build_features(con, [as_of], max_statement_age_months=setup.max_statement_age_months)
    if features.empty:
        raise InputDataError("score.no_customers", as_of=as_of, clean_dir=clean_dir)
    # Flag inputs beside the features: recent behaviour and quarantined rows.
    recent = recent_behaviour(con, as_of, months=setup.flag_params.recent_months)
    features = features.merge(recent, on="customer_id", how="left", validate="one_to_one")
    quarantine = quarantine_summary(clean_dir.parent / "quarantine", as_of)
    timings["features_s"] = time.perf_counter() - started

    started = time.perf_counter()
    # A what-if run publishes nothing, so it may try a model that is not gated (a challenger).
    model = load_checked_model(params, setup, features, clean_dir, model_version, require_passed_gates=not what_if)
    timings["model_load_s"] = time.perf_counter() - started

    manifest = _manifest(params, as_of=as_of, alias=setup.alias, model=model, table_paths=table_paths)
    result = score_portfolio(
        features, model=model.python_model, master_scale=setup.master_scale, policy=setup.policy,
        flag_params=setup.flag_params, as_of=as_of, run_id=manifest["run_id"],
        model_version=str(model.version), top_k=setup.top_k, batch_size=setup.batch_size,
        base_currency=setup.base_currency, previous=previous, explain_params=setup.explain_params,
        quarantine=quarantine,
    )
    timings.update(result.timings)
    manifest["row_counts"] = _row_counts(result)
    if previous is not None:
        manifest["previous_as_of"] = previous.as_of.isoformat()
    return ScoredBook(result=result, manifest=manifest, base_currency=setup.base_currency, timings=timings)


@dataclass(frozen=True)
class ScoringSetup:
    """The validated params of a scoring run, read once for every engine."""

    alias: str
    policy: Any
    flag_params: Any
    explain_params: Any
    master_scale: Any
    mlflow: Any
    top_k: int
    batch_size: int
    base_currency: str
    definition: dict
    max_statement_age_months: int
    feature_memory_limit: str

    @classmethod
    def from_params(cls, params: Mapping[str, Any], model_alias: str | None) -> ScoringSetup:
        from creditlimit.features.labels import LabelDefinition
        from creditlimit.models.master_scale import MasterScale
        from creditlimit.serving.explain_params import ExplainParams
        from creditlimit.serving.flags import FlagParams
        from creditlimit.serving.policy import PolicyParams

        score_params = section(params, "score")
        return cls(
            alias=model_alias or str(score_params["model_alias"]),
            policy=PolicyParams.from_mapping(section(params, "policy")),
            flag_params=FlagParams.from_mapping(section(params, "flags")),
            explain_params=ExplainParams.from_mapping(section(params, "explain")),
            master_scale=MasterScale.from_mapping(section(params, "policy")),
            mlflow=mlflow_settings(params),
            top_k=_positive_int(score_params, "top_reasons"),
            batch_size=_batch_size(score_params),
            base_currency=str(section(params, "data.base_currency")),
            definition=LabelDefinition.from_mapping(section(params, "label")).to_dict(),
            max_statement_age_months=int(section(params, "features.max_statement_age_months")),
            feature_memory_limit=_memory_limit(score_params),
        )


def load_checked_model(params: Mapping[str, Any], setup: ScoringSetup, features: pd.DataFrame, clean_dir: Path,
                       version: int | None, *, require_passed_gates: bool = True):
    """Check and load the registered model; ``features`` (a sample of rows is enough) checks the signature.

    Gate tags, file location and signature are checked before the pyfunc is unpickled.
    """
    from creditlimit.serving.model_guard import load_guarded_model

    model = load_guarded_model(
        tracking_uri=setup.mlflow.tracking_uri, model_name=setup.mlflow.model_name, alias=setup.alias,
        artifact_location=setup.mlflow.artifact_location, features=features,
        data_dirs=(clean_dir, section(params, "data").get("raw_dir", clean_dir)),
        version=version, require_passed_gates=require_passed_gates,
    )
    if model.python_model.default_definition != setup.definition:
        raise ModelError("score.definition_mismatch", model=model.name, version=model.version,
                         model_definition=model.python_model.default_definition,
                         params_definition=setup.definition)
    return model


def _check_previous_as_of(score_params: Mapping[str, Any]) -> None:
    """Reject a ``score.previous_as_of`` that is not a date before ``score.as_of``."""
    value = score_params.get("previous_as_of")
    if value is None:
        return
    as_of = str(score_params["as_of"])
    try:
        valid = dt.date.fromisoformat(str(value)) < dt.date.fromisoformat(as_of)
    except ValueError:
        valid = False
    if not valid:
        raise ParamsError("score.invalid_previous_as_of", as_of=as_of, value=value)


def print_existing_summary(*, params_path: Path, as_of: dt.date | None, scores_root: Path) -> None:
    """Print the summary of a finished run (used by ``make demo``)."""
    params = load_params(params_path)
    as_of = as_of or dt.date.fromisoformat(str(section(params, "score.as_of")))
    folder = output_dir(scores_root, as_of)
    if not (folder / "manifest.json").is_file():
        raise InputDataError("score.no_run", as_of=as_of, path=scores_root)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    print(_folder_summary(folder, manifest, currency=str(section(params, "data.base_currency"))))


def _folder_summary(folder: Path, manifest: Mapping[str, Any], *, currency: str) -> str:
    """Render the summary of the run in ``folder``, reading only the columns it counts."""
    import pyarrow.parquet as pq

    limits = pq.read_table(folder / "limits.parquet", columns=list(SUMMARY_LIMIT_COLUMNS)).to_pandas(
        date_as_object=False)
    flags = pq.read_table(folder / "flags.parquet", columns=["code"]).to_pandas()
    return summary_text(limits, flags, manifest, folder / "limits.parquet", currency=currency)


def summary_text(limits: pd.DataFrame, flags: pd.DataFrame, manifest: Mapping[str, Any],
                 limits_path: Path, *, currency: str) -> str:
    """Render the end-of-run summary in the active locale."""
    actions = limits["action"].value_counts()
    pending = int((limits["effective_on"] > limits["as_of"]).sum())
    flag_counts = flags["code"].value_counts().sort_index()
    flag_text = ", ".join(f"{code} {count}" for code, count in flag_counts.items())
    return translate(
        "score.summary",
        customers=len(limits), as_of=manifest["as_of"], model=manifest["model"]["name"],
        version=manifest["model"]["version"], pending=pending,
        review=int(limits["needs_review"].sum()),
        old_total=f"{limits['current_limit'].sum():,.0f}",
        new_total=f"{limits['new_limit'].sum():,.0f}", currency=currency,
        flags=flag_text or translate("score.no_flags"), limits_path=limits_path,
        **{action: int(actions.get(action, 0)) for action in ACTIONS},
    )


def _positive_int(score_params: Mapping[str, Any], name: str) -> int:
    value = score_params.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ParamsError("score.invalid_param", name=name, value=value)
    return value


def _open_clean_tables(setup: ScoringSetup, clean_dir: Path, as_of: dt.date) -> tuple[dict[str, Path], Any]:
    """Check the clean tables' currency and dates against the run, and open them in DuckDB.

    Returns the table paths (for the manifest) and the DuckDB connection.
    """
    from creditlimit.features.tables import clean_table_paths, connect_tables

    _check_currency(clean_dir, setup.base_currency)
    table_paths = clean_table_paths(clean_dir)
    con = connect_tables(table_paths)
    _check_as_of_in_data(con, as_of, clean_dir)
    return table_paths, con


def _batch_size(score_params: Mapping[str, Any]) -> int:
    value = score_params.get("batch_size")
    if isinstance(value, bool) or not isinstance(value, int) or value < MIN_BATCH_SIZE:
        raise ParamsError("score.invalid_batch_size", value=value, minimum=MIN_BATCH_SIZE)
    return value


def _memory_limit(score_params: Mapping[str, Any]) -> str:
    value = score_params.get("feature_memory_limit")
    match = MEMORY_LIMIT.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None or float(match.group(1)) * MEMORY_UNITS[match.group(3)] < MIN_FEATURE_MEMORY:
        raise ParamsError("score.invalid_memory_limit", value=value)
    return value.strip()


def _limit_memory(con, limit: str, *, spill_dir: Path) -> None:
    """Cap DuckDB's memory for the feature build; beyond it DuckDB spills to ``spill_dir``."""
    con.execute(f"SET memory_limit = '{limit}'")
    con.execute(f"SET temp_directory = '{str(spill_dir).replace(chr(39), chr(39) * 2)}'")


def _check_currency(clean_dir: Path, base_currency: str) -> None:
    """Reject clean tables converted to another base currency than params names."""
    report_path = clean_dir.parent / "validation_report.json"
    if not report_path.is_file():
        return
    data_currency = json.loads(report_path.read_text(encoding="utf-8")).get("base_currency")
    if data_currency and data_currency != base_currency:
        raise InputDataError("score.currency_mismatch", clean_dir=clean_dir,
                             data_currency=data_currency, params_currency=base_currency)


def _check_as_of_in_data(con, as_of: dt.date, clean_dir: Path) -> None:
    """Reject an as_of before the first invoice or long after the newest record."""
    first, last = con.execute(
        "SELECT min(issued_on), greatest(max(issued_on), (SELECT max(paid_on) FROM payments)) FROM invoices"
    ).fetchone()
    if first is None:
        return
    too_late = (as_of - last).days > MAX_DAYS_AFTER_DATA
    if as_of <= first or too_late:
        raise InputDataError("score.as_of_outside_data", as_of=as_of, clean_dir=clean_dir, first=first,
                             last=last, max_gap_days=MAX_DAYS_AFTER_DATA)
    gap_days = (as_of - last).days
    if gap_days > STALE_DATA_DAYS:
        # Missing recent payments read as overdue invoices, so flags and cuts rise.
        log.warning("newest record %s is %d days before as_of %s", last, gap_days, as_of)
        announce(translate("score.stale_data", as_of=as_of, last=last, days=gap_days), warning=True)


def _manifest(params, *, as_of, alias, model, table_paths) -> dict[str, Any]:
    from creditlimit.serving.archive import hash_interim_files

    interim_dir = _interim_dir(table_paths)
    interim_files = hash_interim_files(interim_dir)
    # Paths relative to the interim folder, so a replay from the archive records the same manifest.
    inputs = {name: {"path": path.relative_to(interim_dir).as_posix(),
                     "sha256": interim_files[path.relative_to(interim_dir).as_posix()]}
              for name, path in sorted(table_paths.items())}
    model_record = {"name": model.name, "version": str(model.version), "run_id": model.run_id,
                    "uri": model.uri, "alias": alias,
                    "default_definition": model.python_model.default_definition}
    phash = params_hash(_without_destinations(params), SCORE_PARAM_SECTIONS + ("ledger",))
    identity = json.dumps({"as_of": as_of.isoformat(), "model": model_record, "params": phash,
                           "interim_files": interim_files}, sort_keys=True)
    return {
        "run_id": hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16],
        "as_of": as_of.isoformat(),
        "model": model_record,
        "params_hash": phash,
        "policy_version": str(section(params, "policy.version")),
        "scale_version": str(section(params, "policy.scale_version")),
        "inputs": inputs,
        "raw_inputs": _raw_inputs(interim_dir),
        "interim_files": interim_files,
        "code_version": _code_version(),
    }


def _raw_inputs(interim_dir: Path) -> dict[str, Any]:
    """Return each table's raw source and its hash, as validation recorded them (empty when not recorded)."""
    report = interim_dir / "validation_report.json"
    if not report.is_file():
        return {}
    tables = json.loads(report.read_text(encoding="utf-8")).get("tables", {})
    return {name: {"source": table.get("source"), "sha256": table.get("sha256")}
            for name, table in sorted(tables.items()) if "source" in table}


def _interim_dir(table_paths: Mapping[str, Path]) -> Path:
    """Return the folder above the clean tables, which also contains the quarantine files and the validation report."""
    return Path(next(iter(table_paths.values()))).parent.parent


def _without_destinations(params: Mapping[str, Any]) -> dict[str, Any]:
    """Copy ``params`` without the database URLs, archive folder and file path: they do not change outputs."""
    copied = json.loads(json.dumps(params, default=str))
    copied.pop("_path", None)
    for name in DESTINATION_KEYS:
        *parents, leaf = name.split(".")
        target = copied
        for part in parents:
            target = target.get(part, {})
        if isinstance(target, dict):
            target.pop(leaf, None)
    return copied


def _code_version() -> str:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"{__version__}+{commit}"


def _row_counts(result) -> dict[str, Any]:
    return {
        "customers": int(len(result.limits)),
        "actions": {a: int(n) for a, n in result.limits["action"].value_counts().sort_index().items()},
        "flags": {c: int(n) for c, n in result.flags["code"].value_counts().sort_index().items()},
        "explanation_rows": int(len(result.explanations)),
    }


def _append_run_log(scores_root: Path, manifest: Mapping[str, Any], timings: Mapping[str, float]) -> None:
    """Append the run's timings to ``run_log.jsonl`` beside the run folders.

    Timings differ on every run, so they stay out of the manifest, whose bytes must
    be identical when the same inputs, params and model are scored again.
    """
    record = {"run_id": manifest["run_id"], "as_of": manifest["as_of"],
              "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "row_counts": manifest["row_counts"],
              "timings_s": {name: round(value, 3) for name, value in timings.items()}}
    with (scores_root / "run_log.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")


def _record_in_ledger(ledger, manifest: dict[str, Any], clean_dir: Path, limits_path: Path, *,
                      replay: bool) -> None:
    """Archive the run's inputs and append its decisions to the ledger (replay only looks them up)."""
    from creditlimit.serving.approvals import find_run_anchor, record_run_decisions
    from creditlimit.serving.archive import archive_files
    from creditlimit.serving.run_writer import parquet_batches

    archive_files(clean_dir.parent, manifest["interim_files"], ledger.archive_dir)
    if replay:
        manifest["ledger"] = find_run_anchor(ledger.database_url, manifest["run_id"])
        if manifest["ledger"] is None:
            raise InputDataError("score.replay_not_in_ledger", run_id=manifest["run_id"])
    else:
        manifest["ledger"] = record_run_decisions(ledger.database_url, parquet_batches(limits_path),
                                                  run_id=manifest["run_id"], made_by=ledger.made_by,
                                                  params=ledger.approvals)


def _publish(folder: Path, *, url: str, as_of: dt.date, run_id: str, effective: pd.DataFrame) -> None:
    """Publish the run's files in ``folder`` to the database, one row group at a time."""
    from creditlimit.serving.publish import publish_to_database
    from creditlimit.serving.run_writer import parquet_batches

    reasons = (part[part["text_en"].notna()] for part in parquet_batches(folder / "explanations.parquet"))
    publish_to_database(url, {"credit_limits": parquet_batches(folder / "limits.parquet"),
                              "risk_flags": parquet_batches(folder / "flags.parquet"),
                              "reason_codes": reasons,
                              "effective_limits": effective.rename(columns={"as_of": "decided_as_of"})},
                        as_of=as_of, run_id=run_id)
