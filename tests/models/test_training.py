"""Tests for creditlimit.models.training: parameters, the trained model, monotonicity, determinism."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES
from creditlimit.i18n import use_locale
from creditlimit.models.training import NUM_THREADS, TrainParams, train_pd_model

PARAMS_PATH = Path(__file__).resolve().parents[2] / "params.yaml"
FINANCIAL = [
    "debt_to_assets", "current_ratio", "quick_ratio", "interest_coverage", "ocf_to_liabilities",
    "net_margin", "roa", "revenue_growth", "log_revenue", "statement_age_months",
]


def small_section(train_section: dict) -> dict:
    """The train section resized for a 20-month table."""
    section = copy.deepcopy(train_section)
    section["valid_months"] = 4
    section["oot_months"] = 4
    return section


def test_train_params_read_params_yaml():
    """The train section of params.yaml validates into TrainParams."""
    train = yaml.safe_load(PARAMS_PATH.read_text(encoding="utf-8"))["train"]
    params = TrainParams.from_mapping(train)
    assert params.valid_months == train["valid_months"]
    assert params.lightgbm.n_estimators == train["lightgbm"]["n_estimators"]
    assert dict(params.monotone_constraints) == train["monotone_constraints"]
    assert params.to_record()["train.lightgbm.learning_rate"] == train["lightgbm"]["learning_rate"]


def test_lightgbm_native_params_are_deterministic(train_section):
    """Native parameters fix threads and seed, keep NaN as missing and map scikit-learn names."""
    params = TrainParams.from_mapping(train_section)
    native = params.lightgbm.native(seed=params.seed, monotone_constraints=[0, 1])
    assert native["deterministic"] is True
    assert native["force_row_wise"] is True
    assert native["num_threads"] == NUM_THREADS == 2
    assert native["seed"] == 42
    assert native["use_missing"] is True
    assert native["zero_as_missing"] is False
    assert native["min_data_in_leaf"] == 50
    assert native["bagging_fraction"] == 0.8
    assert native["feature_fraction"] == 0.8
    assert native["monotone_constraints"] == [0, 1]


def mutate(section: dict, path: str, value: object) -> dict:
    """Copy ``section`` with the dotted ``path`` set to ``value`` (or removed for ``...``)."""
    changed = copy.deepcopy(section)
    *parents, leaf = path.split(".")
    target = changed
    for key in parents:
        target = target[key]
    if value is ...:
        del target[leaf]
    else:
        target[leaf] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("monotone_constraints.max_dpd_now", 2, r"monotone_constraints.max_dpd_now must be -1, 0 or 1; got 2"),
        ("monotone_constraints.max_dpd_now", True, r"must be -1, 0 or 1; got True"),
        ("monotone_constraints.credit_score", 1, r"unknown feature\(s\) credit_score"),
        ("monotone_constraints.industry", 1, r"monotone_constraints.industry: a categorical feature cannot"),
        ("seed", -1, r"train.seed must be an integer >= 0; got -1"),
        ("seed", True, r"train.seed must be an integer >= 0; got True"),
        ("valid_months", 0, r"train.valid_months must be an integer >= 1; got 0"),
        ("min_oot_auc", 1.2, r"train.min_oot_auc must be a number in \[0, 1\]; got 1.2"),
        ("calibration", "platt", r"train.calibration must be one of auto, isotonic, sigmoid"),
        ("oot_months", ..., r"train: required parameter 'oot_months' is missing"),
        ("learning_rate", 0.1, r"train: unknown parameter\(s\) learning_rate"),
        ("lightgbm.learning_rate", 0.0, r"train.lightgbm.learning_rate must be a number in \(0, 1\]; got 0.0"),
        ("lightgbm.subsample", 1.5, r"train.lightgbm.subsample must be a number in \(0, 1\]"),
        ("lightgbm.reg_lambda", float("inf"), r"train.lightgbm.reg_lambda must be a number in \[0, inf\)"),
        ("lightgbm.num_leaves", 1, r"train.lightgbm.num_leaves must be an integer >= 2; got 1"),
        ("lightgbm.n_estimators", 10.5, r"train.lightgbm.n_estimators must be an integer >= 1"),
        ("lightgbm.max_depth", 0, r"max_depth must be -1 \(no limit\) or an integer >= 1; got 0"),
        ("lightgbm.boosting", "dart", r"train.lightgbm: unknown parameter\(s\) boosting"),
        ("lightgbm.early_stopping_rounds", ..., r"'early_stopping_rounds' is missing"),
        ("lightgbm", [1, 2], r"train.lightgbm must be a mapping"),
    ],
)
def test_train_params_rejects_invalid_values(train_section, path, value, message):
    """Each invalid value raises ParamsError naming the parameter, the rule and the value."""
    with pytest.raises(ParamsError, match=message):
        TrainParams.from_mapping(mutate(train_section, path, value))


def test_train_params_error_in_chinese(train_section):
    """Parameter errors render in zh_CN."""
    section = mutate(train_section, "monotone_constraints.max_dpd_now", 5)
    with use_locale("zh_CN"), pytest.raises(ParamsError, match=r"必须是 -1、0 或 1；实际为 5"):
        TrainParams.from_mapping(section)


def test_train_params_accepts_optional_lightgbm_keys(train_section):
    """Optional booster settings take their values when given."""
    section = mutate(train_section, "lightgbm.max_depth", 6)
    section["lightgbm"]["reg_alpha"] = 0.5
    params = TrainParams.from_mapping(section)
    assert params.lightgbm.max_depth == 6
    assert params.lightgbm.reg_alpha == 0.5


def test_trained_model_ranks_out_of_time(trained_model):
    """On the seeded synthetic portfolio the OOT AUC clears the params.yaml gate of 0.70."""
    oot = trained_model.metrics["oot"]
    assert oot["auc"] > 0.70
    assert oot["gini"] == pytest.approx(2 * oot["auc"] - 1)
    assert set(trained_model.metrics) == {"train", "valid", "oot"}
    assert all(not values["undefined"] for values in trained_model.metrics.values())


def test_trained_model_records_time_split(trained_model):
    """The split of a 30-month table is 18 train, 6 valid and 6 OOT months."""
    split = trained_model.split
    assert split["train"]["start"] == "2022-01-01"
    assert split["train"]["months"] == 18
    assert split["valid"]["start"] == "2023-07-01"
    assert split["oot"]["start"] == "2024-01-01"
    assert split["oot"]["end"] == "2024-06-01"
    assert sum(part["rows"] for part in split.values()) == 18_000


def test_trained_model_stops_early_and_keeps_best_trees(trained_model):
    """Early stopping keeps best_iteration trees, and the booster contains exactly those."""
    assert 1 <= trained_model.best_iteration < 400
    assert trained_model.booster.num_trees() == trained_model.best_iteration


def test_trained_model_passes_categoricals_as_categorical(trained_model):
    """industry and size_class reach LightGBM as categorical features by index."""
    text = trained_model.booster.model_to_string()
    positions = [FEATURE_NAMES.index(name) for name in CATEGORICAL_FEATURES]
    assert f"[categorical_feature: {','.join(map(str, positions))}]" in text
    assert trained_model.categorical_features == CATEGORICAL_FEATURES
    assert trained_model.feature_names == FEATURE_NAMES


def test_trained_model_honours_monotone_constraints(trained_model, training_table):
    """Sweeping each constrained feature over a grid never moves raw margin or PD against its sign."""
    moved = _assert_pd_monotone(trained_model.predict, training_table, trained_model.monotone_constraints)
    assert moved >= 3, "the sweep should move the margin for several constrained features"


def _assert_pd_monotone(predict, table, constraints, *, columns=("raw_margin", "pd_12m")):
    """Sweep every constrained feature over its quantile grid for 20 customers; return how many moved."""
    rows = table.sample(20, random_state=3).reset_index(drop=True)
    moved = 0
    for name, sign in constraints.items():
        if sign == 0:
            continue
        grid = np.quantile(table[name].dropna(), np.linspace(0.0, 1.0, 25))
        sweep = rows.loc[rows.index.repeat(grid.size)].reset_index(drop=True)
        sweep[name] = np.tile(grid, len(rows))
        scored = predict(sweep)
        for column in columns:
            by_row = scored[column].to_numpy().reshape(len(rows), grid.size)
            steps = np.diff(by_row, axis=1) * sign
            assert steps.min() >= 0.0, f"{column} moves against the {sign:+d} constraint on {name}"
        moved += int(np.ptp(scored["raw_margin"].to_numpy()) > 0)
    return moved


def test_isotonic_model_and_pyfunc_honour_monotone_constraints(table_factory, train_section):
    """With isotonic calibration, the registered pyfunc's PD still moves only the allowed way."""
    from creditlimit.models.pyfunc import CreditPDModel

    section = small_section(train_section)
    section["calibration"] = "isotonic"
    table = table_factory(n_customers=400, n_months=20, seed=25, base_logit=-2.6)
    trained = train_pd_model(table, params=TrainParams.from_mapping(section))
    assert trained.calibrator.method == "isotonic"
    model = CreditPDModel.from_trained(trained, default_definition={"horizon_months": 12})
    constraints = dict(trained.monotone_constraints)
    assert _assert_pd_monotone(lambda frame: model.predict(None, frame), table, constraints) >= 3
    assert sorted(name for name, sign in constraints.items() if sign) == sorted(
        name for name, sign in train_section["monotone_constraints"].items() if sign)


def test_trained_model_constraints_cover_every_feature(trained_model, train_section):
    """Unlisted features are unconstrained (0) and listed ones keep their sign."""
    constraints = trained_model.monotone_constraints
    assert list(constraints) == list(FEATURE_NAMES)
    assert constraints["max_dpd_now"] == 1
    assert constraints["current_ratio"] == -1
    assert constraints["invoiced_12m"] == 0
    assert trained_model.lightgbm_params["monotone_constraints"] == list(constraints.values())


def test_trained_model_scores_missing_unlike_zero(trained_model, training_table):
    """Thin-file rows (financials NaN) do not score as if their financials were 0."""
    thin = training_table[training_table["debt_to_assets"].isna()].head(50)
    assert len(thin) == 50
    zero_filled = thin.copy()
    zero_filled[FINANCIAL] = 0.0
    as_missing = trained_model.predict(thin)["raw_margin"].to_numpy()
    as_zero = trained_model.predict(zero_filled)["raw_margin"].to_numpy()
    assert not np.allclose(as_missing, as_zero)


def test_trained_model_unseen_category_scores_as_missing(trained_model, training_table):
    """An industry never seen in training scores exactly like a missing industry."""
    rows = training_table.head(30)
    unseen = rows.assign(industry="mining")
    missing = rows.assign(industry=None)
    np.testing.assert_array_equal(
        trained_model.predict(unseen).to_numpy(), trained_model.predict(missing).to_numpy()
    )


def test_trained_model_input_example(trained_model):
    """The input example has every feature: a typical row and an all-missing row."""
    example = trained_model.input_example
    assert list(example.columns) == list(FEATURE_NAMES)
    assert len(example) == 2
    assert example.iloc[0].notna().all()
    assert example.iloc[1].isna().all()
    assert example["industry"].iloc[0] in trained_model.encoder.levels["industry"]


def test_trained_model_records_importance_and_timing(trained_model):
    """Gain importance covers every feature and training time is recorded."""
    importance = trained_model.feature_importance
    assert set(importance) == set(FEATURE_NAMES)
    assert sum(importance.values()) > 0
    assert trained_model.training_seconds > 0


def test_train_pd_model_is_deterministic(table_factory, train_section):
    """Training twice on the same table gives the same booster text and calibrator."""
    table = table_factory(n_customers=300, n_months=20, seed=21, base_logit=-2.6)
    params = TrainParams.from_mapping(small_section(train_section))
    first = train_pd_model(table, params=params)
    second = train_pd_model(table, params=params)
    assert first.booster.model_to_string() == second.booster.model_to_string()
    assert first.calibrator == second.calibrator
    assert first.metrics == second.metrics


def test_train_pd_model_files_byte_identical(table_factory, train_section, tmp_path):
    """Two trainings with the same data, params and seed write byte-identical model files."""
    from creditlimit.models.pyfunc import CreditPDModel

    table = table_factory(n_customers=300, n_months=20, seed=23, base_logit=-2.6)
    params = TrainParams.from_mapping(small_section(train_section))
    definition = {"horizon_months": 12, "dpd_threshold": 90, "min_amount": 100.0, "event_types": ["default"]}
    written, metrics = [], []
    for run in ("first", "second"):
        trained = train_pd_model(table, params=params)
        model = CreditPDModel.from_trained(trained, default_definition=definition)
        paths = model.write_artifacts(tmp_path / run)
        written.append({name: Path(path).read_bytes() for name, path in paths.items()})
        metrics.append(trained.metrics)
    assert written[0].keys() == written[1].keys()
    for name in written[0]:
        assert written[0][name] == written[1][name], name
    assert metrics[0] == metrics[1]


def test_train_pd_model_leaves_input_unchanged(table_factory, train_section):
    """The training table is not modified."""
    table = table_factory(n_customers=300, n_months=20, seed=22, base_logit=-2.6)
    before = table.copy()
    train_pd_model(table, params=TrainParams.from_mapping(small_section(train_section)))
    pd.testing.assert_frame_equal(table, before)


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"missing 1 required column\(s\): max_dpd_now"),
        ("zh_CN", r"特征表缺少 1 个必需列：max_dpd_now"),
    ],
)
def test_train_pd_model_rejects_missing_feature(training_table, train_section, locale, message):
    """A table without a feature column raises, naming it, in both locales."""
    table = training_table.drop(columns="max_dpd_now")
    with use_locale(locale), pytest.raises(InputDataError, match=message):
        train_pd_model(table, params=TrainParams.from_mapping(train_section))


def test_train_pd_model_rejects_duplicate_snapshots(training_table, train_section):
    """Two rows for one customer and date raise, naming the first."""
    table = pd.concat([training_table, training_table.head(1)], ignore_index=True)
    message = r"1 duplicate \(customer_id, as_of\) rows \(first: C0, 2022-01-01"
    with pytest.raises(InputDataError, match=message):
        train_pd_model(table, params=TrainParams.from_mapping(train_section))


def test_train_pd_model_rejects_missing_label(training_table, train_section):
    """A table without is_bad raises, naming the column."""
    with pytest.raises(InputDataError, match=r"required column 'is_bad' is missing"):
        train_pd_model(
            training_table.drop(columns="is_bad"), params=TrainParams.from_mapping(train_section)
        )
