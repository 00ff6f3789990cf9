"""Split the scoring features of one as_of into batches of whole groups, and read them back batch by batch.

A large book is scored batch by batch so that memory follows the batch size, not
the book. The features are built once in DuckDB (with the recent-behaviour flag
inputs beside them) and written to a Parquet file sorted by batch and customer id.
Each batch is read back through DuckDB with a filter on the batch number, which
skips the row groups of the other batches and gives exactly the column types of
:func:`creditlimit.features.snapshots.build_features`.

The group cap needs every member of a group, so a batch never splits a group.
Units (a group, or a customer outside any group) are taken in the order of their
first customer id and cut into batches of about ``batch_size`` customers. A batch
ends after the unit that reaches the size, so it may be larger by up to one group.
A book without groups is therefore scored in customer order.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from creditlimit.features import snapshots
from creditlimit.features.recent_behaviour import RECENT_COLUMNS, recent_behaviour

__all__ = ["FeatureBatches", "assign_batches", "fix_feature_dtypes", "write_feature_batches"]

logger = logging.getLogger(__name__)

BATCH_COLUMN = "_batch"


@dataclass(frozen=True)
class FeatureBatches:
    """The features of one as_of in a Parquet file, numbered in batches ``0 .. count - 1``."""

    path: Path
    count: int
    customers: int

    def read(self, index: int) -> pd.DataFrame:
        """Return batch ``index`` as the feature frame the scorer takes, sorted by customer id."""
        with duckdb.connect() as con:
            frame = con.execute(
                f"SELECT * EXCLUDE ({BATCH_COLUMN}) FROM read_parquet($path) WHERE {BATCH_COLUMN} = $index "
                "ORDER BY customer_id", {"path": str(self.path), "index": index},
            ).df()
        return fix_feature_dtypes(frame)

    def columns(self, names: list[str]) -> pd.DataFrame:
        """Return a few columns of every customer (for the portfolio-wide steps), in customer order.

        Customer order, as in the whole-book scorer, keeps sums over the book equal to the last bit.
        """
        selected = ", ".join(names)
        with duckdb.connect() as con:
            return con.execute(f"SELECT {selected} FROM read_parquet($path) ORDER BY customer_id",
                               {"path": str(self.path)}).df()


def write_feature_batches(con: duckdb.DuckDBPyConnection, as_of: dt.date, path: Path, *,
                          max_statement_age_months: int, recent_months: int, batch_size: int) -> FeatureBatches:
    """Build the features of ``as_of`` with their recent-behaviour columns and write them in batches.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Connection with the clean table views (see
        :func:`creditlimit.features.tables.connect_tables`).
    path : pathlib.Path
        Parquet file to write; a temporary file of the run.
    max_statement_age_months : int
        As in :func:`creditlimit.features.snapshots.build_features`.
    recent_months : int
        Window of :func:`creditlimit.features.recent_behaviour.recent_behaviour`.
    batch_size : int
        Customers per batch; whole groups stay together.

    Returns
    -------
    FeatureBatches
    """
    started = time.perf_counter()
    snapshots.create_feature_table(con, as_of, max_statement_age_months=max_statement_age_months)
    recent = recent_behaviour(con, as_of, months=recent_months)
    keys = con.execute("SELECT customer_id, group_id FROM _features").df()
    batches = pd.DataFrame({"customer_id": keys["customer_id"].astype(str),
                            BATCH_COLUMN: assign_batches(keys["customer_id"], keys["group_id"], batch_size)})
    con.register("_recent", recent)
    con.register("_batches", batches)
    recent_columns = ", ".join(f"r.{name}" for name in RECENT_COLUMNS[1:])
    con.execute(
        f"COPY (SELECT f.*, {recent_columns}, b.{BATCH_COLUMN} FROM _features f "
        "LEFT JOIN _recent r ON r.customer_id = f.customer_id "
        "JOIN _batches b ON b.customer_id = f.customer_id "
        f"ORDER BY b.{BATCH_COLUMN}, f.customer_id) TO '{_sql_path(path)}' (FORMAT parquet, COMPRESSION zstd)"
    )
    for name in ("_recent", "_batches"):
        con.unregister(name)
    con.execute("DROP TABLE _features")
    count = int(batches[BATCH_COLUMN].max()) + 1 if len(batches) else 0
    logger.info("features of %d customers in %d batches written in %.2f s", len(batches), count,
                time.perf_counter() - started)
    return FeatureBatches(path=Path(path), count=count, customers=len(batches))


def assign_batches(customer_ids: pd.Series, group_ids: pd.Series, batch_size: int) -> np.ndarray:
    """Number each customer's batch; members of one group always share a batch.

    Units are ordered by their smallest customer id. A unit starts a new batch when
    the customers before it fill whole batches of ``batch_size``; batch numbers are
    consecutive from 0.
    """
    ids = pd.Series(customer_ids, dtype=object).astype(str).reset_index(drop=True)
    groups = pd.Series(group_ids, dtype=object).reset_index(drop=True)
    # A group id that is present, even empty, makes a group (as in creditlimit.serving.groups).
    units = ("g:" + groups.astype(str)).where(groups.notna(), "c:" + ids)
    frame = pd.DataFrame({"customer_id": ids, "unit": units})
    per_unit = frame.groupby("unit", sort=False)["customer_id"].agg(["min", "size"])
    per_unit = per_unit.sort_values(["min"], kind="mergesort")
    offsets = per_unit["size"].cumsum().to_numpy() - per_unit["size"].to_numpy()
    # A group larger than a batch makes batch numbers jump; renumber them densely.
    _, dense = np.unique(offsets // batch_size, return_inverse=True)
    unit_batch = pd.Series(dense, index=per_unit.index)
    return frame["unit"].map(unit_batch).to_numpy(dtype=np.int64)


def fix_feature_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Give a feature frame with recent-behaviour columns the dtypes of the scorer's input.

    The feature columns get :func:`creditlimit.features.snapshots.fix_dtypes`; the
    recent-behaviour columns present are float64 after them.
    """
    fixed = snapshots.fix_dtypes(frame)
    for column in RECENT_COLUMNS[1:]:
        if column in frame.columns:
            fixed[column] = pd.to_numeric(frame[column].to_numpy()).astype("float64")
    return fixed


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")
