"""Stage `report`: error messages and the path printed at the end of `make demo`."""

import datetime as dt

import pytest
import yaml
from repo_params import repo_params

from creditlimit.errors import InputDataError
from creditlimit.i18n import use_locale
from creditlimit.pipelines.report import print_report_path, run


@pytest.fixture
def params_path(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(repo_params(), allow_unicode=True), encoding="utf-8")
    return path


def test_print_path_of_existing_report(params_path, tmp_path, capsys):
    """The entry page of an existing report is printed with its absolute path."""
    folder = tmp_path / "reports" / "as_of=2026-01-01"
    folder.mkdir(parents=True)
    (folder / "index.html").write_text("<!DOCTYPE html>", encoding="utf-8")
    with use_locale("en"):
        index = print_report_path(params_path=params_path, as_of=dt.date(2026, 1, 1), out_root=tmp_path / "reports")
    assert index == folder / "index.html"
    assert str(index.resolve()) in capsys.readouterr().out


def test_print_path_without_report(params_path, tmp_path):
    """A missing report names the date and the command that builds it."""
    with use_locale("en"), pytest.raises(InputDataError, match=r"No report for 2026-01-01 .*creditlimit report --as-of 2026-01-01"):
        print_report_path(params_path=params_path, as_of=dt.date(2026, 1, 1), out_root=tmp_path / "reports")


def test_run_without_scoring_run(params_path, tmp_path):
    """Reporting a date that was never scored names the score command."""
    with use_locale("zh_CN"), pytest.raises(InputDataError, match=r"creditlimit score --as-of 2026-01-01"):
        run(params_path=params_path, as_of=dt.date(2026, 1, 1), scores_root=tmp_path / "scores",
            clean_dir=tmp_path / "clean", models_dir=tmp_path / "models", training_path=tmp_path / "t.parquet",
            out_root=tmp_path / "reports")
