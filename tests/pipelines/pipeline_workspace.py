"""Helpers for end-to-end pipeline tests: a throw-away DVC workspace."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from repo_params import repo_params

from creditlimit.pipelines.params import apply_overlay

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("CREDITLIMIT_SHARED_DATA", REPO.parent / "shared" / "data"))

# A tiny sample portfolio that still has enough bad snapshots to train on.
TINY_OVERLAY = {
    "sample.customers": 400,
    "sample.months": 36,
    "sample.start": "2022-01-01",
    "train.valid_months": 3,
    "train.oot_months": 3,
    "train.gap_months": 6,
    "train.min_oot_auc": 0.6,
    # 3 out-of-time months of 400 customers give a noisy KS (0.31 measured).
    "train.gates.min_oot_ks": 0.2,
    "score.as_of": "2025-01-01",
    "score.previous_as_of": "2024-12-01",
}


def pipeline_env(workspace: Path) -> dict[str, str]:
    """Environment for dvc and creditlimit subprocesses."""
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DVC_NO_ANALYTICS": "1",
        "CREDITLIMIT_LANG": "en",
        "MLFLOW_TRACKING_URI": f"sqlite:///{workspace / 'mlflow.db'}",
    }


def make_workspace(root: Path, overlay: dict) -> Path:
    """Copy the pipeline definition and code into ``root`` with params overridden."""
    workspace = root / "workspace"
    workspace.mkdir()
    shutil.copy(REPO / "dvc.yaml", workspace / "dvc.yaml")
    shutil.copytree(REPO / "creditlimit", workspace / "creditlimit",
                    ignore=shutil.ignore_patterns("__pycache__"))
    params = apply_overlay(repo_params(), overlay)
    (workspace / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True),
                                           encoding="utf-8")
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=workspace, env=pipeline_env(workspace), check=True)
    subprocess.run(["dvc", "config", "core.analytics", "false"], cwd=workspace,
                   env=pipeline_env(workspace), check=True)
    shutil.copy(REPO / ".dvcignore", workspace / ".dvcignore")
    return workspace


def run_in(workspace: Path, *args: str, check: bool = True,
           extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run a command in the workspace and show its output when it fails."""
    result = subprocess.run(list(args), cwd=workspace, env={**pipeline_env(workspace), **(extra_env or {})},
                            capture_output=True, text=True, timeout=1200)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-8000:]}")
    return result
