"""End-to-end: `creditlimit score --engine spark` on Spark local mode writes what the local engine writes."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "pipelines"))

from pipeline_workspace import TINY_OVERLAY, make_workspace, pipeline_env, run_in  # noqa: E402

pytestmark = pytest.mark.slow

AS_OF = TINY_OVERLAY["score.as_of"]
PREVIOUS_AS_OF = TINY_OVERLAY["score.previous_as_of"]
# Spark settings of the test: two local cores, no web UI, loopback only, few shuffle partitions.
SPARK_DEFAULTS = """\
spark.ui.enabled false
spark.ui.showConsoleProgress false
spark.sql.shuffle.partitions 4
spark.driver.host 127.0.0.1
spark.driver.bindAddress 127.0.0.1
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The local run of the tiny sample workspace and the Spark run of the same date, beside it."""
    if importlib_missing("pyspark") or importlib_missing("sqlglot"):
        if os.environ.get("CI"):
            pytest.fail("pyspark and sqlglot must be installed in CI (pip install -e '.[test,spark]')")
        pytest.skip("the spark extra is not installed")
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI"):
            pytest.fail("Spark needs Java 17 in CI: install a JRE (e.g. openjdk-17-jre-headless)")
        pytest.skip("Java is not installed")
    root = tmp_path_factory.mktemp("spark_engine")
    workspace = make_workspace(root, TINY_OVERLAY)
    run_in(workspace, "dvc", "repro", "score")

    # The Spark run compares with the same previous run as the local one did.
    spark_root = workspace / "spark_scores"
    spark_root.mkdir()
    shutil.copytree(workspace / "data" / "scores" / f"as_of={PREVIOUS_AS_OF}", spark_root / f"as_of={PREVIOUS_AS_OF}")
    conf_dir = root / "spark_conf"
    conf_dir.mkdir()
    (conf_dir / "spark-defaults.conf").write_text(SPARK_DEFAULTS, encoding="utf-8")
    env = {**pipeline_env(workspace), "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable,
           "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_CONF_DIR": str(conf_dir),
           "CREDITLIMIT_SPARK_MASTER": "local[2]"}
    result = subprocess.run(
        ["creditlimit", "score", "--engine", "spark", "--as-of", AS_OF, "--out", str(spark_root)],
        cwd=workspace, env=env, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert result.returncode == 0, f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    return workspace / "data" / "scores" / f"as_of={AS_OF}", spark_root / f"as_of={AS_OF}", result.stdout


def importlib_missing(name):
    import importlib.util

    return importlib.util.find_spec(name) is None


def read(folder, name):
    return pq.read_table(folder / name).to_pandas()


def assert_frames_equal(local, spark, *, rtol=1e-12):
    """Same columns, dtypes and rows; floats within ``rtol``, everything else identical."""
    assert list(spark.columns) == list(local.columns)
    assert len(spark) == len(local)
    for column in local.columns:
        assert str(spark[column].dtype) == str(local[column].dtype), column
        if pd.api.types.is_float_dtype(local[column]):
            np.testing.assert_allclose(spark[column].to_numpy(float), local[column].to_numpy(float),
                                       rtol=rtol, atol=1e-12, equal_nan=True, err_msg=column)
        else:
            pd.testing.assert_series_equal(spark[column], local[column], check_names=False, obj=column)


def test_spark_run_writes_the_same_files(runs):
    local, spark, stdout = runs
    assert sorted(p.name for p in spark.iterdir()) == sorted(p.name for p in local.iterdir())
    assert f"Scored {len(read(local, 'limits.parquet'))} customers as of {AS_OF}" in stdout


def test_spark_pds_match_local_engine(runs):
    local, spark, _ = runs
    local_limits, spark_limits = read(local, "limits.parquet"), read(spark, "limits.parquet")
    assert spark_limits["customer_id"].tolist() == local_limits["customer_id"].tolist()
    assert np.abs(spark_limits["pd_12m"] - local_limits["pd_12m"]).max() <= 1e-12
    assert np.abs(spark_limits["raw_margin"] - local_limits["raw_margin"]).max() <= 1e-12


def test_spark_limits_grades_and_reasons_match_local_engine(runs):
    local, spark, _ = runs
    local_limits, spark_limits = read(local, "limits.parquet"), read(spark, "limits.parquet")
    for column in ("grade", "new_limit", "proposed_limit", "action", "binding_rule", "risk_flags",
                   "reason_1", "reason_1_en", "reason_1_zh", "reason_3_en"):
        assert spark_limits[column].tolist() == local_limits[column].tolist(), column
    assert_frames_equal(local_limits, spark_limits)
    assert (local_limits["action"] == "decrease").any()


def test_spark_flags_match_local_engine(runs):
    local, spark, _ = runs
    local_flags, spark_flags = read(local, "flags.parquet"), read(spark, "flags.parquet")
    assert_frames_equal(local_flags, spark_flags)
    # The portfolio-wide and group flags are raised from whole-book and whole-group figures.
    assert {"concentration", "group_over_cap", "pd_jump"} <= set(local_flags["code"])


@pytest.mark.parametrize("name", ["explanations.parquet", "contributions.parquet", "changes.parquet",
                                  "grade_migration.parquet", "features.parquet"])
def test_spark_tables_match_local_engine(runs, name):
    local, spark, _ = runs
    assert_frames_equal(read(local, name), read(spark, name))


def test_spark_manifest_matches_local_engine(runs):
    local, spark, _ = runs
    assert json.loads((spark / "manifest.json").read_text()) == json.loads((local / "manifest.json").read_text())
