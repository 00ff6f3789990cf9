"""Wall time and peak memory of the demo pipeline and of feature building plus scoring.

Each stage runs as its own ``creditlimit`` subprocess, so its peak resident memory
is read from the kernel (``os.wait4``) without the benchmark's own memory mixed in.
The demo part runs the five stages that ``dvc repro`` runs, on the demo-size sample
portfolio. The scale part generates portfolios of the given sizes, validates them
and scores them with the demo's champion model. Then this process measures the
baseline "bare model" on the same feature rows: LightGBM prediction plus exact
TreeSHAP. The ratio shows what reason texts, grades, policy and flags add on top.

Usage::

    .venv/bin/python benchmarks/pipeline_speed.py --sizes 10000 100000 --months 24

The results are printed as a Markdown section to paste into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run_stage(workspace: Path, *args: str) -> dict:
    """Run one creditlimit command; return wall seconds, peak RSS in MiB and stderr."""
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{workspace / 'mlflow.db'}",
           "MLFLOW_DISABLE_TELEMETRY": "true", "CREDITLIMIT_LANG": "en"}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen([str(BIN / "creditlimit"), *args], cwd=workspace, env=env,
                                   stdout=out, stderr=err)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        err.seek(0)
        stderr = err.read().decode("utf-8", "replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"creditlimit {' '.join(args)} failed:\n{stderr[-4000:]}")
    return {"wall_s": wall, "peak_rss_mib": usage.ru_maxrss / 1024, "stderr": stderr}


def prepare_workspace(root: Path, *, customers: int, months: int) -> Path:
    """Write params.yaml for a portfolio of the given size into ``root`` and return it."""
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["sample"].update({"customers": customers, "months": months})
    start = dt.date.fromisoformat(str(params["sample"]["start"]))
    end_month = start.month - 1 + months
    params["score"]["as_of"] = dt.date(start.year + end_month // 12, end_month % 12 + 1, 1).isoformat()
    params["score"]["database_url"] = f"sqlite:///{root / 'scores.db'}"
    params["mlflow"]["artifact_location"] = str(root / "mlartifacts")
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    return root


def demo_pipeline(workspace: Path) -> dict[str, dict]:
    """Time the five stages of dvc.yaml on the demo portfolio."""
    stages = {
        "sample": ("sample", "--out", "data/raw/sample"),
        "validate": ("validate", "--raw", "data/raw/sample", "--out", "data/interim"),
        "features": ("features", "--clean", "data/interim/clean", "--out", "data/features/training.parquet"),
        "train": ("train", "--training", "data/features/training.parquet", "--out", "data/models"),
        "score": ("score", "--clean", "data/interim/clean", "--out", "data/scores"),
    }
    return {name: run_stage(workspace, *args) for name, args in stages.items()}


def scale_run(workspace: Path, *, customers: int, months: int, as_of: str) -> dict[str, dict]:
    """Generate, validate and score a portfolio of ``customers`` with the demo champion."""
    raw, interim = f"data/raw/n{customers}", f"data/interim_n{customers}"
    results = {
        "sample": run_stage(workspace, "sample", "--customers", str(customers), "--months", str(months),
                            "--out", raw),
        "validate": run_stage(workspace, "validate", "--raw", raw, "--out", interim),
        "score": run_stage(workspace, "score", "--as-of", as_of, "--clean", f"{interim}/clean",
                           "--out", f"data/scores_n{customers}"),
    }
    results["score"]["timings"] = _score_timings(results["score"]["stderr"])
    results["baseline"] = bare_model_baseline(workspace, clean_dir=workspace / interim / "clean", as_of=as_of)
    return results


def bare_model_baseline(workspace: Path, *, clean_dir: Path, as_of: str) -> dict:
    """Time LightGBM prediction alone and exact TreeSHAP alone on the same rows."""
    os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
    from creditlimit.features.snapshots import build_features
    from creditlimit.features.tables import clean_table_paths, connect_tables
    from creditlimit.models.registry import load_model

    features = build_features(connect_tables(clean_table_paths(clean_dir)), [dt.date.fromisoformat(as_of)],
                              max_statement_age_months=24)
    model = load_model(tracking_uri=f"sqlite:///{workspace / 'mlflow.db'}", model_name="creditlimit-pd",
                       alias="champion").python_model
    X, _ = model.encode(features)
    started = time.perf_counter()
    model.raw_margin(X)
    predict_s = time.perf_counter() - started
    started = time.perf_counter()
    model.contributions(X)
    shap_s = time.perf_counter() - started
    return {"rows": len(X), "predict_s": predict_s, "treeshap_s": shap_s}


def _score_timings(stderr: str) -> dict:
    match = re.search(r"timings \(s\): (\{.*\})", stderr)
    return json.loads(match.group(1).replace("'", '"')) if match else {}


def markdown(demo: dict, scale: dict, *, months: int, command: str) -> str:
    lines = [
        f"### Pipeline speed ({dt.date.today().isoformat()})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}.",
        f"Command: `{command}`",
        "",
        "Demo pipeline (the stages of `dvc repro`, each a separate process):",
        "",
        "| stage | wall time (s) | peak RSS (MiB) |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {n} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} |" for n, r in demo.items()]
    lines += [f"| total | {sum(r['wall_s'] for r in demo.values()):.1f} | "
              f"{max(r['peak_rss_mib'] for r in demo.values()):.0f} |", ""]
    lines += [
        f"Feature building plus scoring ({months} months of history, demo champion model):",
        "",
        "| customers | validate (s) | score stage (s) | score peak RSS (MiB) | customers/s | "
        "features (s) | model + SHAP (s) | policy + flags (s) | bare predict + TreeSHAP (s) | "
        "scoring work / bare model |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for n, r in scale.items():
        t, b = r["score"].get("timings", {}), r["baseline"]
        bare = b["predict_s"] + b["treeshap_s"]
        work = t.get("model_and_explanations_s", float("nan")) + t.get("policy_and_flags_s", float("nan"))
        lines.append(
            f"| {n:,} | {r['validate']['wall_s']:.1f} | {r['score']['wall_s']:.1f} | "
            f"{r['score']['peak_rss_mib']:.0f} | {n / r['score']['wall_s']:,.0f} | "
            f"{t.get('features_s', float('nan')):.1f} | {t.get('model_and_explanations_s', float('nan')):.1f} | "
            f"{t.get('policy_and_flags_s', float('nan')):.1f} | {bare:.1f} | {work / bare:.2f} |"
        )
    lines += [
        "",
        "The score stage time includes Python start-up and loading the model from MLflow "
        "(about 3 s). \"Scoring work / bare model\" divides the scorer's model, SHAP, policy "
        "and flag time by the time of LightGBM prediction plus exact TreeSHAP alone on the "
        "same rows in the benchmark process: the overhead of reason texts, grades, limits "
        "and flags.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--months", type=int, default=24, help="history months of the scale portfolios")
    parser.add_argument("--keep", type=Path, help="keep the workspace in this folder")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="creditlimit-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    workspace = prepare_workspace(root, customers=int(params["sample"]["customers"]),
                                  months=int(params["sample"]["months"]))
    demo = demo_pipeline(workspace)
    start = dt.date.fromisoformat(str(params["sample"]["start"]))
    end_month = start.month - 1 + args.months
    as_of = dt.date(start.year + end_month // 12, end_month % 12 + 1, 1).isoformat()
    scale = {n: scale_run(workspace, customers=n, months=args.months, as_of=as_of) for n in args.sizes}
    command = "python benchmarks/pipeline_speed.py " + " ".join(sys.argv[1:])
    print(markdown(demo, scale, months=args.months, command=command.strip()))
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
