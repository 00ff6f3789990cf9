"""End-to-end: `dvc repro` leaves two runs to compare, and `creditlimit simulate` publishes nothing."""

import hashlib
import json
import subprocess

import pyarrow.parquet as pq
import pytest
import yaml

from pipeline_workspace import TINY_OVERLAY, make_workspace, pipeline_env, run_in

pytestmark = pytest.mark.slow


def tree_hashes(folder):
    """Map each file under ``folder`` to its SHA-256, to prove nothing was written there."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """A tiny sample workspace after one dvc repro."""
    workspace = make_workspace(tmp_path_factory.mktemp("simulate"), TINY_OVERLAY)
    run_in(workspace, "dvc", "repro")
    return workspace


def test_repro_scores_previous_run_first(workspace):
    """The demo leaves the previous run and compares the current run with it."""
    scores = workspace / "data" / "scores"
    previous = scores / f"as_of={TINY_OVERLAY['score.previous_as_of']}"
    current = scores / f"as_of={TINY_OVERLAY['score.as_of']}"
    assert (previous / "manifest.json").is_file()
    manifest = json.loads((current / "manifest.json").read_text())
    assert manifest["previous_as_of"] == TINY_OVERLAY["score.previous_as_of"]
    limits = pq.read_table(current / "limits.parquet").to_pandas()
    assert limits["previous_grade"].notna().mean() > 0.9
    assert limits["next_review_on"].notna().all()
    migration = pq.read_table(current / "grade_migration.parquet").to_pandas()
    assert migration["customers"].sum() >= len(limits)
    features = pq.read_table(current / "features.parquet").to_pandas()
    assert sorted(features["customer_id"]) == sorted(limits["customer_id"])


def test_simulate_reports_without_publishing(workspace, tmp_path):
    """A stricter policy reports its moves and writes only to --out."""
    params = yaml.safe_load((workspace / "params.yaml").read_text(encoding="utf-8"))
    params["policy"]["version"] = "strict"
    params["policy"]["cutoff_grade"] = 6
    scenario = tmp_path / "params-strict.yaml"
    scenario.write_text(yaml.safe_dump(params), encoding="utf-8")
    before = tree_hashes(workspace / "data" / "scores")

    out = tmp_path / "simulation"
    result = run_in(workspace, "creditlimit", "simulate", "--params", str(scenario),
                    "--as-of", TINY_OVERLAY["score.as_of"], "--out", str(out))
    assert "Policy simulation as of 2025-01-01 (nothing published)" in result.stdout
    assert "cut to zero" in result.stdout
    assert "By industry:" in result.stdout
    assert tree_hashes(workspace / "data" / "scores") == before

    report = json.loads((out / "simulation.json").read_text(encoding="utf-8"))
    assert report["scenario_policy"] == "strict"
    assert report["overall"]["decreases"] > 0
    assert report["overall"]["limit_change"] < 0
    assert report["overall"]["expected_loss_change"] < 0
    assert (out / "simulation_segments.csv").is_file()
    assert (out / "simulation_customers.csv").is_file()


def test_simulate_prints_chinese(workspace, tmp_path):
    """Under a Chinese locale the report is printed in Chinese."""
    env = {**pipeline_env(workspace), "CREDITLIMIT_LANG": "zh_CN"}
    result = subprocess.run(["creditlimit", "simulate", "--params", "params.yaml"], cwd=workspace, env=env,
                            capture_output=True, text=True, timeout=1200, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "策略模拟" in result.stdout
    assert "上调 0 户" in result.stdout
