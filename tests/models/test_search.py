"""Tests for creditlimit.models.search: budget, determinism, validation-only objective, params."""

from __future__ import annotations

import copy

import pytest

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.models.search import SearchParams, search_hyperparameters
from creditlimit.models.split import split_by_time
from creditlimit.models.training import TrainParams, train_pd_model

SEARCH_SECTION = {
    "enabled": True,
    "n_trials": 3,
    "timeout_seconds": 600,
    "seed": 7,
    "space": {
        "learning_rate": [0.03, 0.2],
        "num_leaves": [3, 15],
        "min_child_samples": [20, 200],
        "colsample_bytree": [0.5, 1.0],
    },
}


@pytest.fixture(scope="module")
def search_table(table_factory):
    """200 customers over 20 months, with more bads than the shared table."""
    return table_factory(n_customers=200, n_months=20, seed=31, base_logit=-2.4)


@pytest.fixture(scope="module")
def small_params(train_section):
    section = copy.deepcopy(train_section)
    section["valid_months"] = 4
    section["oot_months"] = 4
    section["lightgbm"]["n_estimators"] = 40
    section["lightgbm"]["early_stopping_rounds"] = 10
    return TrainParams.from_mapping(section)


@pytest.fixture(scope="module")
def baseline(search_table, small_params):
    """One search with the section above."""
    return _search(search_table, small_params)


def _search(table, params, **changes):
    section = {**SEARCH_SECTION, **changes}
    return search_hyperparameters(table, params=params, search=SearchParams.from_mapping(section))


def _comparable(trials):
    return trials.drop(columns=["seconds"])


def test_search_runs_the_trial_budget(baseline, small_params):
    """Every trial is recorded, within the ranges, and the best one is kept."""
    result = baseline
    trials = result.trials
    assert len(trials) == 3
    assert list(trials["state"]) == ["COMPLETE"] * 3
    assert trials["learning_rate"].between(0.03, 0.2).all()
    assert trials["num_leaves"].between(3, 15).all()
    assert result.best_valid_auc == trials["valid_auc"].max()
    best = trials.loc[trials["valid_auc"].idxmax()]
    assert result.best_params["num_leaves"] == best["num_leaves"]
    assert result.lightgbm.num_leaves == best["num_leaves"]
    assert result.lightgbm.n_estimators == small_params.lightgbm.n_estimators


def test_search_is_deterministic_with_a_seed(baseline, search_table, small_params):
    """The same seed gives the same trials; another seed gives other ones."""
    first = baseline
    second = _search(search_table, small_params)
    other = _search(search_table, small_params, seed=8)
    assert _comparable(first.trials).equals(_comparable(second.trials))
    assert not _comparable(first.trials).equals(_comparable(other.trials))


def test_search_never_reads_out_of_time_labels(baseline, search_table, small_params):
    """Flipping every out-of-time label changes no trial: the objective uses validation only."""
    split = split_by_time(search_table, valid_months=4, oot_months=4, gap_months=0)
    flipped = search_table.copy()
    flipped.loc[split.oot.mask, "is_bad"] = 1 - flipped.loc[split.oot.mask, "is_bad"]
    original = baseline
    changed = _search(flipped, small_params)
    assert _comparable(original.trials).equals(_comparable(changed.trials))


def test_search_stops_at_the_timeout(search_table, small_params):
    """A tiny time budget ends the search after the first trial."""
    result = _search(search_table, small_params, n_trials=50, timeout_seconds=0.001)
    assert 1 <= len(result.trials) < 50


def test_search_best_values_train_the_model(search_table, small_params):
    """train_pd_model trains with the searched values when they replace train.lightgbm."""
    import dataclasses

    result = _search(search_table, small_params, n_trials=2)
    trained = train_pd_model(search_table, params=dataclasses.replace(small_params, lightgbm=result.lightgbm))
    assert trained.lightgbm_params["num_leaves"] == result.best_params["num_leaves"]
    assert trained.lightgbm_params["learning_rate"] == result.best_params["learning_rate"]


def test_search_params_read_params_yaml():
    """The search section of params.yaml validates and is off by default."""
    from repo_params import repo_params

    params = SearchParams.from_mapping(repo_params()["train"]["search"])
    assert params.enabled is False
    assert params.n_trials >= 1


@pytest.mark.parametrize(
    ("changes", "en", "zh"),
    [
        ({"n_trials": 0}, r"train.search.n_trials must be an integer >= 1; got 0", r"大于等于 1 的整数"),
        ({"timeout_seconds": -1}, r"train.search.timeout_seconds must be a number of seconds > 0",
         r"大于 0 的秒数"),
        ({"space": {"num_leaves": [10, 5]}}, r"train.search.space.num_leaves must be \[low, high\]",
         r"下限小于上限"),
        ({"space": {"reg_lambda": [0.0, 1.0]}}, r"reg_lambda must be \[low, high\] with low < high, low > 0",
         r"下限大于 0"),
        ({"space": {"subsample": [0.5, 1.5]}}, r"within \(0, 1\]", r"\(0, 1\] 区间内"),
        ({"space": {"max_bin": [10, 50]}}, r"train.search.space: unknown key\(s\) max_bin", r"未知的键 max_bin"),
        ({"trials": 3}, r"train.search: unknown key\(s\) trials", r"未知的键 trials"),
    ],
)
def test_search_params_rejects_invalid(changes, en, zh):
    """Invalid search settings raise ParamsError naming the key, in en and zh_CN."""
    section = {**SEARCH_SECTION, **changes}
    with use_locale("en"), pytest.raises(ParamsError, match=en):
        SearchParams.from_mapping(section)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=zh):
        SearchParams.from_mapping(section)
