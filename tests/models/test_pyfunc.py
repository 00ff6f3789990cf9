"""Tests for creditlimit.models.pyfunc: scoring by name, batch invariance, artifacts, MLflow round trip."""

from __future__ import annotations

import json
import pickle

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from creditlimit.errors import InputDataError, ModelError
from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES
from creditlimit.i18n import use_locale
from creditlimit.models.pyfunc import (
    BOOSTER_ARTIFACT,
    SPEC_ARTIFACT,
    CreditPDModel,
    model_signature,
    pip_requirements,
)

DEFINITION = {
    "horizon_months": 12,
    "dpd_threshold": 90,
    "min_amount": 100.0,
    "event_types": ["default", "write_off", "bankruptcy"],
}


@pytest.fixture(scope="module")
def model(trained_model) -> CreditPDModel:
    """The trained model bundled as the pyfunc, in process."""
    return CreditPDModel.from_trained(trained_model, default_definition=DEFINITION)


@pytest.fixture(scope="module")
def scoring_frame(training_table) -> pd.DataFrame:
    """200 OOT snapshots with one unseen and one missing industry."""
    frame = training_table[training_table["as_of"] >= "2024-01-01"].head(200).copy()
    frame.iloc[0, frame.columns.get_loc("industry")] = "mining"
    frame.iloc[1, frame.columns.get_loc("industry")] = None
    return frame


def test_pyfunc_predicts_like_trained_model(model, trained_model, scoring_frame):
    """The bundled model returns the trained model's PD and raw margin, row by row."""
    output = model.predict(None, scoring_frame)
    expected = trained_model.predict(scoring_frame)
    assert list(output.columns) == ["pd_12m", "raw_margin"]
    assert output.index.equals(scoring_frame.index)
    np.testing.assert_array_equal(output.to_numpy(), expected.to_numpy())
    assert output["pd_12m"].between(0.0, 1.0).all()


def test_pyfunc_selects_columns_by_name(model, scoring_frame):
    """Column order and extra columns do not change the scores."""
    reordered = scoring_frame[list(reversed(scoring_frame.columns))].assign(note="extra")
    np.testing.assert_array_equal(
        model.predict(None, reordered).to_numpy(), model.predict(None, scoring_frame).to_numpy()
    )


def test_pyfunc_single_row_equals_row_in_batch(model, scoring_frame):
    """A batch of one row gives exactly the outputs of that row inside the large batch."""
    batch = model.predict(None, scoring_frame)
    features, _ = model.encode(scoring_frame)
    contrib, bias = model.contributions(features)
    for position in range(0, len(scoring_frame), 13):
        row = scoring_frame.iloc[[position]]
        single = model.predict(None, row)
        np.testing.assert_array_equal(single.to_numpy()[0], batch.to_numpy()[position])
        row_contrib, row_bias = model.contributions(model.encode(row)[0])
        np.testing.assert_array_equal(row_contrib[0], contrib[position])
        assert row_bias[0] == bias[position]


def test_pyfunc_ignores_row_order(model, scoring_frame):
    """Shuffling the rows shuffles the scores and changes nothing else."""
    shuffled = scoring_frame.sample(frac=1.0, random_state=4)
    by_index = model.predict(None, shuffled).loc[scoring_frame.index]
    np.testing.assert_array_equal(by_index.to_numpy(), model.predict(None, scoring_frame).to_numpy())


def test_pyfunc_contributions_add_up_to_raw_margin(model, scoring_frame):
    """Contributions have one column per feature and, with the bias, rebuild the raw margin."""
    features, _ = model.encode(scoring_frame)
    contrib, bias = model.contributions(features)
    assert contrib.shape == (len(scoring_frame), len(FEATURE_NAMES))
    assert bias.shape == (len(scoring_frame),)
    np.testing.assert_allclose(contrib.sum(axis=1) + bias, model.raw_margin(features), atol=1e-9)
    assert np.ptp(bias) == 0.0


def test_pyfunc_contributions_equal_lightgbm_pred_contrib(model, scoring_frame):
    """The fast exact explainer gives LightGBM's own TreeSHAP values and bias within 1e-9."""
    features, _ = model.encode(scoring_frame)
    contrib, bias = model.contributions(features)
    expected = model.booster.predict(features, pred_contrib=True)
    np.testing.assert_allclose(contrib, expected[:, :-1], rtol=0.0, atol=1e-9)
    np.testing.assert_allclose(bias, expected[:, -1], rtol=0.0, atol=1e-9)
    assert model._exact_explainer() is not None


def test_pyfunc_encode_reports_unseen_categories(model, scoring_frame):
    """encode counts the unseen industry and leaves it NaN beside the missing one."""
    features, unseen = model.encode(scoring_frame)
    assert features.shape == (len(scoring_frame), len(FEATURE_NAMES))
    assert features.dtype == np.float64
    assert unseen == {"industry": 1, "size_class": 0}
    column = FEATURE_NAMES.index("industry")
    assert np.isnan(features[0, column])
    assert np.isnan(features[1, column])


@pytest.mark.parametrize(
    ("locale", "message"),
    [
        ("en", r"missing 2 column\(s\) the model needs: max_dpd_now, industry"),
        ("zh_CN", r"特征表缺少模型所需的 2 个列：max_dpd_now, industry"),
    ],
)
def test_pyfunc_missing_columns_raise(model, scoring_frame, locale, message):
    """Missing feature columns raise ModelError naming them, in both locales."""
    frame = scoring_frame.drop(columns=["industry", "max_dpd_now"])
    with use_locale(locale), pytest.raises(ModelError, match=message):
        model.predict(None, frame)


def test_pyfunc_rejects_non_frame_input(model):
    """A NumPy array has no column names and is rejected."""
    with pytest.raises(ModelError, match=r"must be a pandas DataFrame with named columns; got ndarray"):
        model.predict(None, np.zeros((2, len(FEATURE_NAMES))))


def test_pyfunc_rejects_text_in_numeric_feature(model, scoring_frame):
    """Text in a numeric feature is an input data error."""
    frame = scoring_frame.head(3).astype({"max_dpd_now": object})
    frame.iloc[0, frame.columns.get_loc("max_dpd_now")] = "high"
    with pytest.raises(InputDataError, match=r"'max_dpd_now' must be numeric"):
        model.predict(None, frame)


def test_pyfunc_rejects_matrix_of_wrong_width(model):
    """raw_margin and contributions check the matrix width."""
    with pytest.raises(ModelError, match=rf"shape \(n_rows, {len(FEATURE_NAMES)}\) .* got shape \(2, 3\)"):
        model.raw_margin(np.zeros((2, 3)))
    with pytest.raises(ModelError, match=r"got shape \(4,\)"):
        model.contributions(np.zeros(4))


def test_pyfunc_describes_itself(model, trained_model):
    """Properties expose the feature list, levels, constraints and default definition."""
    assert model.feature_names == FEATURE_NAMES
    assert model.categorical_features == CATEGORICAL_FEATURES
    assert model.category_levels["industry"] == trained_model.encoder.levels["industry"]
    assert model.monotone_constraints["max_dpd_now"] == 1
    assert model.monotone_constraints["tenure_months"] == 0
    assert model.default_definition == DEFINITION
    assert model.best_iteration == trained_model.best_iteration


def test_pyfunc_default_definition_is_a_copy(model):
    """Changing the returned definition does not change the model."""
    definition = model.default_definition
    definition["horizon_months"] = 6
    assert model.default_definition["horizon_months"] == 12


def test_pyfunc_rejects_unserialisable_definition(trained_model):
    """A default definition that is not JSON raises ModelError."""
    with pytest.raises(ModelError, match=r"default definition must be a JSON-serialisable mapping"):
        CreditPDModel.from_trained(trained_model, default_definition={"window": object()})
    with use_locale("zh_CN"), pytest.raises(ModelError, match=r"违约定义必须是可序列化为 JSON 的映射"):
        CreditPDModel.from_trained(trained_model, default_definition=["horizon"])


def test_pyfunc_artifacts_round_trip(model, scoring_frame, tmp_path):
    """The booster text and JSON spec alone rebuild an identical model."""
    paths = model.write_artifacts(tmp_path / "artifacts")
    assert set(paths) == {BOOSTER_ARTIFACT, SPEC_ARTIFACT}
    spec = json.loads((tmp_path / "artifacts" / "model_spec.json").read_text(encoding="utf-8"))
    assert spec["feature_names"] == list(FEATURE_NAMES)
    assert spec["default_definition"] == DEFINITION
    assert (tmp_path / "artifacts" / "booster.txt").read_text(encoding="utf-8").startswith("tree")
    rebuilt = CreditPDModel.from_artifacts(paths[BOOSTER_ARTIFACT], paths[SPEC_ARTIFACT])
    np.testing.assert_array_equal(
        rebuilt.predict(None, scoring_frame).to_numpy(), model.predict(None, scoring_frame).to_numpy()
    )


def test_pyfunc_pickle_has_no_fitted_state(model):
    """Pickling keeps the booster out; an unpickled model must be loaded before scoring."""
    payload = pickle.dumps(model)
    assert len(payload) < 1000
    restored = pickle.loads(payload)
    with pytest.raises(ModelError, match=r"has no fitted state"):
        restored.feature_names


def test_pyfunc_rejects_spec_that_disagrees_with_booster(model, tmp_path):
    """A spec whose feature list differs from the booster's is rejected as corrupt."""
    paths = model.write_artifacts(tmp_path)
    spec_path = tmp_path / "model_spec.json"
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    spec["feature_names"] = list(reversed(spec["feature_names"]))
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(ModelError, match=r"booster features differ from the feature list"):
        CreditPDModel.from_artifacts(paths[BOOSTER_ARTIFACT], spec_path)


def test_model_signature_types_features_by_kind():
    """Categoricals are strings, other features doubles; outputs are pd_12m and raw_margin."""
    signature = model_signature(FEATURE_NAMES, CATEGORICAL_FEATURES)
    inputs = {spec.name: spec.type.name for spec in signature.inputs.inputs}
    assert list(inputs) == list(FEATURE_NAMES)
    assert inputs["industry"] == "string"
    assert inputs["size_class"] == "string"
    assert inputs["max_dpd_now"] == "double"
    assert signature.outputs.input_names() == ["pd_12m", "raw_margin"]


def test_pip_requirements_pin_runtime_packages():
    """The model's requirements pin LightGBM, MLflow and the package itself."""
    requirements = pip_requirements()
    names = [line.split("==")[0] for line in requirements]
    assert {"creditlimit", "lightgbm", "mlflow", "numpy", "pandas"} <= set(names)
    assert all("==" in line for line in requirements)


def test_pyfunc_mlflow_save_and_load(model, trained_model, scoring_frame, tmp_path):
    """Saved with MLflow and loaded back, the pyfunc scores exactly as in process, schema enforced."""
    artifacts = model.write_artifacts(tmp_path / "artifacts")
    mlflow.pyfunc.save_model(
        path=str(tmp_path / "model"),
        python_model=model,
        artifacts=artifacts,
        signature=model_signature(FEATURE_NAMES, CATEGORICAL_FEATURES),
        input_example=trained_model.input_example,
        pip_requirements=pip_requirements(),
    )
    loaded = mlflow.pyfunc.load_model(str(tmp_path / "model"))
    output = loaded.predict(scoring_frame[list(FEATURE_NAMES)])
    np.testing.assert_array_equal(
        output[["pd_12m", "raw_margin"]].to_numpy(), model.predict(None, scoring_frame).to_numpy()
    )
    unwrapped = loaded.unwrap_python_model()
    assert isinstance(unwrapped, CreditPDModel)
    assert unwrapped.default_definition == DEFINITION
    all_missing = loaded.predict(trained_model.input_example)
    assert all_missing["pd_12m"].between(0.0, 1.0).all()
