"""Tests of the batch scorer on a small real portfolio: generator, validation, features, model."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from repo_params import repo_params
from sample_book import trained_book

from creditlimit.features.snapshots import build_features
from creditlimit.models.master_scale import MasterScale
from creditlimit.serving.flags import FlagParams
from creditlimit.serving.policy import PolicyParams
from creditlimit.serving.scorer import LIMIT_COLUMNS, score_portfolio


PARAMS = repo_params()
AS_OF = dt.date(2025, 1, 1)


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    """A 400-customer, 36-month portfolio: clean tables, scoring features and a trained model."""
    con, model = trained_book(tmp_path_factory.mktemp("raw"))
    features = build_features(con, [AS_OF], max_statement_age_months=24)
    return features, model


def score(features, model, batch_size=10_000, previous=None):
    return score_portfolio(
        features, model=model, master_scale=MasterScale.from_mapping(PARAMS["policy"]),
        policy=PolicyParams.from_mapping(PARAMS["policy"]), flag_params=FlagParams.from_mapping(PARAMS["flags"]),
        as_of=AS_OF, run_id="test-run", model_version="1", top_k=3, batch_size=batch_size,
        base_currency="CNY", previous=previous,
    )


def test_scorer_outputs_documented_columns(portfolio):
    """The limits frame has every documented column and one row per customer."""
    features, model = portfolio
    result = score(features, model)
    for column in LIMIT_COLUMNS:
        assert column in result.limits.columns, column
    assert result.limits["customer_id"].is_unique
    assert len(result.limits) == len(features)
    assert result.limits["pd_12m"].between(0, 1).all()


def test_scorer_customer_alone_equals_batch(portfolio):
    """A customer outside any group, or a whole group, gets exactly the rows it gets inside the batch."""
    features, model = portfolio
    full = score(features, model).limits.set_index("customer_id")
    loners = features.loc[features["group_id"].isna(), "customer_id"]
    for customer_id in loners.iloc[[0, 17, 123]]:
        alone = score(features[features["customer_id"] == customer_id], model).limits.set_index("customer_id")
        pd.testing.assert_frame_equal(alone.loc[[customer_id]], full.loc[[customer_id]], check_exact=True)
    group_id = features["group_id"].dropna().iloc[0]
    members = features[features["group_id"] == group_id]
    together = score(members, model).limits.set_index("customer_id")
    pd.testing.assert_frame_equal(together, full.loc[together.index], check_exact=True)


def test_scorer_invariant_to_batch_size_and_row_order(portfolio):
    """Batch size and input row order change no output."""
    features, model = portfolio
    reference = score(features, model)
    shuffled = features.sample(frac=1.0, random_state=3)
    other = score(shuffled, model, batch_size=37)
    pd.testing.assert_frame_equal(reference.limits, other.limits, check_exact=True)
    pd.testing.assert_frame_equal(reference.explanations, other.explanations, check_exact=True)
    pd.testing.assert_frame_equal(reference.flags, other.flags, check_exact=True)


def test_scorer_reasons_raise_pd_and_add_up(portfolio):
    """Reason codes are positive log-odds contributions and bias plus contributions is the margin."""
    features, model = portfolio
    result = score(features, model)
    explanations = result.explanations
    reasons = explanations[explanations["text_en"].notna()]
    assert (reasons["contribution"] > 0).all()
    assert reasons.groupby("customer_id").size().max() <= 3
    totals = explanations.groupby("customer_id").agg(bias=("base_value", "first"), total=("contribution", "sum"))
    margins = result.limits.set_index("customer_id")["raw_margin"]
    np.testing.assert_allclose((totals["bias"] + totals["total"]).loc[margins.index], margins, atol=1e-6)
    assert result.limits["additivity_ok"].all()


def test_scorer_unseen_industry_flagged(portfolio):
    """An industry never seen in training scores like a missing one and raises a flag."""
    features, model = portfolio
    customer = features.iloc[[5]].copy()
    unseen = customer.assign(industry="space_mining")
    missing = customer.assign(industry=None)
    unseen_result = score(unseen, model)
    missing_result = score(missing, model)
    assert unseen_result.limits["pd_12m"].iloc[0] == missing_result.limits["pd_12m"].iloc[0]
    assert "unseen_category" in set(unseen_result.flags["code"])
    assert "unseen_category" not in set(missing_result.flags["code"])


def test_scorer_past_due_threshold_is_default(portfolio):
    """A customer past the default definition's days-past-due threshold gets grade D at once."""
    features, model = portfolio
    customer = features.iloc[[7]].copy()
    customer = customer.assign(max_dpd_now=120.0, overdue_amount=5_000.0, current_limit=200_000.0,
                               limit_locked=False, is_defaulted=False)
    row = score(customer, model).limits.iloc[0]
    assert row["grade"] == "D"
    assert row["action"] == "suspend"
    assert row["effective_on"] == pd.Timestamp(AS_OF)
    below = customer.assign(max_dpd_now=80.0)
    assert score(below, model).limits.iloc[0]["grade"] != "D"


def test_scorer_records_scale_and_review_and_groups(portfolio):
    """Every row names the scale version and its next review; group sums never pass an applicable cap."""
    features, model = portfolio
    limits = score(features, model).limits
    assert (limits["scale_version"] == PARAMS["policy"]["scale_version"]).all()
    assert limits["next_review_on"].notna().all()
    assert (limits["next_review_on"] > pd.Timestamp(AS_OF)).any()
    assert set(limits["review_frequency_months"]) <= {*PARAMS["policy"]["review_months_by_grade"],
                                                       PARAMS["policy"]["review_months_watch"]}
    grouped = limits[limits["group_id"].notna()]
    assert len(grouped) > 0
    totals = grouped.groupby("group_id")["new_limit"].sum()
    np.testing.assert_allclose(grouped.groupby("group_id")["group_limit_total"].first(), totals)


def test_scorer_extra_tables_without_previous_run(portfolio):
    """Without a previous run, comparisons are missing, every customer migrates from new, and features are kept."""
    features, model = portfolio
    result = score(features, model)
    assert result.limits["previous_grade"].isna().all()
    assert result.limits["grade_change"].isna().all()
    migration = result.extra["grade_migration"]
    assert set(migration["from_grade"]) == {"new"}
    assert migration["customers"].sum() == len(features)
    kept = result.extra["features"]
    assert list(kept.columns) == list(features.columns)
    assert kept["customer_id"].tolist() == sorted(features["customer_id"])


def test_scorer_compares_with_previous_run(portfolio, tmp_path):
    """With a previous run, previous grade and limit are looked up and the migration counts its grades."""
    from creditlimit.serving.previous_run import PreviousRun

    features, model = portfolio
    first = score(features, model).limits
    earlier = first.assign(grade=np.where(first["grade"] == "D", "D", "1"), new_limit=first["new_limit"] + 1000)
    previous = PreviousRun(as_of=dt.date(2024, 12, 1), folder=tmp_path, limits=earlier,
                           explanations=pd.DataFrame(), flags=pd.DataFrame(), manifest={})
    result = score(features, model, previous=previous)
    limits = result.limits
    np.testing.assert_allclose(limits["previous_limit"], first["new_limit"] + 1000)
    notch = {**{str(g): g for g in range(1, 11)}, "D": 11}
    expected = limits["grade"].map(notch) - limits["previous_grade"].map(notch)
    assert limits["grade_change"].tolist() == expected.tolist()
    migration = result.extra["grade_migration"]
    assert set(migration["from_grade"]) <= {"1", "D"}
    assert migration["customers"].sum() == len(features)
