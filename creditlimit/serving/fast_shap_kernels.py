"""Numba kernels of exact TreeSHAP: LightGBM's split decisions, leaf contributions, tables.

:mod:`creditlimit.serving.fast_shap` flattens a booster into the arrays these
kernels read, and the kernels hold no state. They compile on first use and are cached
on disk (``cache=True``), so later processes skip the compilation.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["CATEGORICAL", "MISSING_NAN", "MISSING_NONE", "MISSING_ZERO", "explain_rows", "fill_tables"]

# Node kinds: the missing type of a numerical split (LightGBM's decision_type
# bits 2-3), or a categorical split.
MISSING_NONE, MISSING_ZERO, MISSING_NAN, CATEGORICAL = 0, 1, 2, 3
# LightGBM's kZeroThreshold is the float literal 1e-35f, compared as a double.
ZERO_THRESHOLD = float(np.float32(1e-35))
# static_cast<int> of a value at or above 2**31 gives INT_MIN on x86, a negative category.
INT_LIMIT = 2.0**31

_ROWS_PER_TASK = 512


@numba.njit(cache=True, nogil=True, inline="always")
def _goes_left(value, node, node_kind, node_threshold, node_default_left, node_cat_start,
               node_cat_size, cat_bits):
    """Replicate LightGBM's decision at ``node`` for a feature value: True when it goes left."""
    # LightGBM's predictor keeps a dense row's entries with |value| above
    # kZeroThreshold (or NaN), so smaller values reach the trees as exactly 0.
    if -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
        value = 0.0
    kind = node_kind[node]
    if kind == CATEGORICAL:
        # NaN, negative codes and codes beyond int range go right. (-1, 0) truncates to 0.
        if np.isnan(value) or value <= -1.0 or value >= INT_LIMIT:
            return False
        category = np.int64(value)
        word = category >> 5
        if word >= node_cat_size[node]:
            return False
        return (cat_bits[node_cat_start[node] + word] >> (category & 31)) & 1 == 1
    if np.isnan(value):
        if kind == MISSING_NAN:
            return node_default_left[node] == 1
        value = 0.0
    if kind == MISSING_ZERO and -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
        return node_default_left[node] == 1
    return value <= node_threshold[node]


@numba.njit(cache=True, nogil=True)
def _leaf_shap(value, ones, zeros, n_unique, poly, phi):
    """Write the leaf's contribution to each of its ``n_unique`` path features into ``phi``."""
    for i in range(n_unique):
        # Coefficients of prod_{j != i} (zeros[j] + ones[j] * t), lowest degree first.
        poly[0] = 1.0
        degree = 0
        for j in range(n_unique):
            if j == i:
                continue
            degree += 1
            poly[degree] = 0.0
            for k in range(degree, 0, -1):
                poly[k] = poly[k] * zeros[j] + poly[k - 1] * ones[j]
            poly[0] *= zeros[j]
        # Shapley weight of a coalition of k features out of n_unique: k!(n-1-k)!/n!.
        weight = 1.0 / n_unique
        total = 0.0
        for k in range(n_unique):
            total += poly[k] * weight
            weight *= (k + 1.0) / (n_unique - 1.0 - k) if k + 1 < n_unique else 0.0
        phi[i] = value * (ones[i] - zeros[i]) * total


@numba.njit(cache=True, nogil=True)
def fill_tables(table, block_node_start, block_n_bits, block_nodes, block_table_start,
                 block_n_cols, block_leaf_start, block_n_leaves, block_leaves, leaf_value,
                 leaf_unique_start, leaf_n_unique, unique_zero_fraction, unique_column,
                 leaf_cond_start, leaf_n_cond, cond_node, cond_left, cond_slot, n_nodes):
    """Sum, for every block and decision pattern, the contributions of the block's leaves."""
    node_bit = np.zeros(n_nodes, dtype=np.int64)
    size = max(1, leaf_n_unique.max()) + 1 if leaf_n_unique.size else 2
    ones, zeros, poly, phi = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
    for block in range(block_n_bits.size):
        for bit in range(block_n_bits[block]):
            node_bit[block_nodes[block_node_start[block] + bit]] = bit
        for pattern in range(1 << block_n_bits[block]):
            row_start = block_table_start[block] + pattern * block_n_cols[block]
            for position in range(block_n_leaves[block]):
                leaf = block_leaves[block_leaf_start[block] + position]
                n_unique = leaf_n_unique[leaf]
                first = leaf_unique_start[leaf]
                ones[:n_unique] = 1.0
                zeros[:n_unique] = unique_zero_fraction[first:first + n_unique]
                for cond in range(leaf_cond_start[leaf], leaf_cond_start[leaf] + leaf_n_cond[leaf]):
                    went_left = (pattern >> node_bit[cond_node[cond]]) & 1
                    if went_left != cond_left[cond]:
                        ones[cond_slot[cond]] = 0.0
                _leaf_shap(leaf_value[leaf], ones, zeros, n_unique, poly, phi)
                for slot in range(n_unique):
                    table[row_start + unique_column[first + slot]] += phi[slot]


@numba.njit(cache=True, parallel=True)
def explain_rows(features, out, node_feature, node_kind, node_threshold, node_default_left,
                  node_cat_start, node_cat_size, cat_bits, block_node_start, block_n_bits,
                  block_nodes, block_table_start, block_col_start, block_n_cols,
                  block_col_feature, table, leaf_value, leaf_unique_start, leaf_n_unique,
                  unique_feature, unique_zero_fraction, leaf_cond_start, leaf_n_cond, cond_node,
                  cond_left, cond_slot, deep_leaves):
    """Add every block's table row and every deep leaf's contributions into ``out``.

    ``features`` and ``out`` are transposed (one row per feature), so the inner
    loops run over contiguous rows of the batch.
    """
    n_rows = features.shape[1]
    n_tasks = (n_rows + _ROWS_PER_TASK - 1) // _ROWS_PER_TASK
    size = max(1, leaf_n_unique.max()) + 1 if leaf_n_unique.size else 2
    for task in numba.prange(n_tasks):
        first_row = task * _ROWS_PER_TASK
        last_row = min(n_rows, first_row + _ROWS_PER_TASK)
        pattern = np.empty(last_row - first_row, dtype=np.int64)
        # Blocks outside, rows inside: each node's parameters stay in registers.
        for block in range(block_n_bits.size):
            pattern[:] = 0
            start = block_node_start[block]
            for bit in range(block_n_bits[block]):
                _add_decision_bits(
                    features[node_feature[block_nodes[start + bit]], first_row:last_row],
                    block_nodes[start + bit], bit, pattern, node_kind, node_threshold,
                    node_default_left, node_cat_start, node_cat_size, cat_bits,
                )
            n_cols = block_n_cols[block]
            table_start = block_table_start[block]
            for col in range(n_cols):
                target = out[block_col_feature[block_col_start[block] + col], first_row:last_row]
                for r in range(last_row - first_row):
                    target[r] += table[table_start + pattern[r] * n_cols + col]
        ones, zeros, poly, phi = np.empty(size), np.empty(size), np.empty(size), np.empty(size)
        for r in range(first_row, last_row):
            for leaf in deep_leaves:
                n_unique = leaf_n_unique[leaf]
                first = leaf_unique_start[leaf]
                ones[:n_unique] = 1.0
                zeros[:n_unique] = unique_zero_fraction[first:first + n_unique]
                for cond in range(leaf_cond_start[leaf], leaf_cond_start[leaf] + leaf_n_cond[leaf]):
                    node = cond_node[cond]
                    went_left = _goes_left(features[node_feature[node], r], node, node_kind,
                                           node_threshold, node_default_left, node_cat_start,
                                           node_cat_size, cat_bits)
                    if went_left != (cond_left[cond] == 1):
                        ones[cond_slot[cond]] = 0.0
                _leaf_shap(leaf_value[leaf], ones, zeros, n_unique, poly, phi)
                for slot in range(n_unique):
                    out[unique_feature[first + slot], r] += phi[slot]


@numba.njit(cache=True, nogil=True, inline="always")
def _add_decision_bits(values, node, bit, pattern, node_kind, node_threshold, node_default_left,
                       node_cat_start, node_cat_size, cat_bits):
    """Set ``bit`` of ``pattern`` for the values that go left at ``node``."""
    kind = node_kind[node]
    if kind == MISSING_NAN or kind == MISSING_NONE:
        # Branch-free form of goes_left for the common numerical splits: NaN
        # compares False, so it goes left exactly when its substitute does.
        threshold = node_threshold[node]
        nan_left = node_default_left[node] == 1 if kind == MISSING_NAN else 0.0 <= threshold
        for r in range(values.size):
            value = values[r]
            if -ZERO_THRESHOLD <= value <= ZERO_THRESHOLD:
                value = 0.0
            left = (value <= threshold) | (nan_left & (value != value))
            pattern[r] |= np.int64(left) << bit
    else:
        for r in range(values.size):
            if _goes_left(values[r], node, node_kind, node_threshold, node_default_left,
                          node_cat_start, node_cat_size, cat_bits):
                pattern[r] |= 1 << bit
