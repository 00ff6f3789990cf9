"""End-to-end tests of a run explained against its previous run, on a small real portfolio and model."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from repo_params import repo_params
from sample_book import trained_book

from creditlimit.features.recent_behaviour import recent_behaviour
from creditlimit.features.snapshots import build_features
from creditlimit.models.master_scale import MasterScale
from creditlimit.serving.explain_params import ExplainParams
from creditlimit.serving.explain_run import EXPLAIN_LIMIT_COLUMNS
from creditlimit.serving.flags import FlagParams
from creditlimit.serving.policy import PolicyParams
from creditlimit.serving.previous_run import PreviousRun
from creditlimit.serving.scorer import score_portfolio

pytestmark = pytest.mark.slow

PARAMS = repo_params()
PREVIOUS_AS_OF = dt.date(2024, 12, 1)
AS_OF = dt.date(2025, 1, 1)
SCALE = MasterScale.from_mapping(PARAMS["policy"])


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Features at two month starts, their recent behaviour, and a model trained on the history."""
    con, model = trained_book(tmp_path_factory.mktemp("raw"))
    frames = {}
    for as_of in (PREVIOUS_AS_OF, AS_OF):
        features = build_features(con, [as_of], max_statement_age_months=24)
        recent = recent_behaviour(con, as_of, months=PARAMS["flags"]["recent_months"])
        frames[as_of] = features.merge(recent, on="customer_id", how="left", validate="one_to_one")
    return frames, model


def score(features, model, as_of, *, previous=None, quarantine=None):
    return score_portfolio(
        features, model=model, master_scale=SCALE, policy=PolicyParams.from_mapping(PARAMS["policy"]),
        flag_params=FlagParams.from_mapping(PARAMS["flags"]), as_of=as_of, run_id=f"run-{as_of}",
        model_version="1", top_k=3, batch_size=10_000, base_currency="CNY", previous=previous,
        explain_params=ExplainParams.from_mapping(PARAMS["explain"]), quarantine=quarantine,
    )


@pytest.fixture(scope="module")
def runs(book, tmp_path_factory):
    """The previous run (published to a folder) and the current run compared with it."""
    frames, model = book
    first = score(frames[PREVIOUS_AS_OF], model, PREVIOUS_AS_OF)
    folder = tmp_path_factory.mktemp("previous")
    first.extra["contributions"].to_parquet(folder / "contributions.parquet")
    previous = PreviousRun(as_of=PREVIOUS_AS_OF, folder=folder, limits=first.limits,
                           explanations=first.explanations, flags=first.flags,
                           manifest={"model": {"version": "1"}, "policy_version": PARAMS["policy"]["version"]})
    customer = first.limits["customer_id"].iloc[3]
    quarantine = pd.DataFrame({"customer_id": [customer], "table": ["invoices"],
                               "reason_code": ["due_before_issue"], "rows": [2]})
    second = score(frames[AS_OF], model, AS_OF, previous=previous, quarantine=quarantine)
    return first, second, model, frames[AS_OF], customer


def test_explained_limits_have_contract_columns(runs):
    """The limits carry every explanation column, and the previous PD matches the previous run."""
    first, second, *_ = runs
    for column in EXPLAIN_LIMIT_COLUMNS:
        assert column in second.limits.columns, column
    before = first.limits.set_index("customer_id")["pd_12m"]
    matched = second.limits["customer_id"].map(before)
    np.testing.assert_array_equal(second.limits["previous_pd_12m"].to_numpy(), matched.to_numpy())
    # The first run has no previous run, so nothing is compared.
    assert first.limits["previous_pd_12m"].isna().all()
    assert (first.limits["change_summary_en"] == "").all()


def test_contributions_add_up_to_raw_margin(runs):
    """The wide contributions table reconstructs each raw margin from TreeSHAP within 1e-6."""
    _, second, model, *_ = runs
    table = second.extra["contributions"]
    assert list(table.columns) == ["customer_id", "base_value", "raw_margin", *model.feature_names]
    total = table["base_value"] + table[list(model.feature_names)].sum(axis=1)
    np.testing.assert_allclose(total, table["raw_margin"], atol=1e-6, rtol=0)
    assert second.limits["additivity_ok"].all()


def test_changed_customers_are_attributed(runs):
    """Every customer whose grade or proposed limit moved has a summary; unchanged ones have none."""
    first, second, *_ = runs
    before = first.limits.set_index("customer_id")
    now = second.limits.set_index("customer_id")
    common = now.index.intersection(before.index)
    moved = ((now.loc[common, "grade"] != before.loc[common, "grade"])
             | (now.loc[common, "proposed_limit"] != before.loc[common, "proposed_limit"]))
    assert moved.any()
    summaries = now.loc[common, "change_summary_en"]
    assert (summaries[moved] != "").all()
    assert (summaries[~moved] == "").all()
    assert (now.loc[common, "change_summary_zh"][moved] != "").all()
    changes = second.extra["changes"]
    assert set(changes["customer_id"]) <= set(moved[moved].index)
    assert set(changes["cause_kind"]) <= {"feature", "need", "capacity", "model_version", "policy_version"}
    assert changes["text_zh"].str.len().gt(0).all()


def test_every_cut_has_restore_text(runs):
    """Each decrease or suspension states a restoring change or that none exists; others have none."""
    _, second, *_ = runs
    limits = second.limits
    cut = limits["action"].isin(["decrease", "suspend"])
    assert cut.any()
    assert limits.loc[cut, "restore_feasible"].notna().all()
    assert (limits.loc[cut, "restore_en"] != "").all()
    assert (limits.loc[cut, "restore_zh"] != "").all()
    assert limits.loc[~cut, "restore_feasible"].isna().all()
    assert (limits.loc[~cut, "restore_en"] == "").all()


def test_feasible_restore_reaches_target_with_model(runs):
    """Applying a restoring change and re-scoring gives the previous grade or better."""
    first, second, model, features, _ = runs
    feasible = second.limits[second.limits["restore_feasible"].fillna(False).astype(bool)]
    if feasible.empty:
        pytest.skip("no feasible restore in this small portfolio")
    previous_grade = first.limits.set_index("customer_id")["grade"]
    order = list(SCALE.grade_order)
    for _, row in feasible.head(20).iterrows():
        changed = features[features["customer_id"] == row["customer_id"]].copy()
        for change in json.loads(row["restore_changes"]):
            assert changed[change["feature"]].iloc[0] == pytest.approx(change["from"])
            changed[change["feature"]] = change["to"]
        X, _ = model.encode(changed)
        grade = SCALE.assign_grades(model.calibrate(model.raw_margin(X)))[0]
        target = previous_grade.get(row["customer_id"])
        if row["action"] == "suspend":
            target = str(min(order.index(str(target)) + 1, PARAMS["policy"]["cutoff_grade"]))
        assert order.index(grade) <= order.index(str(target))


def test_quarantined_customer_is_flagged(runs):
    """The quarantine summary raises a flag that also shows in risk_flags."""
    _, second, _, _, customer = runs
    flags = second.flags[second.flags["customer_id"] == customer]
    assert "quarantined_input" in flags["code"].tolist()
    risk = second.limits.set_index("customer_id").loc[customer, "risk_flags"]
    assert "quarantined_input" in risk.split(",")
    assert second.flags["as_of"].notna().all()
