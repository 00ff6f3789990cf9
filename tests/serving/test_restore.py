"""Tests of the restore search: smallest actionable change, re-scored with a real LightGBM model."""

from __future__ import annotations

import json

import lightgbm
import numpy as np
import pandas as pd
import pytest
from repo_params import repo_params

from creditlimit.models.master_scale import MasterScale
from creditlimit.serving.explain_params import ExplainParams
from creditlimit.serving.restore import RESTORE_COLUMNS, find_restoring_changes

SCALE = MasterScale.from_mapping(repo_params()["policy"]["pd_upper_bounds"])
EXPLAIN = {
    "top_causes": 3,
    "min_contribution_change": 0.05,
    "min_relative_change": 0.05,
    "restore_steps": [0.25, 0.5, 0.75, 1.0],
    "restore_max_actions": 2,
    "restore_actions": {
        "pay_overdue": {"max_dpd_now": 0, "overdue_amount": 0},
        "pay_on_time": {"mean_days_late_12m": 0},
    },
}
PARAMS = ExplainParams.from_mapping(EXPLAIN)


class BoosterModel:
    """A real LightGBM booster behind the scorer's model interface (encode, raw_margin, calibrate)."""

    feature_names = ("max_dpd_now", "overdue_amount", "mean_days_late_12m", "debt_to_assets")
    monotone_constraints = {"max_dpd_now": 1, "overdue_amount": 0, "mean_days_late_12m": 1, "debt_to_assets": 1}
    default_definition = {"dpd_threshold": 90, "min_amount": 100.0}

    def __init__(self, booster: lightgbm.Booster) -> None:
        self.booster = booster

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, dict]:
        return frame[list(self.feature_names)].to_numpy(dtype=np.float64), {}

    def raw_margin(self, X: np.ndarray) -> np.ndarray:
        return self.booster.predict(X, raw_score=True)

    def calibrate(self, raw_margin: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-np.asarray(raw_margin)))


@pytest.fixture(scope="module")
def model() -> BoosterModel:
    """A monotone LightGBM model where days past due, days late and leverage raise the PD."""
    rng = np.random.default_rng(11)
    n = 6000
    frame = pd.DataFrame({
        "max_dpd_now": rng.integers(0, 85, n).astype(float),
        "overdue_amount": rng.uniform(0, 50_000, n),
        "mean_days_late_12m": rng.uniform(0, 40, n),
        "debt_to_assets": rng.uniform(0, 1, n),
    })
    logit = -5.5 + 0.05 * frame["max_dpd_now"] + 0.06 * frame["mean_days_late_12m"] + 3 * frame["debt_to_assets"]
    target = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    booster = lightgbm.train(
        {"objective": "binary", "num_leaves": 7, "learning_rate": 0.1, "min_data_in_leaf": 50,
         "monotone_constraints": [1, 0, 1, 1], "verbose": -1, "seed": 1},
        lightgbm.Dataset(frame.to_numpy(), label=target), num_boost_round=80,
    )
    return BoosterModel(booster)


def grade_of(model: BoosterModel, rows: pd.DataFrame) -> list[str]:
    X, _ = model.encode(rows)
    return SCALE.assign_grades(model.calibrate(model.raw_margin(X))).tolist()


def search(model, rows, targets, *, events=None, params=PARAMS):
    return find_restoring_changes(
        rows, target_grade=targets, current_grade=grade_of(model, rows),
        default_event=events if events is not None else [False] * len(rows),
        model=model, master_scale=SCALE, params=params, base_currency="CNY",
    )


def customers(*rows: dict) -> pd.DataFrame:
    base = {"max_dpd_now": 0.0, "overdue_amount": 0.0, "mean_days_late_12m": 0.0, "debt_to_assets": 0.3}
    return pd.DataFrame([{"customer_id": f"C{i}", **base, **row} for i, row in enumerate(rows)])


def test_restore_finds_change_that_model_confirms(model):
    """A feasible change, applied to the row and re-scored, reaches the target grade."""
    late = {"max_dpd_now": 80.0, "overdue_amount": 20_000.0, "mean_days_late_12m": 30.0}
    rows = customers(late)
    target = grade_of(model, customers({**late, "max_dpd_now": 0.0, "overdue_amount": 0.0}))[0]
    assert grade_of(model, rows)[0] != target

    result = search(model, rows, [target])
    assert list(result.columns) == list(RESTORE_COLUMNS)
    assert result["restore_feasible"].tolist() == [True]
    changes = json.loads(result.loc[0, "restore_changes"])
    changed = rows.copy()
    for change in changes:
        assert change["from"] == rows.loc[0, change["feature"]]
        changed.loc[0, change["feature"]] = change["to"]
    assert int(grade_of(model, changed)[0]) <= int(target)
    assert f"Grade {target} or better returns" in result.loc[0, "restore_en"]
    assert "days past due today 80 days →" in result.loc[0, "restore_en"]
    assert f"等级可恢复至{target}级或更好" in result.loc[0, "restore_zh"]


def test_restore_change_is_smallest_on_grid(model):
    """No candidate with fewer actions or a smaller step reaches the target."""
    late = {"max_dpd_now": 80.0, "overdue_amount": 20_000.0, "mean_days_late_12m": 30.0}
    rows = customers(late)
    target = grade_of(model, customers({**late, "max_dpd_now": 20.0}))[0]
    result = search(model, rows, [target])
    changes = json.loads(result.loc[0, "restore_changes"])
    features = {c["feature"] for c in changes}
    assert features == {"max_dpd_now", "overdue_amount"}
    step = 1 - changes[0]["to"] / changes[0]["from"]
    smaller = [s for s in PARAMS.restore_steps if s < step - 1e-9]
    for share in smaller:
        shorter = rows.copy()
        shorter["max_dpd_now"] = np.floor(80 * (1 - share))
        shorter["overdue_amount"] = 20_000 * (1 - share)
        assert int(grade_of(model, shorter)[0]) > int(target)


def test_restore_moves_constrained_features_only_down(model):
    """Features constrained +1 only fall; every change lowers or keeps the PD direction."""
    rows = customers({"max_dpd_now": 60.0, "overdue_amount": 5_000.0, "mean_days_late_12m": 35.0},
                     {"max_dpd_now": 70.0, "mean_days_late_12m": 20.0, "debt_to_assets": 0.9})
    result = search(model, rows, ["1", "2"])
    for payload in result["restore_changes"]:
        for change in json.loads(payload):
            assert change["to"] <= change["from"]
            assert change["feature"] != "debt_to_assets"


def test_restore_whole_days_stay_whole(model):
    """Days past due of whole days move to whole days."""
    rows = customers({"max_dpd_now": 81.0, "overdue_amount": 20_000.0, "mean_days_late_12m": 30.0})
    target = grade_of(model, customers({"max_dpd_now": 0.0, "overdue_amount": 20_000.0,
                                        "mean_days_late_12m": 30.0}))[0]
    assert grade_of(model, rows)[0] != target
    only_paying = ExplainParams.from_mapping({**EXPLAIN, "restore_actions": {
        "pay_overdue": {"max_dpd_now": 0, "overdue_amount": 0}}})
    changes = json.loads(search(model, rows, [target], params=only_paying).loc[0, "restore_changes"])
    days = [c["to"] for c in changes if c["feature"] == "max_dpd_now"]
    assert days and days[0] == int(days[0])


def test_restore_path_same_alone_and_in_book(model):
    """A customer scored alone gets the path it gets among others: a mean of days is never rounded."""
    paying_on_time = ExplainParams.from_mapping({**EXPLAIN, "restore_actions": {
        "pay_on_time": {"mean_days_late_12m": 0}}})
    late = {"max_dpd_now": 0.0, "mean_days_late_12m": 30.0}
    target = grade_of(model, customers({**late, "mean_days_late_12m": 7.5}))[0]
    assert grade_of(model, customers(late))[0] != target
    alone = search(model, customers(late), [target], params=paying_on_time)
    book = search(model, customers(late, {**late, "mean_days_late_12m": 7.25}), [target, target],
                  params=paying_on_time)
    changes = json.loads(alone.loc[0, "restore_changes"])
    assert changes[0]["to"] != int(changes[0]["to"])
    for column in ("restore_changes", "restore_en", "restore_zh"):
        assert alone.loc[0, column] == book.loc[0, column], column


def test_restore_infeasible_states_best_grade(model):
    """When leverage alone keeps the grade, the text states that no change was found."""
    rows = customers({"max_dpd_now": 10.0, "mean_days_late_12m": 5.0, "debt_to_assets": 1.0})
    result = search(model, rows, ["1"])
    assert result["restore_feasible"].tolist() == [False]
    assert result.loc[0, "restore_changes"] == "[]"
    assert result.loc[0, "restore_en"].startswith("No change found: no combination of up to 2")
    assert result.loc[0, "restore_zh"].startswith("无法恢复")


def test_restore_no_action_applies(model):
    """A customer already at every target has no action to take."""
    rows = customers({"debt_to_assets": 1.0})
    result = search(model, rows, ["1"])
    assert result["restore_feasible"].tolist() == [False]
    assert "none of the allowed actions" in result.loc[0, "restore_en"]


def test_restore_default_event_and_missing_target(model):
    """A default event or a missing target grade gives a plain statement, never a search."""
    rows = customers({"max_dpd_now": 80.0}, {"max_dpd_now": 80.0}, {})
    current = grade_of(model, rows)
    result = search(model, rows, ["1", None, current[2]], events=[True, False, False])
    assert result["restore_feasible"].tolist() == [False, False, False]
    assert "default, write-off or bankruptcy" in result.loc[0, "restore_en"]
    assert "No previous grade" in result.loc[1, "restore_en"]
    assert "no worse than the grade to restore" in result.loc[2, "restore_en"]


def test_restore_missing_value_stays_missing(model):
    """A missing feature value is never moved."""
    rows = customers({"max_dpd_now": 80.0, "overdue_amount": 20_000.0, "mean_days_late_12m": np.nan})
    result = search(model, rows, ["1"])
    for change in json.loads(result.loc[0, "restore_changes"]):
        assert change["feature"] != "mean_days_late_12m"


def test_restore_batch_equals_single_rows(model):
    """Each customer's result is the same alone as inside a batch."""
    rows = customers(*({"max_dpd_now": float(d), "overdue_amount": 1_000.0 * d, "mean_days_late_12m": d / 3}
                       for d in range(0, 84, 7)))
    targets = ["3"] * len(rows)
    batch = search(model, rows, targets)
    for i in (0, 5, 11):
        alone = search(model, rows.iloc[[i]].reset_index(drop=True), [targets[i]])
        pd.testing.assert_frame_equal(alone, batch.iloc[[i]].reset_index(drop=True))
