"""Loaders of the public credit data sets that the model-quality benchmark trains on.

The files are not part of the repository. They are read from a data folder laid out
as ``<data_dir>/<data set>/<file>``, by default ``../shared/data`` next to the
repository root, or the folder named by the ``CREDITLIMIT_SHARED_DATA`` environment
variable. Each loader returns the feature table with missing values kept as NaN, the
0/1 default outcome (1 = bad), the categorical columns, the monotone constraints
whose direction is economically clear, and, where the protocol needs it, the column
that splits training from test rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "DATASETS",
    "DEFAULT_DATA_DIR",
    "DatasetUnavailableError",
    "PublicDataset",
    "load_dataset",
]

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path(os.environ.get("CREDITLIMIT_SHARED_DATA", REPO.parent / "shared" / "data"))


class DatasetUnavailableError(FileNotFoundError):
    """A data set file is not in the data folder."""


@dataclass(frozen=True)
class PublicDataset:
    """One labelled public data set, ready for the benchmark.

    Attributes
    ----------
    name : str
        Short identifier used on the command line (``--datasets``).
    title : str
        Human-readable name with its source.
    features : pandas.DataFrame
        One row per borrower; numeric columns as float64 with NaN for missing,
        categorical columns as text.
    is_bad : numpy.ndarray of int64, shape (n_rows,)
        1 when the borrower defaulted (or the firm went bankrupt), else 0.
    categorical : tuple of str
        Columns of ``features`` that are categorical.
    monotone_constraints : Mapping[str, int]
        Feature to +1 (PD may only rise with it) or -1 (may only fall).
    period : pandas.Series or None
        Period of each row for a train/test split by time (Slovak evaluation year);
        None for data sets evaluated by cross-validation.
    """

    name: str
    title: str
    features: pd.DataFrame
    is_bad: np.ndarray
    categorical: tuple[str, ...] = ()
    monotone_constraints: Mapping[str, int] = field(default_factory=dict)
    period: pd.Series | None = None

    def subsample(self, n_rows: int, *, seed: int) -> PublicDataset:
        """Return a stratified random subsample of at most ``n_rows`` rows (same bad rate)."""
        if n_rows >= len(self.features):
            return self
        rng = np.random.default_rng(seed)
        keep = []
        for label in (0, 1):
            rows = np.flatnonzero(self.is_bad == label)
            share = round(n_rows * rows.size / self.is_bad.size)
            keep.append(rng.choice(rows, size=max(share, 1), replace=False))
        rows = np.sort(np.concatenate(keep))
        return PublicDataset(
            name=self.name,
            title=self.title,
            features=self.features.iloc[rows].reset_index(drop=True),
            is_bad=self.is_bad[rows],
            categorical=self.categorical,
            monotone_constraints=self.monotone_constraints,
            period=None if self.period is None else self.period.iloc[rows].reset_index(drop=True),
        )


def _read_csv(data_dir: Path, relative: str, **options) -> pd.DataFrame:
    path = data_dir / relative
    if not path.is_file():
        raise DatasetUnavailableError(
            f"Data file {path} not found. Pass --data-dir with the folder that contains "
            f"'{relative}', or set CREDITLIMIT_SHARED_DATA."
        )
    return pd.read_csv(path, **options)


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(pd.to_numeric, errors="raise").astype(np.float64)


def load_give_me_some_credit(data_dir: Path) -> PublicDataset:
    """Kaggle "Give Me Some Credit" training file: 150,000 consumers, 10 bureau variables."""
    raw = _read_csv(data_dir, "give_me_some_credit/cs-training.csv.gz", index_col=0)
    features = _numeric(raw.drop(columns="SeriousDlqin2yrs"))
    # More past-due episodes mean more risk, and older borrowers carry less.
    constraints = {
        "NumberOfTime30-59DaysPastDueNotWorse": 1,
        "NumberOfTime60-89DaysPastDueNotWorse": 1,
        "NumberOfTimes90DaysLate": 1,
        "age": -1,
    }
    return PublicDataset(
        name="give_me_some_credit",
        title="Give Me Some Credit (Kaggle 2011)",
        features=features,
        is_bad=raw["SeriousDlqin2yrs"].to_numpy(np.int64),
        monotone_constraints=constraints,
    )


def load_polish_1year(data_dir: Path) -> PublicDataset:
    """Polish companies bankruptcy, 1st-year file: 7,027 firms, 64 financial ratios."""
    raw = _read_csv(data_dir, "polish_bankruptcy/polish_1year.csv")
    features = _numeric(raw.drop(columns="class"))
    # Return on assets (Attr1 net profit, Attr7 EBIT) lowers bankruptcy risk and
    # leverage (Attr2 total liabilities / total assets) raises it.
    constraints = {"Attr1": -1, "Attr7": -1, "Attr2": 1}
    return PublicDataset(
        name="polish_1year",
        title="Polish companies bankruptcy, 1st-year file (UCI 365)",
        features=features,
        is_bad=raw["class"].to_numpy(np.int64),
        monotone_constraints=constraints,
    )


def load_taiwan_credit_card(data_dir: Path) -> PublicDataset:
    """Taiwan credit-card clients 2005: 30,000 card holders, limits and six months of history."""
    raw = _read_csv(data_dir, "uci_credit_card_default/UCI_Credit_Card.csv")
    label = "default.payment.next.month"
    categorical = ("SEX", "EDUCATION", "MARRIAGE")
    features = _numeric(raw.drop(columns=["ID", label]))
    for column in categorical:
        features[column] = raw[column].astype(str)
    return PublicDataset(
        name="taiwan_credit_card",
        title="Default of credit card clients, Taiwan 2005 (UCI 350)",
        features=features,
        is_bad=raw[label].to_numpy(np.int64),
        categorical=categorical,
        # The bank grants higher limits to clients it judged safer.
        monotone_constraints={"LIMIT_BAL": -1},
    )


def load_german_credit(data_dir: Path) -> PublicDataset:
    """Statlog German credit: 1,000 applicants, 7 numeric and 13 coded attributes."""
    raw = _read_csv(data_dir, "statlog_german_credit/german_credit.csv")
    features = raw.drop(columns="class")
    categorical = tuple(
        column for column in features.columns if not pd.api.types.is_numeric_dtype(features[column])
    )
    numeric = [column for column in features.columns if column not in categorical]
    features = features.astype({column: np.float64 for column in numeric})
    features = features.astype({column: object for column in categorical})
    return PublicDataset(
        name="german_credit",
        title="Statlog German credit (UCI 144)",
        features=features,
        is_bad=(raw["class"] == 2).to_numpy(np.int64),
        categorical=categorical,
        # Longer loans and a larger instalment share of income carry more risk.
        monotone_constraints={"duration_months": 1, "installment_rate_pct": 1},
    )


def load_slovak_sme(data_dir: Path) -> PublicDataset:
    """Slovak SME bankruptcy, evaluation years 2013-2015: 21 ratios over three prior years."""
    raw = _read_csv(data_dir, "slovak_sme_bankruptcy/slovak_sme_2013_2015.csv")
    ratios = [column for column in raw.columns if column.startswith("V")]
    features = _numeric(raw[ratios])
    features.insert(0, "sector", raw["sector"].astype(object))
    return PublicDataset(
        name="slovak_sme",
        title="Slovak SME bankruptcy, evaluation years 2013-2015 (Mendeley j89csb932y v2)",
        features=features,
        is_bad=raw["bankrupt"].to_numpy(np.int64),
        categorical=("sector",),
        # No constraints: the order of the 63 ratio columns was not re-checked
        # against the data paper, so no column has a known economic direction.
        period=raw["evaluation_year"].astype(np.int64),
    )


DATASETS: dict[str, Callable[[Path], PublicDataset]] = {
    "give_me_some_credit": load_give_me_some_credit,
    "polish_1year": load_polish_1year,
    "taiwan_credit_card": load_taiwan_credit_card,
    "german_credit": load_german_credit,
    "slovak_sme": load_slovak_sme,
}


def load_dataset(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> PublicDataset:
    """Load one data set by its short name.

    Raises
    ------
    KeyError
        If ``name`` is not one of :data:`DATASETS`.
    DatasetUnavailableError
        If its file is not in ``data_dir``.
    """
    if name not in DATASETS:
        raise KeyError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
    return DATASETS[name](Path(data_dir))
