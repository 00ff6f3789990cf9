"""Rows per second of exact SHAP: shap.TreeExplainer, LightGBM pred_contrib and FastTreeShap.

The script builds the demo's training table (sample portfolio, validation and
features, in a temporary folder) or reads one given with ``--training``. It
trains the PD model with the product's training code and the ``train`` section
of ``params.yaml``, then explains the same feature rows with the three methods
in this process. It also explains a second booster trained with the same settings
but without early stopping (``train.lightgbm.n_estimators`` trees), the largest
model the params allow. Every method's values are compared with
``pred_contrib``; the script fails if any differs by more than 1e-9.

Usage::

    .venv/bin/python benchmarks/shap_speed.py --rows 20000

The results are printed as a Markdown section for ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
TOLERANCE = 1e-9


def build_training_table(params_path: Path, workdir: Path):
    """Run the sample, validate and features stages in ``workdir`` and return the table."""
    from creditlimit.serving.publish import read_parquet

    raw, interim, out = workdir / "raw", workdir / "interim", workdir / "training.parquet"
    # The stages print their summaries; keep stdout for the report.
    with contextlib.redirect_stdout(sys.stderr):
        _run_stages(params_path, raw, interim, out)
    return read_parquet(out)


def _run_stages(params_path: Path, raw: Path, interim: Path, out: Path) -> None:
    from creditlimit.pipelines import features, sample, validate

    sample.run(params_path=params_path, out_dir=raw, customers=None, months=None, seed=None,
               start=None, file_format="parquet")
    validate.run(params_path=params_path, raw_dir=raw, out_dir=interim)
    features.run(params_path=params_path, clean_dir=interim / "clean", out_path=out)


def train_models(table, train_section: dict):
    """Train the champion-shaped model and a variant that keeps every boosting round."""
    import lightgbm

    from creditlimit.models.encoding import build_feature_matrix
    from creditlimit.models.training import TrainParams, train_pd_model

    params = TrainParams.from_mapping(train_section)
    trained = train_pd_model(table, params=params)
    matrix, _ = build_feature_matrix(table, feature_names=trained.feature_names,
                                     encoder=trained.encoder)
    features = list(trained.feature_names)
    # The variant trains on every row: it measures the largest tree count, not quality.
    dataset = lightgbm.Dataset(
        matrix, label=table["is_bad"].to_numpy(np.float64), feature_name=features,
        categorical_feature=[features.index(name) for name in trained.categorical_features],
    )
    full = lightgbm.train(trained.lightgbm_params, dataset,
                          num_boost_round=params.lightgbm.n_estimators)
    return trained, full, matrix


def timed(function, repeats: int) -> tuple[float, object]:
    """Return the median wall time of ``repeats`` calls and the last result."""
    times, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(booster, rows: np.ndarray, repeats: int) -> dict:
    """Time the three methods on ``rows`` and check that they agree with pred_contrib."""
    import numba
    import shap

    from creditlimit.serving.fast_shap import FastTreeShap

    result = {"trees": booster.num_trees(), "rows": len(rows)}
    lgb_s, reference = timed(lambda: booster.predict(rows, pred_contrib=True), repeats)
    reference = np.asarray(reference)

    started = time.perf_counter()
    explainer = shap.TreeExplainer(booster)
    result["shap_build_s"] = time.perf_counter() - started
    shap_s, shap_values = timed(lambda: explainer.shap_values(rows), repeats)
    shap_values = np.asarray(shap_values).reshape(len(rows), -1)

    started = time.perf_counter()
    fast = FastTreeShap(booster)
    fast.explain(rows[:1])  # loads or compiles the row kernel
    result["fast_build_s"] = time.perf_counter() - started
    threads = numba.get_num_threads()
    fast_s, (contributions, base_value) = timed(lambda: fast.explain(rows), repeats)
    numba.set_num_threads(1)
    fast_1_s, _ = timed(lambda: fast.explain(rows), repeats)
    numba.set_num_threads(threads)

    result.update({
        "lgb_rows_s": len(rows) / lgb_s, "shap_rows_s": len(rows) / shap_s,
        "fast_rows_s": len(rows) / fast_s, "fast_1_rows_s": len(rows) / fast_1_s,
        "threads": threads, "table_bytes": fast.table_nbytes,
        "diff_fast": float(np.abs(contributions - reference[:, :-1]).max()),
        "diff_bias": float(abs(base_value - reference[0, -1])),
        "diff_shap": float(np.abs(shap_values - reference[:, :-1]).max()),
        "batch_bytes": 3 * contributions.nbytes,
    })
    if max(result["diff_fast"], result["diff_bias"], result["diff_shap"]) > TOLERANCE:
        raise SystemExit(f"SHAP values differ from pred_contrib by more than {TOLERANCE}: {result}")
    return result


def report(results: dict[str, dict], *, command: str, table_rows: int, training_s: float) -> str:
    """Format the results as the "Exact SHAP speed" section of RESULTS.md."""
    lines = [
        "## Exact SHAP speed",
        "",
        "Script: `benchmarks/shap_speed.py`. It trains the PD model with the product's",
        "training code and `params.yaml` on the demo's training table",
        f"({table_rows:,} snapshot rows, training both models took {training_s:.1f} s) and explains the",
        "same feature rows (drawn from that table, with its missing values and",
        "categoricals) with `shap.TreeExplainer(booster).shap_values`, LightGBM",
        "`predict(pred_contrib=True)` and `creditlimit.serving.fast_shap.FastTreeShap`,",
        "all in one process. Rows/s use the median of 3 calls. Every value was checked",
        "against `pred_contrib` (max. absolute difference in the table; the bar is 1e-9).",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()},",
        f"Linux {platform.release()}.",
        f"Command: `{command}`",
        "",
        "| model | trees | rows | shap.TreeExplainer (rows/s) | pred_contrib (rows/s) "
        "| FastTreeShap (rows/s) | FastTreeShap, 1 thread (rows/s) | speed-up vs shap "
        "| max. abs. difference | tables (KiB) | build (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, result in results.items():
        lines.append(
            f"| {name} | {result['trees']} | {result['rows']:,} | {result['shap_rows_s']:,.0f} "
            f"| {result['lgb_rows_s']:,.0f} | {result['fast_rows_s']:,.0f} "
            f"| {result['fast_1_rows_s']:,.0f} "
            f"| {result['fast_rows_s'] / result['shap_rows_s']:.1f}x "
            f"| {max(result['diff_fast'], result['diff_bias']):.1e} "
            f"| {result['table_bytes'] / 1024:,.0f} | {result['fast_build_s']:.2f} |"
        )
    first = next(iter(results.values()))
    lines += [
        "",
        f"Working memory of FastTreeShap per batch of {first['rows']:,} rows: "
        f"{first['batch_bytes'] / 2**20:.1f} MiB",
        "(a transposed copy of the input, the transposed contributions and the returned",
        "copy), on top of the tables. \"build\" is the construction plus a first one-row",
        "call, which compiles the Numba kernels when no disk cache exists.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000, help="rows to explain (default 20000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per method (default 3)")
    parser.add_argument("--training", type=Path,
                        help="existing training table (Parquet); default: build the demo's")
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml",
                        help="params file for the sample, features and train sections")
    args = parser.parse_args(argv)
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    params = yaml.safe_load(args.params.read_text(encoding="utf-8"))

    with tempfile.TemporaryDirectory(prefix="shap_speed_") as workdir:
        if args.training is None:
            table = build_training_table(args.params, Path(workdir))
        else:
            from creditlimit.serving.publish import read_parquet

            table = read_parquet(args.training)
    started = time.perf_counter()
    trained, full, matrix = train_models(table, params["train"])
    training_s = time.perf_counter() - started

    rng = np.random.default_rng(20261204)
    rows = matrix[rng.choice(len(matrix), size=args.rows, replace=args.rows > len(matrix))]
    results = {
        f"champion shape (early stopping, {trained.best_iteration} trees)":
            measure(trained.booster, rows, args.repeats),
        "all rounds (no early stopping)": measure(full, rows, args.repeats),
    }
    command = "python benchmarks/shap_speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(report(results, command=command.strip(), table_rows=len(table), training_s=training_s))


if __name__ == "__main__":
    main()
