"""The batch scorer gives the whole-book scorer's outputs, batch by batch, with a previous run and concentration."""

import dataclasses
import datetime as dt
import functools
import json

import pandas as pd
import pytest
from repo_params import repo_params
from sample_book import trained_book

from creditlimit.features.batches import write_feature_batches
from creditlimit.features.recent_behaviour import recent_behaviour
from creditlimit.features.snapshots import build_features
from creditlimit.models.master_scale import MasterScale
from creditlimit.serving.batch_scorer import score_batches
from creditlimit.serving.explain_params import ExplainParams
from creditlimit.serving.flags import FlagParams
from creditlimit.serving.previous_run import find_previous_run
from creditlimit.serving.run_writer import RunWriter
from creditlimit.serving.scorer import score_portfolio

PARAMS = repo_params()
PREVIOUS_AS_OF = dt.date(2024, 10, 1)
AS_OF = dt.date(2025, 1, 1)
# Low enough that a few of the 400 customers hold this share of the book's exposure.
FLAGS = dataclasses.replace(FlagParams.from_mapping(PARAMS["flags"]), concentration_share=0.01)


def _scoring(model, as_of):
    from creditlimit.serving.policy import PolicyParams

    return dict(model=model, master_scale=MasterScale.from_mapping(PARAMS["policy"]),
                policy=PolicyParams.from_mapping(PARAMS["policy"]), flag_params=FLAGS, as_of=as_of,
                run_id=f"run-{as_of}", model_version="1", top_k=3, batch_size=10_000, base_currency="CNY",
                explain_params=ExplainParams.from_mapping(PARAMS["explain"]))


def _whole_book(con, model, as_of, previous=None):
    features = build_features(con, [as_of], max_statement_age_months=24)
    features = features.merge(recent_behaviour(con, as_of, months=FLAGS.recent_months), on="customer_id",
                              how="left", validate="one_to_one")
    return score_portfolio(features, previous=previous, **_scoring(model, as_of))


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The sample book, its model and a published previous run under ``scores``."""
    con, model = trained_book(tmp_path_factory.mktemp("raw"))
    scores = tmp_path_factory.mktemp("scores")
    folder = scores / f"as_of={PREVIOUS_AS_OF.isoformat()}"
    folder.mkdir()
    earlier = _whole_book(con, model, PREVIOUS_AS_OF)
    writer = RunWriter(folder)
    for name, frame in (("limits", earlier.limits), ("explanations", earlier.explanations),
                        ("flags", earlier.flags), *earlier.extra.items()):
        writer.add(name, frame)
    writer.finish()
    (folder / "manifest.json").write_text(json.dumps({"run_id": "earlier", "as_of": PREVIOUS_AS_OF.isoformat(),
                                                      "model": {"version": "1"}}), encoding="utf-8")
    return con, model, scores


@pytest.mark.parametrize("batch_size", [37, 150])
def test_batches_equal_whole_book(book, tmp_path, batch_size):
    """Every output table equals the whole-book scorer's, up to row order, for any batch size."""
    con, model, scores = book
    expected = _whole_book(con, model, AS_OF, previous=find_previous_run(scores, AS_OF))
    batches = write_feature_batches(con, AS_OF, tmp_path / "features.parquet", max_statement_age_months=24,
                                    recent_months=FLAGS.recent_months, batch_size=batch_size)
    assert batches.count > 1
    writer = RunWriter(tmp_path / "run")
    scoring = _scoring(model, AS_OF)
    summary = score_batches(batches, writer, load_previous=functools.partial(find_previous_run, scores, AS_OF),
                            **{k: v for k, v in scoring.items()})
    writer.finish()

    wanted = {"limits": expected.limits, "explanations": expected.explanations, "flags": expected.flags,
              **expected.extra}
    assert (expected.flags["code"] == "concentration").sum() > 0
    assert expected.extra["changes"].shape[0] > 0
    for name, frame in wanted.items():
        got = pd.read_parquet(tmp_path / "run" / f"{name}.parquet")
        keys = [c for c in ("customer_id", "feature", "code", "subject", "from_grade", "to_grade", "rank")
                if c in got.columns and c in frame.columns]
        pd.testing.assert_frame_equal(_sorted(got, keys), _sorted(frame, keys), check_dtype=False,
                                      check_exact=True, obj=name)
    assert summary.rows["limits"] == len(expected.limits)
    assert sum(summary.flags.values()) == len(expected.flags)


def test_batches_hold_whole_groups(book, tmp_path):
    """No group is split between two batches, and every customer is in exactly one."""
    con, _, _ = book
    batches = write_feature_batches(con, AS_OF, tmp_path / "features.parquet", max_statement_age_months=24,
                                    recent_months=FLAGS.recent_months, batch_size=25)
    parts = [batches.read(index) for index in range(batches.count)]
    groups = [set(part["group_id"].dropna()) for part in parts]
    assert any(groups)
    for i, first in enumerate(groups):
        for second in groups[i + 1:]:
            assert not first & second
    ids = pd.concat([part["customer_id"] for part in parts])
    assert ids.is_unique and len(ids) == batches.customers


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return frame.sort_values(keys, kind="mergesort").reset_index(drop=True) if keys else frame
