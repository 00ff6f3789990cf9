"""Rescoring at scale: wall time, rows/s and peak memory per stage, against a plain baseline.

The benchmark generates portfolios with the product's own generator (see
``benchmarks/rescore_portfolios.py``; generation and validation are cached under
``--work`` and are not timed), trains the demo's champion once, and then times, each
in its own process:

- ``product``: a full rescoring run of every portfolio size, the ``score`` stage's
  :func:`creditlimit.pipelines.score.run`: features, PD, grade, limit, flags, top
  reasons, change attribution, written outputs and the database publish;
- ``baseline``: a plain implementation on the ``--baseline-size`` portfolio with the
  same model (``benchmarks/rescore_baseline.py``); its PDs, limits and flags must
  equal the product's run on the same portfolio (the script fails otherwise);
- ``training``: :func:`creditlimit.models.training.train_pd_model` with the demo's
  ``train`` params on ``--train-rows`` snapshot rows, drawn from the demo's training
  table (see :func:`training_table`).

The parent process samples the resident memory (RSS) of each child every 20 ms
with psutil, from outside the child so sampling never waits for the child's GIL.
Stage windows come from the durations the child reports, laid end to end from the
moment its run starts; the peak of a stage is the highest sample inside its window.
The process peak is also read from the kernel (``os.wait4``).

Usage::

    .venv/bin/python benchmarks/rescore_scale.py --sizes 100000 1000000 --work /tmp/rescore-bench

``--results benchmarks/RESULTS.md`` replaces the section "Rescoring at scale" there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from rescore_portfolios import bench_env, prepare_model, prepare_portfolio, write_params  # noqa: E402

SECTION = "## Rescoring at scale"
SAMPLE_SECONDS = 0.02
SEED = 20261204
START = dt.date(2022, 1, 1)


# Parent: run a worker and sample its memory.


def run_worker(work: Path, *args: str) -> dict:
    """Run ``rescore_scale.py --worker ...`` and return its report with memory figures."""
    import psutil

    with tempfile.NamedTemporaryFile("w+", suffix=".json", dir=work, delete=False) as handle:
        report_path = Path(handle.name)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", *args, "--report", str(report_path)]
    with tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, cwd=work, env=bench_env(work), stdout=err, stderr=err)
        samples, status, usage = _sample_rss(psutil.Process(process.pid))
        err.seek(0)
        log = err.read().decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"worker {' '.join(args)} failed:\n{log[-6000:]}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report_path.unlink()
    report["process_peak_mib"] = usage.ru_maxrss / 1024
    report["stage_peak_mib"] = _stage_peaks(report, samples)
    return report


def _sample_rss(child) -> tuple[list[tuple[float, float]], int, object]:
    """Sample the child's RSS until it ends; return the samples, its wait status and resource usage."""
    import psutil

    samples = []
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            return samples, status, usage
        try:
            samples.append((time.time(), child.memory_info().rss / 2**20))
        except psutil.Error:  # the child ended between the two calls
            pass
        time.sleep(SAMPLE_SECONDS)


# The score stage's timed steps, in the order it runs them. The batch steps repeat
# for every batch, so their sum is one window ("batches") when memory is sampled.
BATCH_STEPS = ("model_and_explanations_s", "policy_and_flags_s", "early_warning_s", "attribution_s",
               "restore_s", "batch_writes_s")
WINDOWS = ("features_s", "model_load_s", "batches_s", "write_outputs_s", "ledger_s", "publish_s")


def _windows(timings: dict[str, float]) -> dict[str, float]:
    """Fold the batch steps into one ``batches_s`` window; other steps keep their own, in run order."""
    folded = {name: seconds for name, seconds in timings.items() if name not in BATCH_STEPS}
    folded["batches_s"] = sum(timings.get(name, 0.0) for name in BATCH_STEPS)
    known = [name for name in WINDOWS if name in folded]
    return {name: folded[name] for name in known + [n for n in folded if n not in known]}


def _stage_peaks(report: dict, samples: list[tuple[float, float]]) -> dict[str, float]:
    peaks, start = {}, report["started_at"]
    for name, seconds in report["stages"].items():
        end = start + seconds
        inside = [rss for t, rss in samples if start <= t <= end + SAMPLE_SECONDS]
        peaks[name] = max(inside) if inside else float("nan")
        start = end
    return peaks


# Workers: one measured job per process.


def worker_product(args) -> dict:
    """Score one portfolio with the score stage, as ``creditlimit score`` does."""
    from creditlimit.pipelines import score

    scores_root = Path(args.out)
    started_at = time.time()
    started = time.perf_counter()
    score.run(params_path=Path(args.params), as_of=dt.date.fromisoformat(args.as_of),
              clean_dir=Path(args.clean), scores_root=scores_root, model_alias=None)
    wall = time.perf_counter() - started
    record = json.loads((scores_root / "run_log.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    steps = record["timings_s"]
    return {"started_at": started_at, "wall_s": wall, "stages": _windows(steps),
            "batch_steps": {name: steps[name] for name in BATCH_STEPS if name in steps},
            "customers": record["row_counts"]["customers"]}


def worker_baseline(args) -> dict:
    """Score one portfolio with the plain implementation."""
    from rescore_baseline import run_baseline

    return run_baseline(params_path=Path(args.params), clean_dir=Path(args.clean),
                        as_of=dt.date.fromisoformat(args.as_of), out=Path(args.out))


def worker_training(args) -> dict:
    """Train the PD model on ``--rows`` snapshot rows with the demo's params."""
    import yaml

    from creditlimit.models.training import TrainParams, train_pd_model

    params = yaml.safe_load(Path(args.params).read_text(encoding="utf-8"))
    table = training_table(Path(args.training), rows=args.rows, seed=SEED)
    started_at = time.time()
    started = time.perf_counter()
    trained = train_pd_model(table, params=TrainParams.from_mapping(params["train"]))
    wall = time.perf_counter() - started
    return {"started_at": started_at, "wall_s": wall, "stages": {"train_pd_model_s": wall},
            "rows": len(table), "trees": trained.best_iteration,
            "oot_auc": trained.metrics["oot"]["auc"]}


def training_table(path: Path, *, rows: int, seed: int):
    """Grow the demo's training table to ``rows`` snapshot rows.

    The table is copied under new customer ids (``<id>#<copy>``) with its months and
    labels, and the last copy is cut at ``rows``. The numeric features of every copy
    after the first are multiplied by ``exp(N(0, 0.02^2))`` per value, so copies are not
    exact duplicates. Missing values stay missing, and the time split uses the same months.
    """
    import numpy as np
    import pandas as pd
    import pyarrow.parquet as pq

    from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES

    base = pq.read_table(path).to_pandas(date_as_object=False)
    rng = np.random.default_rng(seed)
    numeric = [name for name in FEATURE_NAMES if name not in CATEGORICAL_FEATURES and name in base.columns]
    copies, total, index = [], 0, 0
    while total < rows:
        copy = base.copy()
        copy["customer_id"] = copy["customer_id"].astype(str) + f"#{index}"
        if index:
            copy[numeric] = copy[numeric].to_numpy() * np.exp(rng.normal(0.0, 0.02, (len(copy), len(numeric))))
        copies.append(copy)
        total += len(copy)
        index += 1
    table = pd.concat(copies, ignore_index=True)
    return table.iloc[:rows].copy()


WORKERS = {"product": worker_product, "baseline": worker_baseline, "training": worker_training}


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", choices=sorted(WORKERS))
    parser.add_argument("--report", required=True)
    parser.add_argument("--params")
    parser.add_argument("--clean")
    parser.add_argument("--as-of")
    parser.add_argument("--out")
    parser.add_argument("--training")
    parser.add_argument("--rows", type=int)
    args = parser.parse_args(argv)
    report = WORKERS[args.worker](args)
    Path(args.report).write_text(json.dumps(report, default=str), encoding="utf-8")


# Comparison of the baseline with the product.


# Flag codes raised by creditlimit.serving.early_warning: they need the whole book or
# the previous run, so the baseline's row-wise loop does not raise them.
CONTEXT_FLAG_CODES = ("pd_jump", "grade_downgrade", "worsening_payment_trend", "dispute_spike",
                      "concentration", "group_over_cap", "quarantined_input")


def compare_outputs(product_dir: Path, baseline_dir: Path) -> dict:
    """Assert the baseline's PDs (every customer), limits and flags (its loop sample) equal the product's."""
    import numpy as np
    import pyarrow.parquet as pq

    product = pq.read_table(product_dir / "limits.parquet").to_pandas().set_index("customer_id")
    pds = pq.read_table(baseline_dir / "pds.parquet").to_pandas().set_index("customer_id")
    assert sorted(pds.index) == sorted(product.index), "the runs scored different customers"
    pd_diff = float(np.max(np.abs(product.loc[pds.index, "pd_12m"].to_numpy() - pds["pd_12m"].to_numpy())))
    assert pd_diff == 0.0, f"PDs differ by up to {pd_diff}"

    baseline = pq.read_table(baseline_dir / "limits.parquet").to_pandas().set_index("customer_id")
    for name in ("pd_12m", "grade", "proposed_limit", "new_limit", "action", "needs_review"):
        expected = product.loc[baseline.index, name].astype(str).tolist()
        assert baseline[name].astype(str).tolist() == expected, f"{name} differs"
    flag_columns = ["customer_id", "code", "subject", "severity", "value", "threshold"]
    product_flags = pq.read_table(product_dir / "flags.parquet").to_pandas()
    product_flags = product_flags[product_flags["customer_id"].isin(baseline.index)
                                  & ~product_flags["code"].isin(CONTEXT_FLAG_CODES)]
    product_keys = _flag_keys(product_flags, flag_columns)
    baseline_keys = _flag_keys(pq.read_table(baseline_dir / "flags.parquet").to_pandas(), flag_columns)
    assert product_keys == baseline_keys, f"flags differ: {len(product_keys ^ baseline_keys)} of {len(product_keys)}"
    return {"customers": len(pds), "max_pd_diff": pd_diff, "loop_customers": len(baseline),
            "flags": len(product_keys)}


def _flag_keys(flags, columns) -> set[tuple]:
    present = [c for c in columns if c in flags.columns]
    return set(flags[present].astype(str).itertuples(index=False, name=None))


# Orchestration and the Markdown section.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--months", type=int, default=12, help="months of history of each portfolio")
    parser.add_argument("--baseline-size", type=int, default=100_000)
    parser.add_argument("--train-rows", type=int, default=1_000_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "creditlimit-rescore-scale",
                        help="folder of cached portfolios, the model and run outputs (outside the repository)")
    parser.add_argument("--results", type=Path, help="Markdown file whose section 'Rescoring at scale' is replaced")
    parser.add_argument("--render-only", action="store_true",
                        help="write the section from the figures of the last run in --work, without running")
    args = parser.parse_args()
    if args.render_only:
        render_saved(args)
        return

    work = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    params = write_params(work)
    prepare_model(work)
    as_of = _add_months(START, args.months).isoformat()
    sizes = sorted(set(args.sizes) | {args.baseline_size})
    clean = {n: prepare_portfolio(work, customers=n, months=args.months, seed=SEED) for n in sizes}

    # The baseline first: it is the likelier to fail, and its comparison needs the product's run.
    record = work / "rescore_scale.json"
    out = work / "runs" / f"baseline_n{args.baseline_size}"
    _empty(out)
    baseline = run_worker(work, "baseline", "--params", str(params), "--clean", str(clean[args.baseline_size]),
                          "--as-of", as_of, "--out", str(out))
    print(f"baseline {args.baseline_size}: {baseline['wall_s']:.1f} s", flush=True)
    runs: dict[int, dict] = {}
    for n in sizes:
        product_out = work / "runs" / f"product_n{n}"
        _empty(product_out)
        _remove_databases(work)
        runs[n] = run_worker(work, "product", "--params", str(params), "--clean", str(clean[n]),
                             "--as-of", as_of, "--out", str(product_out))
        print(f"product {n}: {runs[n]['wall_s']:.1f} s, peak {runs[n]['process_peak_mib']:.0f} MiB", flush=True)
        if n == args.baseline_size:
            baseline["comparison"] = compare_outputs(product_out / f"as_of={as_of}", out)
        record.write_text(json.dumps({"runs": runs, "baseline": baseline}, indent=1, default=str))
    # The nightly case: the largest book again a month later, compared with the run above.
    largest = max(sizes)
    next_month = run_worker(work, "product", "--params", str(params), "--clean", str(clean[largest]),
                            "--as-of", _add_months(START, args.months + 1).isoformat(),
                            "--out", str(work / "runs" / f"product_n{largest}"))
    print(f"product {largest} a month later: {next_month['wall_s']:.1f} s, "
          f"peak {next_month['process_peak_mib']:.0f} MiB", flush=True)
    training = run_worker(work, "training", "--params", str(params), "--training",
                          str(work / "demo" / "training.parquet"), "--rows", str(args.train_rows))
    print(f"training {args.train_rows}: {training['wall_s']:.1f} s", flush=True)
    command = "python benchmarks/rescore_scale.py " + " ".join(sys.argv[1:])
    record.write_text(json.dumps({"runs": runs, "baseline": baseline, "training": training,
                                  "next_month": next_month, "command": command.strip()}, indent=1, default=str))

    text = markdown(runs, baseline, training, baseline_size=args.baseline_size, months=args.months,
                    command=command.strip(), next_month=next_month)
    print(text)
    if args.results:
        replace_section(args.results, text)


def render_saved(args) -> None:
    """Render the section from ``rescore_scale.json`` of the last run in ``--work``."""
    saved = json.loads((args.work.resolve() / "rescore_scale.json").read_text(encoding="utf-8"))
    runs = {int(n): run for n, run in saved["runs"].items()}
    command = saved.get("command", "python benchmarks/rescore_scale.py")
    text = markdown(runs, saved["baseline"], saved["training"], baseline_size=args.baseline_size,
                    months=args.months, command=command, next_month=saved.get("next_month"))
    print(text)
    if args.results:
        replace_section(args.results, text)


def markdown(runs: dict, baseline: dict, training: dict, *, baseline_size: int, months: int,
             command: str, next_month: dict | None = None) -> str:
    """Render the section 'Rescoring at scale'."""
    lines = [SECTION, "", f"Script: `benchmarks/rescore_scale.py` ({dt.date.today().isoformat()}).",
             f"Command: `{command}`", "", _machine(), "",
             f"Portfolios: product generator, {months} months of history, scored as of the day after.", ""]
    lines += _targets(runs, baseline, training, baseline_size=baseline_size)
    lines += ["| customers | wall (s) | customers/s | process peak RSS (MiB) |", "| ---: | ---: | ---: | ---: |"]
    for n, run in runs.items():
        lines.append(f"| {n:,} | {run['wall_s']:.1f} | {n / run['wall_s']:,.0f} | {run['process_peak_mib']:.0f} |")
    lines += ["", "Stages of the product run (wall s / peak RSS MiB inside the stage):", ""]
    stage_names = list(dict.fromkeys(name for run in runs.values() for name in run["stages"]))
    lines += ["| stage | " + " | ".join(f"{n:,}" for n in runs) + " |",
              "| --- | " + " | ".join("---:" for _ in runs) + " |"]
    for name in stage_names:
        cells = [f"{run['stages'].get(name, float('nan')):.1f} / {run['stage_peak_mib'].get(name, float('nan')):.0f}"
                 for run in runs.values()]
        lines.append(f"| {name.removesuffix('_s')} | " + " | ".join(cells) + " |")
    if next_month:
        lines += ["", f"The {max(runs):,}-customer book scored again a month later, with the run above as the "
                  f"previous run (grade migration, downgrade and PD-jump flags, why each limit changed): "
                  f"{next_month['wall_s']:.1f} s, peak RSS {next_month['process_peak_mib']:.0f} MiB. Its stages: "
                  + ", ".join(f"{name.removesuffix('_s')} {seconds:.1f} s" for name, seconds in
                              next_month["stages"].items())
                  + "; within the batches: "
                  + ", ".join(f"{name.removesuffix('_s')} {seconds:.1f} s" for name, seconds in
                              next_month.get("batch_steps", {}).items()) + "."]
    lines += ["", "The batches window summed over all batches (wall s):", "",
              "| step | " + " | ".join(f"{n:,}" for n in runs) + " |",
              "| --- | " + " | ".join("---:" for _ in runs) + " |"]
    for name in BATCH_STEPS:
        cells = [f"{run.get('batch_steps', {}).get(name, float('nan')):.1f}" for run in runs.values()]
        lines.append(f"| {name.removesuffix('_s')} | " + " | ".join(cells) + " |")
    product = runs[baseline_size]
    lines += ["", f"Baseline on the same {baseline_size:,}-customer portfolio and model:", "",
              "| stage | wall (s) | peak RSS (MiB) |", "| --- | ---: | ---: |"]
    for name, seconds in baseline["stages"].items():
        lines.append(f"| {name.removesuffix('_s')} | {seconds:.1f} | {baseline['stage_peak_mib'][name]:.0f} |")
    comparison = baseline["comparison"]
    lines += [f"| total | {baseline['wall_s']:.1f} | {baseline['process_peak_mib']:.0f} |", "",
              f"Product / baseline speed-up end to end: {baseline['wall_s'] / product['wall_s']:.1f}x. "
              f"Equal outputs asserted on {comparison['customers']:,} customers: PDs (max. abs. difference "
              f"{comparison['max_pd_diff']:.1e}), grades, proposed and new limits, actions and "
              f"{comparison['flags']:,} flags.", "",
              f"Training: `train_pd_model` on {training['rows']:,} snapshot rows in {training['wall_s']:.1f} s "
              f"({training['rows'] / training['wall_s']:,.0f} rows/s, {training['trees']} trees, OOT AUC "
              f"{training['oot_auc']:.3f}), peak RSS {training['process_peak_mib']:.0f} MiB.", ""]
    return "\n".join(lines + NOTES) + "\n"


TARGET_WALL_S = 300.0
TARGET_PEAK_MIB = 4096.0
TARGET_PEAK_RATIO = 1.5
TARGET_SPEED_UP = 5.0
TARGET_TRAIN_S = 120.0


def _targets(runs: dict, baseline: dict, training: dict, *, baseline_size: int) -> list[str]:
    """Return the targets table of this run's figures, and for a missed target by how much and where the time went."""
    largest = max(runs)
    big, small = runs[largest], runs[min(runs)]
    ratio = big["process_peak_mib"] / small["process_peak_mib"]
    speed_up = baseline["wall_s"] / runs[baseline_size]["wall_s"]
    rows = [
        (f"{largest:,} customers end to end", f"<= {TARGET_WALL_S:.0f} s", f"{big['wall_s']:.1f} s",
         big["wall_s"] <= TARGET_WALL_S),
        (f"peak memory at {largest:,}", f"<= {TARGET_PEAK_MIB:.0f} MiB", f"{big['process_peak_mib']:.0f} MiB",
         big["process_peak_mib"] <= TARGET_PEAK_MIB),
        (f"peak at {largest:,} / peak at {min(runs):,}", f"<= {TARGET_PEAK_RATIO}", f"{ratio:.2f}",
         ratio <= TARGET_PEAK_RATIO),
        (f"speed-up over the baseline at {baseline_size:,}", f">= {TARGET_SPEED_UP:.0f}x", f"{speed_up:.1f}x",
         speed_up >= TARGET_SPEED_UP),
        (f"training on {training['rows']:,} rows", f"<= {TARGET_TRAIN_S:.0f} s", f"{training['wall_s']:.1f} s",
         training["wall_s"] <= TARGET_TRAIN_S),
    ]
    lines = ["| target | goal | measured | met |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {name} | {goal} | {measured} | {'yes' if met else 'no'} |" for name, goal, measured, met in rows]
    if big["wall_s"] > TARGET_WALL_S:
        stages = big["stages"]
        steps = big.get("batch_steps", {})
        lines += ["", f"The time target is missed by {big['wall_s'] - TARGET_WALL_S:.0f} s "
                  f"({big['wall_s'] / TARGET_WALL_S - 1:.0%}). Where the time goes at {largest:,}: building the "
                  f"features in DuckDB under its 1GB cap {stages.get('features_s', 0):.0f} s (without the cap it "
                  "is faster but DuckDB's memory grows with the book), the credit policy and flag texts "
                  f"{steps.get('policy_and_flags_s', 0):.0f} s, PD and exact SHAP with reason texts "
                  f"{steps.get('model_and_explanations_s', 0):.0f} s, the restore search "
                  f"{steps.get('restore_s', 0):.0f} s, and writing: the run files "
                  f"{stages.get('write_outputs_s', 0) + steps.get('batch_writes_s', 0):.0f} s, the ledger "
                  f"{stages.get('ledger_s', 0):.0f} s and the SQLite publish {stages.get('publish_s', 0):.0f} s. "
                  "Every step but LightGBM, SHAP and DuckDB runs on one core; scoring two batches at once "
                  "in two processes is the next step, and it is not built."]
    return lines + [""]


NOTES = [
    "How it is measured:",
    "",
    "- Generating and validating the portfolios is not timed: both are cached under `--work`. "
    "Portfolios above 100,000 customers are generated in chunks of 100,000 with consecutive seeds "
    "(see `benchmarks/rescore_portfolios.py`).",
    "- Each product run is one process calling the `score` stage "
    "(`creditlimit.pipelines.score.run`) on a fresh output folder, with an empty ledger and scores "
    "database (a first nightly run): features, model load, PD, exact SHAP and reason codes, grades, "
    "limits and flags, change attribution, the restore search, the written run folder, the decision "
    "ledger and the database publish. Wall time counts from the call, after the interpreter has started.",
    "- The stage scores in batches of `score.batch_size` (50,000) customers with whole groups, and "
    "DuckDB builds the features under `score.feature_memory_limit` (1GB), spilling to disk beyond it. "
    "The batch steps repeat for every batch, so their sum is one window, `batches`; the table below "
    "the stage table splits it by step.",
    "- Stage peaks come from RSS samples every 20 ms taken by the parent process. Stage windows are the "
    "stage durations laid end to end, so untimed steps between two stages (the manifest, reading a "
    "batch) fall into a neighbouring window.",
    "- The baseline (`benchmarks/rescore_baseline.py`) takes two shortcuts. Its features come from the "
    "product's DuckDB feature builder: a pandas copy would have to match the ledger arithmetic to the "
    "last bit for identical PDs, and was not written. Its row-wise policy loop (one `propose_limits` and "
    "`raise_flags` call per customer, or per group for the group cap) runs on 2,000 customers drawn "
    "in whole groups, and its time is extrapolated linearly to the portfolio. PDs are compared for "
    "every customer; grades, limits, actions and flags for the loop's customers. The flags that need "
    "the whole book or the previous run (`pd_jump`, `concentration`, ...) are not part of the loop "
    "and are not compared.",
    "- Training copies the demo's training table (47,058 snapshots) under new customer ids, with the "
    "numeric features of each copy multiplied by `exp(N(0, 0.02^2))`, up to the requested rows, and "
    "trains with the `train` section of `params.yaml`. The time split keeps the demo's months, so "
    "about 29 % of the rows are boosting rows and 25 % validation rows.",
    "",
]


def replace_section(path: Path, text: str) -> None:
    """Replace (or append) the section 'Rescoring at scale' of a Markdown file, leaving the others."""
    content = path.read_text(encoding="utf-8")
    begin = content.find(SECTION)
    if begin < 0:
        content = content.rstrip("\n") + "\n\n" + text
    else:
        following = content.find("\n## ", begin + len(SECTION))
        content = content[:begin] + text + ("" if following < 0 else content[following:])
    path.write_text(content, encoding="utf-8")


def _machine() -> str:
    import lightgbm

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.system()} {platform.release()}, lightgbm {lightgbm.__version__}; load average at "
            f"the end {load} (the machine is shared, so times are pessimistic).")


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    return dt.date(day.year + index // 12, index % 12 + 1, 1)


def _remove_databases(work: Path) -> None:
    """Start each product run with an empty ledger and scores database, as a first nightly run would."""
    for name in ("scores.db", "ledger.db"):
        (work / name).unlink(missing_ok=True)


def _empty(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker_main(sys.argv[1:])
    else:
        main()
