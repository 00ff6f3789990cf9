"""Score a large book batch by batch and write the outputs as it goes.

Each batch of whole groups (:class:`creditlimit.features.batches.FeatureBatches`)
goes through :func:`creditlimit.serving.scorer.score_portfolio` with the previous
run's rows of its own customers, and its tables are handed to a
:class:`creditlimit.serving.run_writer.RunWriter`. Memory therefore follows the
batch size. Two steps need the whole book and use a few columns of every customer
instead:

- the concentration flag, raised before the batches from every customer's open
  exposure and added to each batch's flags;
- the grade migration, counted after the batches from every customer's grade.

Every other step is row-wise or works within a group, so the outputs equal those
of one call of ``score_portfolio`` on the whole book, in the order of the batches.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from creditlimit.features.batches import FeatureBatches
from creditlimit.serving.attribution import COMPARED_LIMIT_COLUMNS
from creditlimit.serving.early_warning import concentration_flags
from creditlimit.serving.migration import grade_migration
from creditlimit.serving.previous_run import PreviousRun
from creditlimit.serving.run_writer import RunWriter
from creditlimit.serving.scorer import add_portfolio_flags, score_portfolio

__all__ = ["BatchSummary", "score_batches"]

logger = logging.getLogger(__name__)

# Limit columns the grade migration reads from the previous run.
MIGRATION_LIMIT_COLUMNS = ("customer_id", "grade", "new_limit", "scale_version")
# Columns a batch reads of the previous run: those the comparisons with it use
# (previous grade and limit, early warnings, change attribution, restore targets), not its texts.
PREVIOUS_LIMIT_COLUMNS = tuple(dict.fromkeys((*MIGRATION_LIMIT_COLUMNS, *COMPARED_LIMIT_COLUMNS)))
PREVIOUS_EXPLANATION_COLUMNS = ("customer_id", "feature", "value", "value_category", "contribution")


@dataclass(frozen=True)
class BatchSummary:
    """Rows per written table, action and flag counts for the manifest, and timings per step."""

    rows: dict[str, int]
    actions: dict[str, int]
    flags: dict[str, int]
    timings: dict[str, float]


def score_batches(
    batches: FeatureBatches,
    writer: RunWriter,
    *,
    load_previous: Callable[..., PreviousRun | None],
    flag_params,
    master_scale,
    policy,
    as_of: dt.date,
    base_currency: str,
    **scoring,
) -> BatchSummary:
    """Score every batch and hand each output table to ``writer``; return the counts.

    Parameters
    ----------
    batches : FeatureBatches
        The book's features in batches of whole groups.
    writer : RunWriter
        Receives the tables ``limits``, ``explanations``, ``flags``, the scorer's
        further tables and ``grade_migration``.
    load_previous : callable
        ``load_previous(customers=..., limit_columns=..., ...)`` returns the
        previous run restricted to those customers and columns (see
        :func:`creditlimit.serving.previous_run.find_previous_run`), or None.
    flag_params, master_scale, policy, as_of, base_currency, **scoring
        Passed on to :func:`creditlimit.serving.scorer.score_portfolio`.
    """
    timings: dict[str, float] = {}
    concentration = _concentration(batches, flag_params, as_of, base_currency)
    # The concentration rule ran on the whole book above; a batch must not run it on its share.
    batch_flag_params = dataclasses.replace(flag_params, concentration_min_customers=sys.maxsize)
    grades, actions, flag_counts = [], {}, {}
    for index in range(batches.count):
        features = batches.read(index)
        ids = features["customer_id"].tolist()
        previous = load_previous(customers=ids, limit_columns=PREVIOUS_LIMIT_COLUMNS,
                                 explanation_columns=PREVIOUS_EXPLANATION_COLUMNS, with_flags=False)
        result = score_portfolio(features, flag_params=batch_flag_params, master_scale=master_scale,
                                 policy=policy, as_of=as_of, base_currency=base_currency, previous=previous,
                                 with_migration=False, **scoring)
        started = time.perf_counter()
        limits, flags = add_portfolio_flags(result.limits, result.flags,
                                            concentration[concentration["customer_id"].isin(ids)])
        for name, frame in (("limits", limits), ("explanations", result.explanations), ("flags", flags)):
            writer.add(name, frame)
        for name, frame in sorted(result.extra.items()):
            writer.add(name, frame)
        _add_counts(actions, limits["action"])
        _add_counts(flag_counts, flags["code"])
        grades.append(limits[["customer_id", "grade"]])
        _add_timings(timings, {**result.timings, "batch_writes_s": time.perf_counter() - started})
        logger.info("batch %d of %d: %d customers", index + 1, batches.count, len(limits))
        del features, previous, result, limits, flags
        _release_free_memory()
    grades = pd.concat(grades, ignore_index=True) if grades else pd.DataFrame({"customer_id": [], "grade": []})
    writer.add("grade_migration", grade_migration(
        grades["customer_id"], grades["grade"],
        load_previous(limit_columns=MIGRATION_LIMIT_COLUMNS, with_explanations=False, with_flags=False),
        grade_order=master_scale.grade_order, scale_version=policy.scale_version,
    ))
    return BatchSummary(rows=dict(writer.rows), actions=dict(sorted(actions.items())),
                        flags=dict(sorted(flag_counts.items())), timings=timings)


def _release_free_memory() -> None:
    """Hand memory that Python freed back to the operating system (glibc only; elsewhere nothing happens).

    A batch frees hundreds of megabytes of small text objects; glibc keeps the
    freed heap pages, and without this the resident size creeps up batch by batch.
    """
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _concentration(batches: FeatureBatches, flag_params, as_of: dt.date, base_currency: str) -> pd.DataFrame:
    """Raise the concentration flags of the whole book from every customer's open exposure."""
    exposures = batches.columns(["customer_id", "open_exposure"])
    exposures["open_exposure"] = pd.to_numeric(exposures["open_exposure"]).astype("float64")
    flags = concentration_flags(exposures, flag_params, base_currency)
    flags.insert(1, "as_of", pd.Timestamp(as_of))
    return flags


def _add_counts(counts: dict[str, int], values: pd.Series) -> None:
    for value, count in values.value_counts().items():
        counts[str(value)] = counts.get(str(value), 0) + int(count)


def _add_timings(total: dict[str, float], timings: dict[str, float]) -> None:
    for name, seconds in timings.items():
        total[name] = total.get(name, 0.0) + seconds
