"""Tests of the exact fast TreeSHAP explainer against LightGBM's own pred_contrib."""

from __future__ import annotations

import lightgbm
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from creditlimit.errors import ModelError
from creditlimit.i18n import use_locale
from creditlimit.serving.fast_shap import FastTreeShap

TOLERANCE = 1e-9
N_FEATURES = 6
CATEGORICAL = (4, 5)

# Booster settings that reach each LightGBM case: missing types NaN, None and Zero,
# categorical bitsets, deep and shallow trees, and a regression objective.
CONFIGS = {
    "shallow": {"num_leaves": 7, "min_data_in_leaf": 20},
    "deep": {"num_leaves": 63, "min_data_in_leaf": 3, "max_bin": 63},
    "zero_as_missing": {"num_leaves": 15, "zero_as_missing": True, "min_data_in_leaf": 10},
    "no_missing": {"num_leaves": 15, "use_missing": False, "min_data_in_leaf": 10},
    "categorical_wide": {"num_leaves": 15, "max_cat_to_onehot": 2, "min_data_per_group": 5,
                         "cat_smooth": 1.0, "min_data_in_leaf": 5},
    "regression": {"num_leaves": 31, "objective": "regression", "min_data_in_leaf": 5},
}


def portfolio(seed: int, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw features with NaNs, exact zeros and categorical codes, and a label."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, N_FEATURES))
    X[:, 1] = np.round(X[:, 1], 1)  # many ties and exact zeros
    X[rng.random(n_rows) < 0.2, 2] = 0.0
    X[:, 4] = rng.integers(0, 40, n_rows)
    X[:, 5] = rng.integers(0, 5, n_rows)
    for column in range(N_FEATURES):
        X[rng.random(n_rows) < 0.12, column] = np.nan
    signal = np.nan_to_num(X[:, 0]) - 0.8 * np.nan_to_num(X[:, 1]) + (X[:, 4] % 3 == 0)
    signal += 0.5 * (X[:, 2] == 0) + 0.7 * np.isnan(X[:, 3])
    label = (signal + rng.normal(size=n_rows) > 0.5).astype(float)
    return X, label


def train(seed: int, config: dict, *, n_rows: int = 1500, rounds: int = 25) -> lightgbm.Booster:
    """Train a small booster with ``config`` on the seeded portfolio."""
    X, label = portfolio(seed, n_rows)
    params = {"objective": "binary", "learning_rate": 0.2, "verbosity": -1, "seed": seed,
              "num_threads": 1, "deterministic": True, **config}
    dataset = lightgbm.Dataset(X, label=label, categorical_feature=list(CATEGORICAL))
    return lightgbm.train(params, dataset, num_boost_round=rounds)


def scoring_rows(booster: lightgbm.Booster, seed: int, n_rows: int = 1300) -> np.ndarray:
    """Rows with NaNs, zeros, split thresholds themselves, unseen and negative categories."""
    X, _ = portfolio(seed + 1000, n_rows)
    rng = np.random.default_rng(seed)
    thresholds = [
        (node["split_feature"], node["threshold"])
        for node in _internal_nodes(booster.dump_model())
        if node["decision_type"] == "<="
    ]
    for row in rng.choice(n_rows, size=min(n_rows // 3, 400), replace=False):
        feature, threshold = thresholds[rng.integers(len(thresholds))]
        X[row, feature] = threshold  # exactly on the boundary: <= goes left
    X[:40, 4] = [-3.0, -0.5, 0.7, 45.0, 2.0**31, 1e12, -1.0, 63.0] * 5
    X[40:60, 5] = 99.0
    X[60:80, [0, 1, 2, 3]] = 0.0
    X[80:90] = np.nan
    return X


def _internal_nodes(dump: dict):
    stack = [tree["tree_structure"] for tree in dump["tree_info"]]
    while stack:
        node = stack.pop()
        if "split_feature" in node:
            yield node
            stack.extend([node["left_child"], node["right_child"]])


def assert_matches_lightgbm(explainer: FastTreeShap, booster: lightgbm.Booster, X: np.ndarray):
    """Compare with pred_contrib, column by column and the bias."""
    expected = booster.predict(X, pred_contrib=True)
    contributions, base_value = explainer.explain(X)
    assert contributions.shape == (X.shape[0], X.shape[1])
    np.testing.assert_allclose(contributions, expected[:, :-1], rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(base_value, expected[:, -1], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("config", list(CONFIGS), ids=list(CONFIGS))
def test_explain_matches_pred_contrib(config, seed):
    """Every LightGBM case gives pred_contrib's values within 1e-9."""
    booster = train(seed, CONFIGS[config])
    explainer = FastTreeShap(booster)
    assert_matches_lightgbm(explainer, booster, scoring_rows(booster, seed))


@pytest.mark.parametrize("max_table_bits", [1, 3, 6])
def test_deep_leaves_computed_per_row(max_table_bits):
    """Leaves deeper than the table limit are computed per row, still exactly."""
    booster = train(7, CONFIGS["deep"])
    explainer = FastTreeShap(booster, max_table_bits=max_table_bits)
    assert explainer._plan.deep_leaves.size > 0
    assert_matches_lightgbm(explainer, booster, scoring_rows(booster, 7))


def test_categorical_splits_present():
    """The categorical configuration produces bitset splits of more than one 32-bit word."""
    booster = train(3, CONFIGS["categorical_wide"])
    kinds = {node["decision_type"] for node in _internal_nodes(booster.dump_model())}
    assert "==" in kinds
    boundaries = [
        np.array(line.partition("=")[2].split(), dtype=int)
        for line in booster.model_to_string().splitlines()
        if line.startswith("cat_boundaries=")
    ]
    assert max(np.diff(words).max() for words in boundaries) > 1


def test_zero_missing_type_present():
    """zero_as_missing produces nodes with missing type Zero."""
    booster = train(4, CONFIGS["zero_as_missing"])
    types = {node["missing_type"] for node in _internal_nodes(booster.dump_model())}
    assert "Zero" in types


def test_single_leaf_trees():
    """Trees that never split only add their output to the base value."""
    X, label = portfolio(5, 300)
    params = {"objective": "binary", "min_data_in_leaf": 200, "verbosity": -1, "num_threads": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(X, label=label), num_boost_round=5)
    explainer = FastTreeShap(booster)
    assert_matches_lightgbm(explainer, booster, X)


def test_best_iteration_trees_only():
    """A booster with a best iteration is explained with the trees predict uses."""
    booster = train(6, CONFIGS["shallow"], rounds=30)
    booster.best_iteration = 12  # as early stopping leaves it
    explainer = FastTreeShap(booster)
    assert explainer.n_trees == 12
    assert_matches_lightgbm(explainer, booster, scoring_rows(booster, 6))


@pytest.fixture(scope="module")
def categorical_model():
    """One booster with categorical bitsets and NaN-missing splits, with its explainer."""
    booster = train(18, CONFIGS["categorical_wide"])
    return booster, FastTreeShap(booster)


# Values where LightGBM's decisions change: infinities, signed and tiny zeros around
# kZeroThreshold (1e-35), negative and fractional category codes, and NaN.
EDGE_VALUES = st.sampled_from([
    np.inf, -np.inf, 0.0, -0.0, 1e-36, -1e-36, 1e-35, 2e-35, -2e-35, 5e-324,
    -0.5, -1.0, 0.99, 1.0, 31.5, 32.0, 63.0, 64.0, 2.0**31, -(2.0**31), np.nan,
])


@settings(max_examples=60, deadline=None)
@given(X=arrays(np.float64, st.tuples(st.integers(1, 40), st.just(N_FEATURES)),
                elements=st.one_of(EDGE_VALUES, st.floats(-3, 40, allow_nan=False))))
def test_edge_values_match_pred_contrib(categorical_model, X):
    """Any mix of edge values gives pred_contrib's values within 1e-9."""
    booster, explainer = categorical_model
    assert_matches_lightgbm(explainer, booster, X)


def test_contributions_add_up_to_raw_margin():
    """Contributions plus the base value reconstruct the raw margin of every row."""
    booster = train(8, CONFIGS["shallow"])
    X = scoring_rows(booster, 8)
    contributions, base_value = FastTreeShap(booster).explain(X)
    raw_margin = booster.predict(X, raw_score=True)
    np.testing.assert_allclose(contributions.sum(axis=1) + base_value, raw_margin, atol=TOLERANCE)


def test_pred_contrib_layout():
    """pred_contrib returns pred_contrib's layout: features, then the bias column."""
    booster = train(9, CONFIGS["shallow"])
    X = scoring_rows(booster, 9, n_rows=100)
    values = FastTreeShap(booster).pred_contrib(X)
    np.testing.assert_allclose(values, booster.predict(X, pred_contrib=True), atol=TOLERANCE)


def test_contributions_contract_of_pyfunc():
    """contributions returns the pyfunc's (contrib, bias) pair with a per-row bias."""
    booster = train(10, CONFIGS["shallow"])
    X = scoring_rows(booster, 10, n_rows=100)
    contrib, bias = FastTreeShap(booster).contributions(X)
    expected = booster.predict(X, pred_contrib=True)
    assert contrib.shape == (100, N_FEATURES)
    assert bias.shape == (100,)
    np.testing.assert_allclose(contrib, expected[:, :-1], atol=TOLERANCE)
    np.testing.assert_allclose(bias, expected[:, -1], atol=TOLERANCE)


def test_rows_independent_of_batch():
    """A row gets the same values alone as inside a batch, in any order."""
    booster = train(11, CONFIGS["categorical_wide"])
    explainer = FastTreeShap(booster)
    X = scoring_rows(booster, 11)
    batch, _ = explainer.explain(X)
    order = np.random.default_rng(0).permutation(len(X))
    shuffled, _ = explainer.explain(X[order])
    alone, _ = explainer.explain(X[5:6])
    np.testing.assert_array_equal(shuffled, batch[order])
    np.testing.assert_array_equal(alone[0], batch[5])


def test_empty_batch():
    """An empty batch gives an empty matrix with one column per feature."""
    booster = train(12, CONFIGS["shallow"])
    contributions, _ = FastTreeShap(booster).explain(np.empty((0, N_FEATURES)))
    assert contributions.shape == (0, N_FEATURES)


# shap 0.51 warns that its output type for LightGBM binary models changed; the values are checked.
@pytest.mark.filterwarnings("ignore:LightGBM binary classifier with TreeExplainer:UserWarning")
def test_agrees_with_shap_tree_explainer():
    """shap.TreeExplainer gives the same values on the raw margin."""
    shap = pytest.importorskip("shap")
    booster = train(13, CONFIGS["shallow"])
    X = scoring_rows(booster, 13, n_rows=200)
    values = np.asarray(shap.TreeExplainer(booster).shap_values(X))
    contributions, _ = FastTreeShap(booster).explain(X)
    np.testing.assert_allclose(contributions, values.reshape(contributions.shape), atol=TOLERANCE)


def test_bad_matrix_rejected():
    """A matrix with the wrong number of columns raises a message naming both shapes."""
    booster = train(14, CONFIGS["shallow"])
    explainer = FastTreeShap(booster)
    with pytest.raises(ModelError, match=r"shape \(n_rows, 6\).*got shape \(4, 5\)"):
        explainer.explain(np.zeros((4, 5)))
    with use_locale("zh_CN"), pytest.raises(ModelError, match="特征矩阵的形状"):
        explainer.explain(np.zeros(6))


def test_multiclass_rejected():
    """A multiclass booster is rejected with the reason and the fallback."""
    X, _ = portfolio(15, 300)
    label = np.random.default_rng(0).integers(0, 3, 300)
    params = {"objective": "multiclass", "num_class": 3, "verbosity": -1, "num_threads": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(X, label=label), num_boost_round=2)
    with pytest.raises(ModelError, match="3 trees per iteration.*pred_contrib=True"):
        FastTreeShap(booster)


def test_linear_trees_rejected():
    """A booster with linear trees is rejected."""
    X, label = portfolio(16, 300)
    X = np.nan_to_num(X)
    params = {"objective": "regression", "linear_tree": True, "verbosity": -1, "num_threads": 1}
    booster = lightgbm.train(params, lightgbm.Dataset(X, label=label), num_boost_round=2)
    with pytest.raises(ModelError, match="linear trees"):
        FastTreeShap(booster)


@pytest.mark.parametrize("value", [0, 21, 2.5, True, "10"])
def test_max_table_bits_checked(value):
    """max_table_bits outside [1, 20] or not an integer is rejected."""
    booster = train(17, CONFIGS["shallow"], rounds=2)
    with pytest.raises(ModelError, match=r"max_table_bits must be an integer in \[1, 20\]"):
        FastTreeShap(booster, max_table_bits=value)
