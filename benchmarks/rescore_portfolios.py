"""Generate, validate and cache the portfolios of the rescoring benchmark.

Portfolios come from the product's own generator (``creditlimit sample``) and are
validated with ``creditlimit validate``, each step in its own process. Neither is
part of the timed run: the benchmark times rescoring a book whose tables are
already validated. A portfolio is cached under the work folder and reused while its
``ready.json`` exists.

The generator keeps a whole portfolio in memory (about 1.3 GiB per 100,000
customers and 12 months), so a portfolio of more than ``CHUNK_CUSTOMERS``
customers is generated in chunks of that size with consecutive seeds, shared by
every portfolio size. Every id of chunk ``i >= 1`` (customer, group, document,
payment) gets the prefix ``B<i>-``, so the chunks never share a key, and the
validated chunks are concatenated table by table. The exchange rates of the first
chunk are kept, while every chunk's amounts were converted to the base currency with
its own rates during validation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHUNK_CUSTOMERS = 100_000
TABLES = ("customers", "financial_statements", "invoices", "payments", "credit_events", "fx_rates")
ID_COLUMNS = ("customer_id", "group_id", "document_id", "reference_id", "payment_id")


def bench_env(work: Path) -> dict[str, str]:
    """Environment of every product process of the benchmark."""
    return {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{work / 'mlflow.db'}",
            "MLFLOW_DISABLE_TELEMETRY": "true", "CREDITLIMIT_LANG": "en"}


def run_cli(work: Path, *args: str) -> float:
    """Run one ``creditlimit`` command in ``work``; return its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "creditlimit"), *args], cwd=work, env=bench_env(work),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"creditlimit {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return time.perf_counter() - started


def write_params(work: Path) -> Path:
    """Write the benchmark's params.yaml: the repository's, with outputs inside ``work``."""
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["sample"]["dirty_share"] = 0.0
    params["score"]["database_url"] = f"sqlite:///{work / 'scores.db'}"
    params["mlflow"]["tracking_uri"] = f"sqlite:///{work / 'mlflow.db'}"
    params["mlflow"]["artifact_location"] = str(work / "mlartifacts")
    if "ledger" in params:
        params["ledger"]["database_url"] = f"sqlite:///{work / 'ledger.db'}"
        params["ledger"]["archive_dir"] = str(work / "archive")
    path = work / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def prepare_model(work: Path) -> dict:
    """Train and register the demo's champion (demo sample and params) once."""
    ready = work / "demo" / "ready.json"
    if ready.is_file():
        return json.loads(ready.read_text(encoding="utf-8"))
    times = {
        "sample_s": run_cli(work, "sample", "--out", "demo/raw"),
        "validate_s": run_cli(work, "validate", "--raw", "demo/raw", "--out", "demo/interim"),
        "features_s": run_cli(work, "features", "--clean", "demo/interim/clean", "--out",
                              "demo/training.parquet"),
        "train_s": run_cli(work, "train", "--training", "demo/training.parquet", "--out", "demo/models"),
    }
    ready.write_text(json.dumps(times), encoding="utf-8")
    return times


def prepare_portfolio(work: Path, *, customers: int, months: int, seed: int) -> Path:
    """Return the clean folder of a validated portfolio of ``customers``, building it once."""
    folder = work / f"n{customers}_m{months}"
    ready = folder / "ready.json"
    if ready.is_file():
        return Path(json.loads(ready.read_text(encoding="utf-8"))["clean"])
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    chunks = []
    for index, start in enumerate(range(0, customers, CHUNK_CUSTOMERS)):
        size = min(CHUNK_CUSTOMERS, customers - start)
        chunks.append(_prepare_chunk(work, index=index, customers=size, months=months, seed=seed))
    # The score stage hashes every file in the folder above the clean tables,
    # so that folder contains nothing else.
    clean = chunks[0] if len(chunks) == 1 else folder / "interim" / "clean"
    if len(chunks) > 1:
        _concatenate(chunks, clean)
    ready.write_text(json.dumps({"customers": customers, "months": months, "seed": seed, "clean": str(clean),
                                 "prepare_s": time.perf_counter() - started}), encoding="utf-8")
    return clean


def _prepare_chunk(work: Path, *, index: int, customers: int, months: int, seed: int) -> Path:
    """Generate and validate chunk ``index`` (seed ``seed + index``); portfolios share chunks."""
    chunk = work / f"chunks_m{months}_s{seed}" / f"chunk{index:02d}_n{customers}"
    clean = chunk / "interim" / "clean"
    if (chunk / "ready").is_file():
        return clean
    raw = chunk / "raw"
    run_cli(work, "sample", "--customers", str(customers), "--months", str(months), "--seed",
            str(seed + index), "--out", str(raw))
    if index:
        for table in TABLES:
            _prefix_ids(raw / f"{table}.parquet", f"B{index:02d}-")
    run_cli(work, "validate", "--raw", str(raw), "--out", str(chunk / "interim"))
    (chunk / "ready").write_text("", encoding="utf-8")
    return clean


def _prefix_ids(path: Path, prefix: str) -> None:
    table = pq.read_table(path)
    for name in ID_COLUMNS:
        if name in table.column_names:
            column = table[name]
            prefixed = pc.binary_join_element_wise(pa.scalar(prefix), column, "")
            table = table.set_column(table.column_names.index(name), name, prefixed)
    pq.write_table(table, path)


def _concatenate(chunks: list[Path], clean: Path) -> None:
    clean.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        sources = chunks[:1] if table == "fx_rates" else chunks
        schema = pq.read_schema(sources[0] / f"{table}.parquet")
        with pq.ParquetWriter(clean / f"{table}.parquet", schema) as writer:
            for source in sources:
                writer.write_table(pq.read_table(source / f"{table}.parquet").cast(schema))
