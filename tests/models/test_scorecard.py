"""Tests for creditlimit.models.scorecard: PDO scaling, WoE bins, trends, missing values, JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import ModelError, ParamsError
from creditlimit.features.catalog import CATEGORICAL_FEATURES
from creditlimit.i18n import use_locale
from creditlimit.models.scorecard import (
    ChallengerParams,
    ScorecardModel,
    monotonic_trends,
    points_scaling,
    train_challenger,
)
from creditlimit.models.split import split_by_time


def test_points_scaling_hand_computed():
    """600 points at 50:1 good:bad odds and 20 points to double the odds: factor and offset by hand."""
    factor, offset = points_scaling(pdo=20, base_points=600, base_odds=50)
    assert factor == pytest.approx(20 / 0.6931471805599453, rel=1e-12)  # 28.8539
    assert offset == pytest.approx(600 - 28.85390081777927 * 3.912023005428146, rel=1e-12)  # 487.1229
    for odds, points in [(50, 600.0), (100, 620.0), (200, 640.0), (25, 580.0), (12.5, 560.0)]:
        assert offset + factor * math.log(odds) == pytest.approx(points, abs=1e-9)


def test_scorecard_points_follow_log_odds(trained_challenger):
    """Each customer's points are offset - factor * log-odds, so doubling the odds adds pdo points."""
    model = trained_challenger.model
    factor, offset = points_scaling(pdo=model.pdo, base_points=model.base_points,
                                    base_odds=model.base_odds)
    frame = pd.DataFrame({bins.name: [None] for bins in model.features})
    scored = trained_challenger.predict(frame)
    assert scored["score_points"].iloc[0] == pytest.approx(
        offset - factor * scored["raw_margin"].iloc[0], abs=1e-9)


def test_scorecard_points_match_predictions_on_every_row(trained_challenger, training_table):
    """Points, log-odds and PD agree row by row: PD = logistic(log-odds) and points are linear in it."""
    scored = trained_challenger.predict(training_table)
    model = trained_challenger.model
    factor, offset = points_scaling(pdo=model.pdo, base_points=model.base_points,
                                    base_odds=model.base_odds)
    np.testing.assert_allclose(scored["score_points"], offset - factor * scored["raw_margin"],
                               atol=1e-8)
    np.testing.assert_allclose(scored["pd_12m"], 1 / (1 + np.exp(-scored["raw_margin"])), rtol=1e-12)
    good_bad_odds = (1 - scored["pd_12m"]) / scored["pd_12m"]
    doubled = 600 + 20 * np.log2(good_bad_odds / 50)
    np.testing.assert_allclose(scored["score_points"], doubled, atol=1e-6)


def test_scorecard_matches_optbinning_scorecard(trained_challenger, training_table, train_section,
                                                challenger_section):
    """PDs and points equal optbinning's own Scorecard fitted on the kept features."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    model = trained_challenger.model
    kept = list(model.feature_names)
    categoricals = [name for name in kept if name in CATEGORICAL_FEATURES]
    trends = monotonic_trends(train_section["monotone_constraints"], kept)
    options = challenger_section["binning"]
    split = split_by_time(training_table, valid_months=6, oot_months=6, gap_months=0)
    frame = training_table[kept].copy()
    for name in categoricals:
        frame[name] = frame[name].astype(object)
    process = BinningProcess(
        kept, categorical_variables=categoricals, **options,
        binning_fit_params={n: {"monotonic_trend": trends[n]} for n in kept if n not in categoricals},
    )
    reference = Scorecard(process, LogisticRegression(C=1.0, max_iter=2000),
                          scaling_method="pdo_odds",
                          scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600})
    reference.fit(frame[split.train.mask], training_table.loc[split.train.mask, "is_bad"],
                  metric_missing="empirical", metric_special="empirical")

    rows = frame[split.oot.mask]
    scored = trained_challenger.predict(rows)
    np.testing.assert_allclose(scored["pd_12m"], reference.predict_proba(rows)[:, 1], rtol=1e-6)
    np.testing.assert_allclose(scored["score_points"], reference.score(rows), rtol=1e-6)


def test_scorecard_coefficients_all_negative(trained_challenger):
    """Every kept feature scores with its bins' evidence (negative WoE coefficient)."""
    coefficients = [bins.coefficient for bins in trained_challenger.model.features]
    assert len(coefficients) >= 5
    assert max(coefficients) < 0.0
    for reason in trained_challenger.model.dropped.values():
        assert reason.startswith("positive WoE coefficient") or reason == "no value in the training part"


def test_scorecard_bins_follow_monotone_trend(trained_challenger, train_section):
    """Event rates of the regular bins rise (fall) for +1 (-1) constrained features."""
    checked = 0
    for bins in trained_challenger.model.features:
        sign = train_section["monotone_constraints"].get(bins.name, 0)
        if sign == 0:
            continue
        assert bins.trend == {1: "ascending", -1: "descending"}[sign]
        rates = np.asarray(bins.event_rate[:-1])
        assert np.all(np.diff(rates) * sign >= 0.0), bins.name
        checked += 1
    assert checked >= 3


def test_scorecard_pd_moves_only_the_allowed_way(trained_challenger, training_table, train_section):
    """Sweeping each constrained feature over a grid never moves the challenger's PD against its sign."""
    rows = training_table.sample(20, random_state=5).reset_index(drop=True)
    moved = 0
    for bins in trained_challenger.model.features:
        sign = train_section["monotone_constraints"].get(bins.name, 0)
        if sign == 0:
            continue
        grid = np.quantile(training_table[bins.name].dropna(), np.linspace(0.0, 1.0, 25))
        sweep = rows.loc[rows.index.repeat(grid.size)].reset_index(drop=True)
        sweep[bins.name] = np.tile(grid, len(rows))
        by_row = trained_challenger.predict(sweep)["pd_12m"].to_numpy().reshape(len(rows), grid.size)
        assert (np.diff(by_row, axis=1) * sign).min() >= 0.0, bins.name
        moved += int(np.ptp(by_row) > 0)
    assert moved >= 3


def test_scorecard_missing_value_uses_missing_bin(trained_challenger, training_table):
    """A missing value scores with the WoE observed for missing values, not as 0 or any bin's value."""
    model = trained_challenger.model
    bins = next(b for b in model.features if b.kind == "numerical" and b.counts[-1] > 0)
    row = training_table.head(1).copy()
    row[bins.name] = np.nan
    zero = row.assign(**{bins.name: 0.0})
    difference = (trained_challenger.predict(row)["raw_margin"].iloc[0]
                  - trained_challenger.predict(zero)["raw_margin"].iloc[0])
    zero_bin = bins.bin_index(pd.Series([0.0]))[0]
    expected = bins.coefficient * (bins.woe[-1] - bins.woe[zero_bin])
    assert difference == pytest.approx(expected, abs=1e-12)
    assert bins.bin_index(pd.Series([np.nan]))[0] == len(bins.woe) - 1
    assert bins.labels()[-1] == "Missing"


def test_scorecard_unseen_category_scores_as_missing(trained_challenger, training_table):
    """An industry never seen in training scores exactly like a missing industry."""
    if "industry" not in trained_challenger.model.feature_names:
        pytest.skip("industry was dropped from this scorecard")
    rows = training_table.head(20)
    unseen = trained_challenger.predict(rows.assign(industry="mining"))
    missing = trained_challenger.predict(rows.assign(industry=None))
    pd.testing.assert_frame_equal(unseen, missing)


def test_scorecard_json_round_trip(trained_challenger, training_table):
    """to_dict is plain JSON and from_dict predicts identically."""
    data = json.loads(json.dumps(trained_challenger.model.to_dict(), allow_nan=False))
    restored = ScorecardModel.from_dict(data)
    pd.testing.assert_frame_equal(restored.predict(training_table),
                                  trained_challenger.predict(training_table))


def test_scorecard_from_dict_rejects_corrupt_bins(trained_challenger):
    """A stored feature whose WoE list does not match its bins is rejected."""
    data = trained_challenger.model.to_dict()
    data["features"][0]["woe"] = data["features"][0]["woe"][:-1]
    with pytest.raises(ModelError, match=r"Stored scorecard is invalid: bins of"):
        ScorecardModel.from_dict(data)


def test_scorecard_table_lists_every_bin(trained_challenger):
    """The scorecard table has one row per bin including each missing bin."""
    table = trained_challenger.model.table()
    expected = sum(len(bins.woe) for bins in trained_challenger.model.features)
    assert len(table) == expected
    assert (table.groupby("feature")["label"].last() == "Missing").all()
    assert set(trained_challenger.binning_table["feature"]) >= set(trained_challenger.model.feature_names)


def test_challenger_metrics_on_same_split(trained_challenger, trained_model):
    """The challenger is evaluated on the champion's train, valid and oot rows and ranks out of time."""
    assert trained_challenger.split == trained_model.split
    for part in ("train", "valid", "oot"):
        assert trained_challenger.metrics[part]["n_rows"] == trained_model.metrics[part]["n_rows"]
    assert trained_challenger.metrics["oot"]["auc"] > 0.7


def test_train_challenger_is_reproducible(table_factory, train_section, challenger_section, tmp_path):
    """The same data and params give a byte-identical registered scorecard file and identical metrics."""
    from creditlimit.models.scorecard_pyfunc import ScorecardPDModel

    table = table_factory(n_customers=300, n_months=20, seed=21, base_logit=-2.6)
    params = ChallengerParams.from_mapping(challenger_section)
    runs = [
        train_challenger(table, params=params, valid_months=4, oot_months=4, gap_months=0,
                         monotone_constraints=train_section["monotone_constraints"])
        for _ in range(2)
    ]
    written = []
    for number, run in enumerate(runs):
        model = ScorecardPDModel.from_scorecard(run.model, default_definition={"horizon_months": 12})
        paths = model.write_artifacts(tmp_path / str(number))
        written.append({name: Path(path).read_bytes() for name, path in paths.items()})
    assert written[0] == written[1]
    assert runs[0].metrics == runs[1].metrics


def test_train_challenger_drops_all_missing_feature(table_factory, train_section, challenger_section):
    """A feature with no value in the training part is left out with its reason."""
    table = table_factory(n_customers=200, n_months=20, seed=24, base_logit=-2.4)
    table["interest_coverage"] = np.nan
    trained = train_challenger(table, params=ChallengerParams.from_mapping(challenger_section),
                               valid_months=4, oot_months=4, gap_months=0,
                               monotone_constraints=train_section["monotone_constraints"])
    assert trained.model.dropped["interest_coverage"] == "no value in the training part"
    assert "interest_coverage" not in trained.model.feature_names


def test_monotonic_trends_from_constraints():
    """+1 maps to ascending, -1 to descending and anything else to auto."""
    trends = monotonic_trends({"a": 1, "b": -1, "c": 0}, ["a", "b", "c", "d"])
    assert trends == {"a": "ascending", "b": "descending", "c": "auto", "d": "auto"}


@pytest.mark.parametrize(
    ("changes", "en", "zh"),
    [
        ({"pdo": 0}, r"train.challenger.pdo must be a number > 0; got 0", r"必须是大于 0 的数值"),
        ({"base_odds": -5}, r"train.challenger.base_odds must be a number > 0; got -5", r"实际为 -5"),
        ({"enabled": "yes"}, r"train.challenger.enabled must be true or false", r"true 或 false"),
        ({"binning": {"max_n_bins": 1}}, r"binning.max_n_bins must be an integer >= 2",
         r"大于等于 2 的整数"),
        ({"binning": {"min_bin_size": 0.7}}, r"binning.min_bin_size must be a number in \(0, 0.5\]",
         r"\(0, 0.5\] 区间内的数值"),
        ({"pd0": 20}, r"train.challenger: unknown parameter\(s\) pd0", r"未知参数 pd0"),
    ],
)
def test_challenger_params_rejects_invalid(challenger_section, changes, en, zh):
    """Invalid challenger parameters raise ParamsError naming the key, in en and zh_CN."""
    section = {**challenger_section, **changes}
    with use_locale("en"), pytest.raises(ParamsError, match=en):
        ChallengerParams.from_mapping(section)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=zh):
        ChallengerParams.from_mapping(section)


def test_challenger_params_requires_scaling(challenger_section):
    """Missing scaling values are named."""
    section = {key: value for key, value in challenger_section.items() if key != "base_points"}
    with pytest.raises(ParamsError, match=r"required parameter 'base_points' is missing"):
        ChallengerParams.from_mapping(section)
