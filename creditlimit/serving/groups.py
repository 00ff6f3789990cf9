"""Group limits: the sum of the limits of one ``group_id`` never exceeds the group cap.

The group cap is the lower of ``group_capacity_multiple`` × the members' combined
capacity and ``group_max_limit`` (either may be off). A member without a usable
statement has no capacity of its own and counts with ``thin_file_max_limit``, the
most the policy grants it.

Allocation rule, applied after the adjustment rules to the limits in force from
``effective_on``: when a group's limits add up to more than its cap, locked limits
keep their value and the other members absorb the cut. Their limits are scaled
down in proportion, by (cap − locked total) / (unlocked total), and rounded down
to ``rounding_unit``. A scaled limit below ``min_limit`` becomes 0, because the
policy grants no limit under its floor. The group cap outranks the step-down cap.
The only case in which a group stays over its cap is when its locked limits alone
exceed it: the other members then get 0 and the excess remains (the flag
``group_over_cap`` reports it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlimit.serving.policy_params import PolicyParams

__all__ = ["group_caps", "allocate_group_caps", "group_totals"]


def group_caps(
    group_ids: np.ndarray, capacity: np.ndarray, thin_file: np.ndarray, policy: PolicyParams
) -> tuple[np.ndarray, np.ndarray]:
    """Compute each row's group capacity and group cap (NaN without a group or a cap).

    Returns
    -------
    (combined_capacity, cap) : tuple of numpy.ndarray of shape (n_rows,)
        The members' combined capacity and the group cap, base currency.
    """
    in_group = _in_group(group_ids)
    member_capacity = np.where(thin_file, policy.thin_file_max_limit, capacity)
    combined = _group_sum(group_ids, member_capacity, in_group)
    cap = np.full(len(group_ids), np.inf)
    if policy.group_capacity_multiple is not None:
        cap = np.minimum(cap, policy.group_capacity_multiple * combined)
    if policy.group_max_limit is not None:
        cap = np.minimum(cap, policy.group_max_limit)
    cap = np.where(in_group & policy.groups_capped, cap, np.nan)
    return np.where(in_group, combined, np.nan), cap


def allocate_group_caps(
    group_ids: np.ndarray,
    limits: np.ndarray,
    locked: np.ndarray,
    caps: np.ndarray,
    policy: PolicyParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the unlocked limits of every group over its cap, by the allocation rule.

    Parameters
    ----------
    group_ids : numpy.ndarray of object
        Group of each row; None or NaN for a customer outside any group.
    limits : numpy.ndarray of float
        Limit of each row before the group cap (not missing), base currency.
    locked : numpy.ndarray of bool
        Locked rows keep their limit.
    caps : numpy.ndarray of float
        Group cap of each row (NaN when the row is not capped).

    Returns
    -------
    (allocated, cut) : tuple of numpy.ndarray
        The limits after the group cap, and a mask of the rows the cap reduced.
    """
    capped = ~np.isnan(caps)
    locked_total = _group_sum(group_ids, np.where(locked, limits, 0.0), capped)
    unlocked_total = _group_sum(group_ids, np.where(locked, 0.0, limits), capped)
    with np.errstate(divide="ignore", invalid="ignore"):
        budget = np.maximum(caps - locked_total, 0.0)
        # A tolerance of a thousandth of a currency unit keeps float sums exactly at the cap uncut.
        over = capped & (locked_total + unlocked_total > caps + 1e-3) & (unlocked_total > 0)
        share = np.where(over, budget / unlocked_total, 1.0)
    scaled = np.floor(limits * share / policy.rounding_unit + 1e-9) * policy.rounding_unit
    scaled = np.where(scaled < policy.min_limit, 0.0, scaled)
    allocated = np.where(over & ~locked, np.minimum(scaled, limits), limits)
    return allocated, allocated < limits


def group_totals(group_ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum ``values`` over each row's group (NaN outside a group; missing values skipped)."""
    return _group_sum(group_ids, values, _in_group(group_ids))


def _in_group(group_ids: np.ndarray) -> np.ndarray:
    return pd.notna(pd.Series(group_ids, dtype=object)).to_numpy(dtype=bool)


def _group_sum(group_ids: np.ndarray, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Sum ``values`` over the masked rows of each group, broadcast back to those rows.

    Missing values are skipped; a group whose values are all missing sums to NaN.
    """
    result = np.full(len(group_ids), np.nan)
    if not mask.any():
        return result
    keys = pd.Series(group_ids[mask], dtype=object).astype(str).to_numpy()
    _, member_of = np.unique(keys, return_inverse=True)
    masked = np.asarray(values, dtype=float)[mask]
    known = ~np.isnan(masked)
    sums = np.bincount(member_of, weights=np.where(known, masked, 0.0))
    counts = np.bincount(member_of, weights=known.astype(float))
    result[mask] = np.where(counts > 0, sums, np.nan)[member_of]
    return result
