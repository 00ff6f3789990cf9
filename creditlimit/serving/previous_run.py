"""Find and load the published scoring run that precedes a given as-of date.

Grade migration, PD-jump and downgrade flags and the "why it changed" attribution
compare a run with the one before it. The previous run is the latest
``as_of=YYYY-MM-DD`` folder under the scores root with a date strictly before the
current one. Temporary folders of unfinished runs start with a dot and are skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["PreviousRun", "find_previous_run", "previous_run_manifest", "published_as_of_dates"]

_FOLDER = re.compile(r"^as_of=(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class PreviousRun:
    """Outputs of one earlier published run, read from its folder.

    ``contributions`` is the run's contributions table (customer id as index) when
    it was read for a subset of customers; None means callers read it from
    ``folder`` themselves.
    """

    as_of: dt.date
    folder: Path
    limits: pd.DataFrame
    explanations: pd.DataFrame
    flags: pd.DataFrame
    manifest: dict
    contributions: pd.DataFrame | None = None


def published_as_of_dates(scores_root: Path) -> list[dt.date]:
    """List the as-of dates of complete runs under ``scores_root``, oldest first.

    A run is complete when its folder contains ``manifest.json``, which the scorer
    writes last inside the temporary folder before the atomic rename.
    """
    if not scores_root.is_dir():
        return []
    dates = []
    for folder in scores_root.iterdir():
        match = _FOLDER.match(folder.name)
        if match and folder.is_dir() and (folder / "manifest.json").is_file():
            dates.append(dt.date.fromisoformat(match.group(1)))
    return sorted(dates)


def previous_run_manifest(scores_root: Path, as_of: dt.date) -> dict | None:
    """Return the manifest of the latest complete run before ``as_of``, or None, reading nothing else."""
    earlier = [date for date in published_as_of_dates(scores_root) if date < as_of]
    if not earlier:
        return None
    path = scores_root / f"as_of={earlier[-1].isoformat()}" / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def find_previous_run(scores_root: Path, as_of: dt.date, *, customers: Sequence[str] | None = None,
                      limit_columns: Sequence[str] | None = None,
                      explanation_columns: Sequence[str] | None = None,
                      with_explanations: bool = True, with_flags: bool = True) -> PreviousRun | None:
    """Load the latest complete run before ``as_of``, or None when there is none.

    With ``customers``, only their rows are read (and the contributions table too),
    so a batch of a large book reads the previous run of that batch alone. With
    ``limit_columns`` or ``explanation_columns``, only those columns are read (the
    ones the file has); ``with_explanations=False`` or ``with_flags=False`` leaves
    that frame empty.
    """
    earlier = [date for date in published_as_of_dates(scores_root) if date < as_of]
    if not earlier:
        return None
    previous = earlier[-1]
    folder = scores_root / f"as_of={previous.isoformat()}"
    wanted = None if customers is None else _customer_filter(list(customers))
    contributions = None
    if wanted is not None and with_explanations:
        contributions = _read_optional(folder / "contributions.parquet", wanted)
        contributions = contributions.set_index("customer_id") if "customer_id" in contributions else None
    return PreviousRun(
        as_of=previous,
        folder=folder,
        limits=_read_optional(folder / "limits.parquet", wanted, limit_columns),
        explanations=(_read_optional(folder / "explanations.parquet", wanted, explanation_columns)
                      if with_explanations else pd.DataFrame()),
        flags=_read_optional(folder / "flags.parquet", wanted) if with_flags else pd.DataFrame(),
        manifest=json.loads((folder / "manifest.json").read_text(encoding="utf-8")),
        contributions=contributions,
    )


def _customer_filter(customers: list[str]):
    """Select ``customers``; the range test lets Parquet statistics skip row groups of other batches."""
    if not customers:
        return pc.field("customer_id").isin([])
    in_range = (pc.field("customer_id") >= min(customers)) & (pc.field("customer_id") <= max(customers))
    return in_range & pc.field("customer_id").isin(customers)


def _read_optional(path: Path, wanted=None, columns: Sequence[str] | None = None) -> pd.DataFrame:
    # Runs written by older versions may lack a file; an empty frame keeps callers simple.
    if not path.is_file():
        return pd.DataFrame()
    if columns is not None:
        present = set(pq.read_schema(path).names)
        columns = [name for name in columns if name in present]
    # pandas.read_parquet turns Arrow date32 columns into objects in pandas 3, so read through pyarrow.
    return pq.read_table(path, columns=columns, filters=wanted).to_pandas(date_as_object=False)
