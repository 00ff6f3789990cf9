"""Tests of the creditlimit command line: help by locale, errors and exit codes."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run_cli(*args, lang="en", cwd=None):
    env = {**os.environ, "CREDITLIMIT_LANG": lang, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run([str(BIN / "creditlimit"), *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "Score every customer as of a date"), ("zh_CN", "按指定日期为全部客户评分")],
)
def test_help_follows_locale(lang, expected):
    """Top-level help lists every stage in the user's language."""
    result = run_cli("--help", lang=lang)
    assert result.returncode == 0
    assert expected in result.stdout
    for command in ("sample", "validate", "features", "train", "score", "summary", "import"):
        assert command in result.stdout


def test_help_does_not_import_heavy_libraries():
    """--help stays fast: mlflow, shap, dvc and lightgbm are imported lazily."""
    code = (
        "import sys; from creditlimit.pipelines.cli import build_app; build_app();"
        "print(sorted(m for m in ('mlflow','shap','dvc','lightgbm') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]"


def test_help_option_text_translated():
    """The --help option's own text is Chinese under zh_CN, in sub-commands too."""
    result = run_cli("import", "ibm-ar", "--help", lang="zh_CN")
    assert result.returncode == 0
    assert "显示本帮助信息并退出" in result.stdout
    assert "Show this message and exit" not in result.stdout


def test_bad_date_is_usage_error():
    """An invalid --as-of gives exit code 2 and names the value."""
    result = run_cli("score", "--as-of", "2026-13-01")
    assert result.returncode == 2
    assert "'2026-13-01' is not a date in the form YYYY-MM-DD" in result.stderr


def test_missing_params_file_exit_code(tmp_path):
    """A missing params file is a parameter error (exit 2) with a translated message."""
    result = run_cli("validate", "--params", str(tmp_path / "none.yaml"), lang="zh_CN")
    assert result.returncode == 2
    assert "未找到参数文件" in result.stderr


def test_import_help_names_ibm_ledger():
    """The import group offers the IBM ledger adapter."""
    result = run_cli("import", "ibm-ar", "--help")
    assert result.returncode == 0
    assert "M/D/YYYY" in result.stdout
