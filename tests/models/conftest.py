"""Shared fixtures for the model tests: a seeded synthetic snapshot table and a trained model.

MLflow reads ``MLFLOW_DISABLE_TELEMETRY`` when it is first imported, which happens
while the test modules are collected, so the variable is set when this file is
loaded and restored when pytest finishes.
"""

from __future__ import annotations

import pandas as pd
import pytest

from synthetic_snapshots import make_training_table

_ENVIRONMENT = pytest.MonkeyPatch()
_ENVIRONMENT.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


# Same shape and values as the `train` section of params.yaml.
TRAIN_SECTION = {
    "seed": 42,
    "valid_months": 6,
    "oot_months": 6,
    "calibration": "auto",
    "min_oot_auc": 0.70,
    "lightgbm": {
        "n_estimators": 400,
        "learning_rate": 0.05,
        "num_leaves": 15,
        "min_child_samples": 50,
        "subsample": 0.8,
        "subsample_freq": 1,
        "colsample_bytree": 0.8,
        "reg_lambda": 1.0,
        "early_stopping_rounds": 50,
    },
    "monotone_constraints": {
        "debt_to_assets": 1,
        "current_ratio": -1,
        "quick_ratio": -1,
        "interest_coverage": -1,
        "ocf_to_liabilities": -1,
        "net_margin": -1,
        "roa": -1,
        "mean_days_late_12m": 1,
        "max_days_late_12m": 1,
        "share_paid_30p_late_12m": 1,
        "max_dpd_now": 1,
        "disputed_share_12m": 1,
        "months_since_last_late": -1,
    },
}


def pytest_unconfigure(config: pytest.Config) -> None:
    _ENVIRONMENT.undo()


@pytest.fixture(autouse=True)
def _no_mlflow_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def train_section() -> dict:
    """The `train` params section, as a fresh nested dict."""
    return {
        **TRAIN_SECTION,
        "lightgbm": dict(TRAIN_SECTION["lightgbm"]),
        "monotone_constraints": dict(TRAIN_SECTION["monotone_constraints"]),
    }


@pytest.fixture(scope="session")
def training_table() -> pd.DataFrame:
    """600 customers over 30 months (18,000 snapshots), seeded."""
    return make_training_table(n_customers=600, n_months=30, seed=7)


@pytest.fixture(scope="session")
def trained_model(training_table: pd.DataFrame, train_section: dict):
    """The PD model trained once on ``training_table`` with the params.yaml values."""
    from creditlimit.models.training import TrainParams, train_pd_model

    params = TrainParams.from_mapping(train_section)
    return train_pd_model(training_table, params=params)


@pytest.fixture(scope="session")
def table_factory():
    """The synthetic table builder, for tests that need another size or bad rate."""
    return make_training_table


CHALLENGER_SECTION = {
    "enabled": True,
    "pdo": 20,
    "base_points": 600,
    "base_odds": 50,
    "logistic_c": 1.0,
    "binning": {"max_n_prebins": 20, "min_prebin_size": 0.05, "max_n_bins": 8, "min_bin_size": 0.05},
}


@pytest.fixture(scope="session")
def challenger_section() -> dict:
    """The `train.challenger` params section, as a fresh nested dict."""
    return {**CHALLENGER_SECTION, "binning": dict(CHALLENGER_SECTION["binning"])}


@pytest.fixture(scope="session")
def trained_challenger(training_table: pd.DataFrame, train_section: dict, challenger_section: dict):
    """The challenger scorecard trained once on ``training_table`` with the params.yaml split."""
    from creditlimit.models.scorecard import ChallengerParams, train_challenger

    return train_challenger(
        training_table, params=ChallengerParams.from_mapping(challenger_section),
        valid_months=train_section["valid_months"], oot_months=train_section["oot_months"],
        gap_months=0, monotone_constraints=train_section["monotone_constraints"],
    )
