"""Tests of the explain section's validation."""

from __future__ import annotations

import pytest
from repo_params import repo_params

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.serving.explain_params import ExplainParams

SECTION = repo_params()["explain"]


def test_explain_params_from_repo_params():
    """The repository's explain section is valid and frozen."""
    params = ExplainParams.from_mapping(SECTION)
    assert params.restore_steps == tuple(float(s) for s in SECTION["restore_steps"])
    assert set(params.restore_actions) == set(SECTION["restore_actions"])
    with pytest.raises(TypeError):
        params.restore_actions["pay_overdue"] = {}  # type: ignore[index]


@pytest.mark.parametrize(("key", "value", "rule"), [
    ("top_causes", 0, "whole number, at least 1"),
    ("min_contribution_change", -0.1, "at least 0"),
    ("restore_steps", [0.5, 0.5], "strictly increasing"),
    ("restore_steps", [0.0, 1.0], r"in \(0, 1\]"),
    ("restore_steps", [], "strictly increasing"),
    ("restore_max_actions", 1.5, "whole number"),
    ("restore_actions", {"pay_cash": {"max_dpd_now": 0}}, "one of pay_overdue"),
    ("restore_actions", {"pay_overdue": {"industry": 0}}, "numeric model feature"),
    ("restore_actions", {"pay_overdue": {"max_dpd_now": "zero"}}, "numeric model feature"),
    ("restore_actions", {}, "a mapping of actions"),
])
def test_explain_params_rejects_invalid_value(key, value, rule):
    """Each broken rule names the key, the rule and the value."""
    with pytest.raises(ParamsError, match=rf"explain\.{key}.*: it must be .*{rule}.*but got"):
        ExplainParams.from_mapping({**SECTION, key: value})


def test_explain_params_missing_and_unknown_keys():
    """Missing and unknown keys are reported, also in zh_CN."""
    with pytest.raises(ParamsError, match=r"explain\.top_causes is missing"):
        ExplainParams.from_mapping({k: v for k, v in SECTION.items() if k != "top_causes"})
    with use_locale("zh_CN"):
        with pytest.raises(ParamsError, match=r"未知的解释参数 explain\.top_k"):
            ExplainParams.from_mapping({**SECTION, "top_k": 3})
