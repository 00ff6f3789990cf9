"""Model quality of the product's PD model on public credit data, against its peers.

For each data set the benchmark follows the protocol of its published results:
stratified cross-validation, or a split by evaluation year. It trains the product's
model with the product's own code and, on the same folds, three peers that a risk
modeller would use instead: logistic regression, an optbinning scorecard and
LightGBM with default parameters (see ``quality_models.py``). Metrics come from
``creditlimit.models.metrics``. The product's discrimination (AUC, KS) is measured
on its raw margin, as in the product; Brier, ECE and decisions use its calibrated PD.

Usage::

    .venv/bin/python benchmarks/model_quality.py
    .venv/bin/python benchmarks/model_quality.py --datasets german_credit --quick

The data sets are read from ``../shared/data`` next to the repository root (or
``--data-dir``). The result is printed as a Markdown section for
``benchmarks/RESULTS.md``; ``--json`` also writes every figure, fold by fold.
The run is deterministic: folds, validation parts and LightGBM are seeded and
LightGBM runs on a fixed number of threads.
"""

from __future__ import annotations

import os

# LightGBM's OpenMP threads spin while they wait. On a 2-core machine shared with
# other jobs, that made 100 boosting rounds on 7,000 rows take 40 s instead of 3 s.
# The variable only counts before the OpenMP runtime loads, so before lightgbm.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import logging
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from creditlimit.models.metrics import evaluate  # noqa: E402
from public_datasets import (  # noqa: E402
    DATASETS,
    DEFAULT_DATA_DIR,
    DatasetUnavailableError,
    PublicDataset,
    load_dataset,
)
from quality_models import MODEL_NAMES, ProductSettings, fit_model, with_candidates  # noqa: E402

logger = logging.getLogger("model_quality")

# Statlog cost matrix of the German credit data: accepting a bad costs 5, rejecting
# a good costs 1. The Bayes-optimal rule rejects when PD > 1 / (1 + 5).
GERMAN_COST_BAD_ACCEPTED = 5.0
GERMAN_COST_GOOD_REJECTED = 1.0
GERMAN_PD_THRESHOLD = GERMAN_COST_GOOD_REJECTED / (GERMAN_COST_GOOD_REJECTED + GERMAN_COST_BAD_ACCEPTED)

QUICK_ROWS = 20_000
QUICK_FOLDS = 3


@dataclass(frozen=True)
class Protocol:
    """Evaluation protocol of one data set: its split and the published figures to reach.

    Attributes
    ----------
    n_folds : int or None
        Stratified, seeded k-fold cross-validation; None for a split by period.
    train_periods, test_periods : tuple of int
        Periods (``PublicDataset.period``) of the training and test rows.
    decision : {"error_rate", "cost"} or None
        Decision metric on the pooled test predictions: the error rate of the rule
        "bad when PD > 0.5", or the German average cost with the PD > 1/6 rule.
    calibration_table : bool
        Whether to report predicted against observed default rate by PD decile.
    targets : dict[str, tuple[str, float]]
        Metric name to (``">="`` or ``"<="``, published figure).
    source : str
        Where the published figures come from.
    """

    n_folds: int | None = None
    train_periods: tuple[int, ...] = ()
    test_periods: tuple[int, ...] = ()
    decision: str | None = None
    calibration_table: bool = False
    targets: dict[str, tuple[str, float]] = field(default_factory=dict)
    source: str = ""

    def describe(self) -> str:
        """Return the protocol in one line for the report."""
        if self.n_folds is not None:
            return f"{self.n_folds}-fold stratified CV"
        train = "-".join(str(p) for p in (self.train_periods[0], self.train_periods[-1]))
        return f"train {train}, test {', '.join(map(str, self.test_periods))}"


_BASE = {
    "n_estimators": 3000,
    "learning_rate": 0.05,
    "num_leaves": 15,
    "min_child_samples": 50,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.7,
    "reg_lambda": 1.0,
    "early_stopping_rounds": 100,
}

# The same candidates on every data set, from additive stumps (the shape of a
# scorecard) to LightGBM's default tree shape (31 leaves, 20 rows per leaf). Each
# fold keeps the candidate with the best AUC on its own validation part, never
# looking at the test fold.
_CANDIDATES = (
    {"num_leaves": 2, "min_child_samples": 20},
    {"num_leaves": 4, "min_child_samples": 20},
    {"num_leaves": 15, "min_child_samples": 50},
    {"num_leaves": 31, "min_child_samples": 100},
    {"num_leaves": 31, "min_child_samples": 20},
)

# Polish and Slovak data have few bads, so a quarter of each training fold is kept
# for validation to leave at least 50 bads for the isotonic-or-sigmoid choice.
PRODUCT_SETTINGS: dict[str, ProductSettings] = {
    "give_me_some_credit": ProductSettings(base=_BASE, candidates=_CANDIDATES),
    "polish_1year": ProductSettings(base=_BASE, candidates=_CANDIDATES, valid_fraction=0.25),
    "taiwan_credit_card": ProductSettings(base=_BASE, candidates=_CANDIDATES),
    "german_credit": ProductSettings(base=_BASE, candidates=_CANDIDATES),
    "slovak_sme": ProductSettings(base=_BASE, candidates=_CANDIDATES, valid_fraction=0.25),
}

PROTOCOLS: dict[str, Protocol] = {
    "give_me_some_credit": Protocol(
        n_folds=5,
        targets={"auc": (">=", 0.8696)},
        source="winning Kaggle private-leaderboard AUC 0.869558",
    ),
    "polish_1year": Protocol(
        n_folds=10,
        targets={"auc": (">=", 0.959)},
        source="best AUC of Zięba, Tomczak and Tomczak (2016), 1st year",
    ),
    "taiwan_credit_card": Protocol(
        n_folds=5,
        decision="error_rate",
        calibration_table=True,
        targets={"error_rate": ("<=", 0.17), "auc": (">=", 0.78)},
        source="validation error rate 0.17 of Yeh and Lien (2009)",
    ),
    "german_credit": Protocol(
        n_folds=10,
        decision="cost",
        targets={"cost": ("<=", 0.535)},
        source="best Statlog average cost 0.535 with the 5:1 cost matrix",
    ),
    "slovak_sme": Protocol(
        train_periods=(2013, 2014),
        test_periods=(2015,),
        source="protocol only; no published AUC is compared",
    ),
}


def fold_splits(
    dataset: PublicDataset, protocol: Protocol, *, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Return (training rows, test rows) of each fold of ``protocol``."""
    if protocol.n_folds is None:
        period = dataset.period.to_numpy()
        train = np.flatnonzero(np.isin(period, protocol.train_periods))
        test = np.flatnonzero(np.isin(period, protocol.test_periods))
        return [(train, test)]
    from sklearn.model_selection import StratifiedKFold

    folds = StratifiedKFold(n_splits=protocol.n_folds, shuffle=True, random_state=seed)
    return list(folds.split(np.zeros(dataset.is_bad.size), dataset.is_bad))


def run_dataset(
    dataset: PublicDataset, protocol: Protocol, settings: ProductSettings, *, seed: int
) -> dict:
    """Train and evaluate every model on every fold of one data set."""
    started = time.perf_counter()
    splits = fold_splits(dataset, protocol, seed=seed)
    test_rows = np.concatenate([test for _, test in splits])
    pooled = {name: np.empty(test_rows.size) for name in MODEL_NAMES}
    models = {name: {"folds": [], "fit_seconds": 0.0} for name in MODEL_NAMES}
    product_details = []

    offset = 0
    for fold, (train, test) in enumerate(splits):
        for name in MODEL_NAMES:
            fit_started = time.perf_counter()
            output = fit_model(name, dataset, train_rows=train, test_rows=test,
                               settings=settings, seed=seed)
            models[name]["fit_seconds"] += time.perf_counter() - fit_started
            models[name]["folds"].append(evaluate(dataset.is_bad[test], output.pd_values, output.score))
            pooled[name][offset:offset + test.size] = output.pd_values
            if name == "product":
                product_details.append(output.details)
        offset += test.size
        logger.info("%s: fold %d of %d done", dataset.name, fold + 1, len(splits))

    outcome = dataset.is_bad[test_rows]
    for name in MODEL_NAMES:
        models[name].update(_summary(models[name]["folds"]))
        if protocol.decision is not None:
            models[name][protocol.decision] = _decision(protocol.decision, outcome, pooled[name])
    result = {
        "title": dataset.title,
        "protocol": protocol.describe(),
        "source": protocol.source,
        "rows": int(dataset.is_bad.size),
        "bads": int(dataset.is_bad.sum()),
        "monotone_constraints": dict(dataset.monotone_constraints),
        "models": models,
        "product_details": product_details,
        "candidates": [dict(c) for c in settings.candidates],
    }
    if protocol.calibration_table:
        result["calibration_table"] = calibration_by_decile(outcome, pooled["product"])
    result["targets"] = check_targets(protocol, models)
    result["seconds"] = time.perf_counter() - started
    return result


def _summary(folds: list[dict]) -> dict:
    summary = {}
    for metric in ("auc", "ks", "brier", "ece", "log_loss"):
        values = np.array([fold[metric] for fold in folds if fold[metric] is not None])
        summary[metric] = float(values.mean()) if values.size else None
        summary[f"{metric}_sd"] = float(values.std(ddof=1)) if values.size > 1 else None
    return summary


def _decision(kind: str, outcome: np.ndarray, pd_values: np.ndarray) -> float:
    if kind == "error_rate":
        return float(np.mean((pd_values > 0.5).astype(np.int64) != outcome))
    rejected = pd_values > GERMAN_PD_THRESHOLD
    cost = (GERMAN_COST_BAD_ACCEPTED * np.sum(~rejected & (outcome == 1))
            + GERMAN_COST_GOOD_REJECTED * np.sum(rejected & (outcome == 0)))
    return float(cost / outcome.size)


def calibration_by_decile(outcome: np.ndarray, pd_values: np.ndarray) -> list[dict]:
    """Return rows, mean PD and observed default rate per PD decile (1 = lowest PD)."""
    decile = pd.qcut(pd.Series(pd_values).rank(method="first"), 10, labels=False).to_numpy()
    table = []
    for index in range(10):
        rows = decile == index
        table.append({
            "decile": index + 1,
            "rows": int(rows.sum()),
            "mean_pd": float(pd_values[rows].mean()),
            "default_rate": float(outcome[rows].mean()),
        })
    return table


def check_targets(protocol: Protocol, models: dict) -> list[dict]:
    """Compare the product with the published figures and with every peer."""
    product = models["product"]
    checks = []
    for metric, (direction, target) in protocol.targets.items():
        value = product[metric]
        met = value >= target if direction == ">=" else value <= target
        checks.append({"check": f"{metric} {direction} {target}", "value": value, "met": bool(met),
                       "gap": 0.0 if met else abs(value - target)})
    for peer in MODEL_NAMES[1:]:
        for metric, higher_is_better in (("auc", True), ("brier", False)):
            mine, theirs = product[metric], models[peer][metric]
            met = mine > theirs if higher_is_better else mine < theirs
            checks.append({"check": f"{metric} ahead of {peer}", "value": mine, "peer": theirs,
                           "met": bool(met), "gap": 0.0 if met else abs(mine - theirs)})
    return checks


def run_benchmark(
    names: list[str], *, data_dir: Path, seed: int = 0, quick: bool = False,
    sample_rows: int | None = None,
) -> dict:
    """Run the benchmark on the named data sets and return every figure."""
    started = time.perf_counter()
    results = {}
    for name in names:
        dataset = load_dataset(name, data_dir)
        protocol, settings = PROTOCOLS[name], PRODUCT_SETTINGS[name]
        rows = sample_rows
        if rows is None and quick:
            rows = QUICK_ROWS
        if rows is not None:
            dataset = dataset.subsample(rows, seed=seed)
        if quick and protocol.n_folds is not None:
            protocol = Protocol(**{**protocol.__dict__, "n_folds": min(protocol.n_folds, QUICK_FOLDS)})
        if quick:
            settings = with_candidates(settings, 1)
        logger.info("%s: %d rows, %s", name, dataset.is_bad.size, protocol.describe())
        results[name] = run_dataset(dataset, protocol, settings, seed=seed)
    return {
        "datasets": results,
        "seed": seed,
        "quick": quick,
        "sample_rows": sample_rows,
        "machine": machine_description(),
        "seconds": time.perf_counter() - started,
    }


def machine_description() -> str:
    """Return architecture, core count, Python and kernel versions."""
    return (f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}")


MODEL_LABELS = {
    "product": "product (LightGBM + calibration)",
    "logistic": "logistic regression",
    "scorecard": "optbinning scorecard",
    "lightgbm_default": "LightGBM, default parameters",
}


def render_markdown(report: dict, *, command: str) -> str:
    """Render the figures as the Markdown section of ``benchmarks/RESULTS.md``."""
    lines = [
        "## Model quality on public data",
        "",
        f"Machine: {report['machine']}.",
        f"Command: `{command}`",
        f"Run time: {report['seconds']:.0f} s for the whole run (seed {report['seed']}).",
        "",
    ]
    for name, result in report["datasets"].items():
        lines += _dataset_section(name, result)
    return "\n".join(lines)


def _dataset_section(name: str, result: dict) -> list[str]:
    lines = [
        f"### {result['title']}",
        "",
        f"`{name}`: {result['rows']:,} rows, {result['bads']:,} bads; {result['protocol']}; "
        f"{result['seconds']:.0f} s. Published figure: {result['source']}.",
        "",
    ]

    # Metrics table, one row per model.
    decision = next((key for key in ("error_rate", "cost") if key in result["models"]["product"]), None)
    header = "| model | AUC | KS | Brier | ECE |"
    rule = "| --- | ---: | ---: | ---: | ---: |"
    if decision:
        title = "error rate (PD > 0.5)" if decision == "error_rate" else "average cost (PD > 1/6)"
        header += f" {title} |"
        rule += " ---: |"
    lines += [header + " fit time (s) |", rule + " ---: |"]
    for model, figures in result["models"].items():
        row = (f"| {MODEL_LABELS[model]} | {_with_sd(figures, 'auc')} | {_with_sd(figures, 'ks')} "
               f"| {_with_sd(figures, 'brier')} | {_fmt(figures['ece'])} |")
        if decision:
            row += f" {_fmt(figures[decision])} |"
        lines.append(row + f" {figures['fit_seconds']:.1f} |")

    # Published targets and the comparison with each peer.
    lines += ["", "| check | product | peer | met | gap |", "| --- | ---: | ---: | --- | ---: |"]
    for check in result["targets"]:
        lines.append(f"| {check['check']} | {_fmt(check['value'])} | {_fmt(check.get('peer'))} "
                     f"| {'yes' if check['met'] else 'no'} | {_fmt(check['gap'])} |")
    lines += ["", _product_choices(result), ""]

    if "calibration_table" in result:
        lines += ["Product PD against observed default rate by PD decile (pooled test folds):", "",
                  "| decile | rows | mean PD | observed default rate |", "| ---: | ---: | ---: | ---: |"]
        for row in result["calibration_table"]:
            lines.append(f"| {row['decile']} | {row['rows']:,} | {row['mean_pd']:.4f} "
                         f"| {row['default_rate']:.4f} |")
        lines.append("")
    return lines


def _product_choices(result: dict) -> str:
    details = result["product_details"]
    chosen = [result["candidates"][d["candidate"]] for d in details]
    picks = ", ".join(f"{c['num_leaves']} leaves / {c['min_child_samples']} min rows" for c in chosen)
    methods = ", ".join(d["calibration"] for d in details)
    trees = ", ".join(str(d["trees"]) for d in details)
    warned = sum(d["calibration_warnings"] for d in details)
    constraints = ", ".join(f"{k} {v:+d}" for k, v in result["monotone_constraints"].items())
    return (f"Product per fold: candidate {picks}; trees {trees}; calibration {methods}"
            f" ({warned} few-bads warnings). Monotone constraints: {constraints or 'none'}.")


def _with_sd(figures: dict, metric: str) -> str:
    value, sd = figures[metric], figures.get(f"{metric}_sd")
    return _fmt(value) if sd is None else f"{_fmt(value)} ± {sd:.4f}"


def _fmt(value: object) -> str:
    return "" if value is None else f"{value:.4f}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS),
                        help="data sets to run (default: all)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR,
                        help=f"folder with one sub-folder per data set (default: {DEFAULT_DATA_DIR})")
    parser.add_argument("--quick", action="store_true",
                        help=f"at most {QUICK_ROWS:,} rows, {QUICK_FOLDS} folds and one "
                             "product candidate")
    parser.add_argument("--sample-rows", type=int, default=None,
                        help="stratified subsample of at most this many rows per data set")
    parser.add_argument("--seed", type=int, default=0, help="seed of folds, splits and models")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write every figure to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the Markdown section."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    try:
        report = run_benchmark(args.datasets, data_dir=args.data_dir, seed=args.seed,
                               quick=args.quick, sample_rows=args.sample_rows)
    except DatasetUnavailableError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    arguments = argv if argv is not None else sys.argv[1:]
    command = " ".join(["python benchmarks/model_quality.py", *arguments])
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2, default=float), encoding="utf-8")
    print(render_markdown(report, command=command.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
