"""Validation of the report section of params.yaml."""

import pytest
from repo_params import repo_params
from tiny_run import REPORT_PARAMS

from creditlimit.errors import ParamsError
from creditlimit.reports.params import ReportParams


def test_repository_params_are_valid():
    """The committed params.yaml has a valid report section."""
    params = ReportParams.from_mapping(repo_params()["report"])
    assert params.locales[0] in ("zh_CN", "en")
    assert params.psi_warning < params.psi_alert


@pytest.mark.parametrize(("name", "value", "match"), [
    ("history_months", 0, r"report\.history_months must be a whole number >= 1; got 0"),
    ("top_movers", True, r"report\.top_movers must be a whole number >= 1; got True"),
    ("psi_warning", -0.1, r"report\.psi_warning must be a number > 0; got -0\.1"),
    ("psi_alert", 0.05, r"report\.psi_alert must be greater than report\.psi_warning; got 0\.05"),
    ("locales", ["fr"], r"report\.locales must be a non-empty list of distinct locales"),
    ("locales", ["en", "en"], r"report\.locales must be a non-empty list of distinct locales"),
    ("ageing_bucket_days", [60, 30], r"report\.ageing_bucket_days must be a list of increasing"),
    ("ageing_bucket_days", [], r"report\.ageing_bucket_days must be a list of increasing"),
])
def test_invalid_value_is_named(name, value, match):
    """A bad value raises an error naming the key, the rule and the value."""
    with pytest.raises(ParamsError, match=match):
        ReportParams.from_mapping({**REPORT_PARAMS, name: value})


def test_missing_and_unknown_keys():
    """Missing and misspelt keys are rejected by name."""
    incomplete = {k: v for k, v in REPORT_PARAMS.items() if k != "top_movers"}
    with pytest.raises(ParamsError, match=r"report\.top_movers is missing"):
        ReportParams.from_mapping(incomplete)
    with pytest.raises(ParamsError, match=r"report\.top_mover is unknown"):
        ReportParams.from_mapping({**REPORT_PARAMS, "top_mover": 3})
