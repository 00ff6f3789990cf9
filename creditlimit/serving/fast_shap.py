"""Exact TreeSHAP for a LightGBM booster from per-tree tables of precomputed contributions.

:class:`FastTreeShap` is built once per model. It returns the values of
``booster.predict(X, pred_contrib=True)`` within floating-point rounding: path-dependent
TreeSHAP on the raw margin (log-odds for a binary model), which
``shap.TreeExplainer(booster).shap_values`` also returns. On small trees it is
much faster: ``benchmarks/RESULTS.md`` records the measured rows/s.

How it works
------------
The TreeSHAP value of a leaf depends on a row only through which split conditions
on the leaf's path the row satisfies. For each distinct feature ``j`` on the path,
the row either follows every split on ``j`` towards the leaf (``o_j = 1``) or not
(``o_j = 0``). With ``z_j`` the product of the training-data fractions
(``child count / parent count``) of those splits and ``d`` the number of distinct
path features, the leaf with output ``v`` adds to feature ``i``

    phi_i = v * (o_i - z_i) * sum_k w(k, d) * e_k,   w(k, d) = k! (d - 1 - k)! / d!

where ``e_k`` is the coefficient of ``t**k`` in ``prod_{j != i} (z_j + o_j * t)``.
So a whole subtree's contributions are a function of the left/right decisions of
its internal nodes. Building the explainer enumerates every pattern of decisions of
a *block* (a subtree of at most ``max_table_bits`` internal nodes, counting the
nodes above it) and stores the contributions in a table. Explaining a row then
evaluates each block's nodes, forms the pattern number and adds one table row.
This follows the precomputation idea of Fast TreeSHAP v2 (J. Yang, "Fast
TreeSHAP: Accelerating SHAP Value Computation for Trees", arXiv:2109.09847),
here over node decisions.
A leaf deeper than ``max_table_bits`` is evaluated per row with the formula
above, which is slower but exact.

Decisions replicate LightGBM 4 (``Tree::NumericalDecision`` and
``Tree::CategoricalDecision``). Values with ``|x| <= 1e-35`` count as 0, as in
LightGBM's row reader. Missing type NaN sends NaN the default way, missing
type Zero sends zero and NaN the default way, missing type None treats NaN as 0,
and a categorical split sends NaN and negative values right and looks the
truncated category up in the split's bitset. The base value of a tree is the
mean of its leaf outputs weighted by training row counts, as in
``Tree::ExpectedValue``.

Memory: the tables and node arrays take ``table_nbytes`` bytes (about 0.3 MiB for
77 trees of 7 leaves on 26 features, 1.5 MiB for 400 such trees). A batch of
``n`` rows needs three ``n x n_features`` float64 arrays: a transposed copy of the
input, the transposed contributions and the returned copy. The kernels in
:mod:`creditlimit.serving.fast_shap_kernels` are compiled with Numba on first use
and cached on disk. Compiling took 34 s on a loaded 2-core machine, and loading
the cached kernels about 1 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from creditlimit.errors import ModelError
from creditlimit.i18n import register
from creditlimit.serving.fast_shap_kernels import CATEGORICAL, explain_rows, fill_tables

__all__ = ["DEFAULT_MAX_TABLE_BITS", "FastTreeShap"]

# 2**10 patterns per table: at most 8 KiB per table column.
DEFAULT_MAX_TABLE_BITS = 10
_MAX_TABLE_BITS_LIMIT = 20


register({
    "model.fast_shap.multiclass": {
        "en": (
            "Fast exact SHAP explains single-output models only; this booster has {count} "
            "trees per iteration (multiclass). Use booster.predict(X, pred_contrib=True)."
        ),
        "zh_CN": "快速精确 SHAP 仅支持单输出模型；该模型每轮有 {count} 棵树（多分类）。请改用 booster.predict(X, pred_contrib=True)。",
    },
    "model.fast_shap.linear_tree": {
        "en": (
            "Fast exact SHAP cannot explain linear trees (linear_tree=true) because their "
            "leaves are linear models. Use booster.predict(X, pred_contrib=True)."
        ),
        "zh_CN": "快速精确 SHAP 无法解释线性树（linear_tree=true），因为其叶子是线性模型。请改用 booster.predict(X, pred_contrib=True)。",
    },
    "model.fast_shap.bad_matrix": {
        "en": "Feature matrix must have shape (n_rows, {expected}) in the booster's feature order; got shape {shape}.",
        "zh_CN": "特征矩阵的形状必须是 (行数, {expected}) 且按模型特征顺序排列；实际形状为 {shape}。",
    },
    "model.fast_shap.max_table_bits": {
        "en": "max_table_bits must be an integer in [1, {limit}]; got {value!r}.",
        "zh_CN": "max_table_bits 必须是 [1, {limit}] 区间内的整数；实际为 {value!r}。",
    },
})


@dataclass(frozen=True)
class _Tree:
    """One tree of the model text, with LightGBM's node numbering (leaf ``i`` is ``~i``)."""

    split_feature: np.ndarray
    threshold: np.ndarray
    decision_type: np.ndarray
    left_child: np.ndarray
    right_child: np.ndarray
    leaf_value: np.ndarray
    leaf_count: np.ndarray
    internal_count: np.ndarray
    cat_boundaries: np.ndarray
    cat_threshold: np.ndarray

    @property
    def num_leaves(self) -> int:
        return len(self.leaf_value)

    def expected_value(self) -> float:
        """Mean leaf output weighted by training row counts, summed in LightGBM's order."""
        if self.num_leaves == 1:
            return float(self.leaf_value[0])
        total = float(self.internal_count[0])
        value = 0.0
        for count, output in zip(self.leaf_count, self.leaf_value):
            value += (float(count) / total) * float(output)
        return value

    def count(self, node: int) -> float:
        return float(self.leaf_count[~node] if node < 0 else self.internal_count[node])


class FastTreeShap:
    """Exact TreeSHAP explainer compiled once from a LightGBM booster.

    Parameters
    ----------
    booster : lightgbm.Booster
        Single-output model (binary or regression) without linear trees. The trees
        that ``booster.predict`` uses by default are explained: the best iteration
        when the booster has one, else all.
    max_table_bits : int, default 10
        Maximum number of node decisions indexing one table, in [1, 20]. Each table
        has ``2**bits`` rows, so memory grows with it; deeper leaves are computed
        per row instead.

    Attributes
    ----------
    n_features : int
        Number of columns the booster expects, bias excluded.
    base_value : float
        Expected raw margin over the training data (log-odds for a binary model).
    n_trees : int
        Number of trees explained.
    table_nbytes : int
        Memory of the precomputed tables and the node arrays, in bytes.

    Notes
    -----
    :meth:`explain` splits the rows over Numba's threads (``numba.set_num_threads``
    sets how many).

    NOTE: on Linux Numba picks its OpenMP threading layer when no TBB is installed
    (as here), and GNU OpenMP is not fork-safe: Numba's documentation says a forked
    child that runs a parallel kernel is terminated with an error. A process that
    forks after explaining should start its children with ``spawn``, or set
    ``NUMBA_THREADING_LAYER=forksafe`` before the first explanation.

    Examples
    --------
    >>> explainer = FastTreeShap(booster)              # doctest: +SKIP
    >>> contributions, base_value = explainer.explain(X)  # doctest: +SKIP
    """

    def __init__(self, booster, *, max_table_bits: int = DEFAULT_MAX_TABLE_BITS) -> None:
        valid = isinstance(max_table_bits, int) and not isinstance(max_table_bits, bool)
        if not valid or not 1 <= max_table_bits <= _MAX_TABLE_BITS_LIMIT:
            raise ModelError(
                "model.fast_shap.max_table_bits", limit=_MAX_TABLE_BITS_LIMIT, value=max_table_bits
            )
        n_features, trees = _parse_model_text(booster.model_to_string())
        self.n_features = n_features
        self.base_value = float(sum(tree.expected_value() for tree in trees))
        self.n_trees = len(trees)
        self._plan = _compile(trees, max_table_bits=max_table_bits)
        self.table_nbytes = int(sum(array.nbytes for array in self._plan.arrays()))

    def explain(self, X: np.ndarray) -> tuple[np.ndarray, float]:
        """Compute the SHAP values of every row.

        Parameters
        ----------
        X : array-like of shape (n_rows, n_features)
            Features in the booster's column order, missing values as NaN and
            categoricals as their integer codes, as passed to ``booster.predict``.

        Returns
        -------
        contributions : numpy.ndarray of float64, shape (n_rows, n_features)
            Contribution of each feature to the raw margin (log-odds for a binary model).
        base_value : float
            Expected raw margin; ``contributions.sum(axis=1) + base_value`` equals the
            raw margin of each row.

        Raises
        ------
        ModelError
            If ``X`` does not have ``n_features`` columns.
        """
        # A transposed copy keeps each feature's values contiguous for the kernel.
        features = np.ascontiguousarray(self._check_matrix(X).T)
        contributions = np.zeros((self.n_features, features.shape[1]), dtype=np.float64)
        explain_rows(features, contributions, *self._plan.arrays())
        return np.ascontiguousarray(contributions.T), self.base_value

    def pred_contrib(self, X: np.ndarray) -> np.ndarray:
        """Return ``booster.predict(X, pred_contrib=True)``'s layout: contributions, then the bias column."""
        contributions, base_value = self.explain(X)
        bias = np.full((contributions.shape[0], 1), base_value)
        return np.hstack([contributions, bias])

    def contributions(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split each raw margin into per-feature contributions and a bias.

        Same contract as :meth:`creditlimit.models.pyfunc.CreditPDModel.contributions`.

        Returns
        -------
        contrib : numpy.ndarray of float64, shape (n_rows, n_features)
            Contribution of each feature in log-odds, columns in the booster's order.
        bias : numpy.ndarray of float64, shape (n_rows,)
            Expected raw margin over the training data, in log-odds, the same for
            every row.
        """
        contributions, base_value = self.explain(X)
        return contributions, np.full(contributions.shape[0], base_value)

    def _check_matrix(self, X: np.ndarray) -> np.ndarray:
        matrix = np.asarray(X, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != self.n_features:
            raise ModelError(
                "model.fast_shap.bad_matrix", expected=self.n_features, shape=np.shape(X)
            )
        return matrix


# Model text parsing.


def _parse_model_text(text: str) -> tuple[int, list[_Tree]]:
    """Read the feature count and the trees from LightGBM's model text."""
    header: dict[str, str] = {}
    blocks: list[dict[str, str]] = []
    current = header
    for line in text.splitlines():
        if line.startswith("end of trees"):
            break
        if line.startswith("Tree="):
            current = {}
            blocks.append(current)
            continue
        key, separator, value = line.partition("=")
        if separator:
            current[key] = value
    if int(header.get("num_tree_per_iteration", "1")) != 1:
        raise ModelError("model.fast_shap.multiclass", count=header["num_tree_per_iteration"])
    return int(header["max_feature_idx"]) + 1, [_parse_tree(block) for block in blocks]


def _parse_tree(fields: dict[str, str]) -> _Tree:
    if fields.get("is_linear", "0") != "0":
        raise ModelError("model.fast_shap.linear_tree")

    def numbers(key: str, dtype: type) -> np.ndarray:
        text = fields.get(key, "").strip()
        return np.array(text.split(), dtype=np.float64).astype(dtype) if text else np.zeros(0, dtype)

    return _Tree(
        split_feature=numbers("split_feature", np.int64),
        threshold=numbers("threshold", np.float64),
        decision_type=numbers("decision_type", np.int64),
        left_child=numbers("left_child", np.int64),
        right_child=numbers("right_child", np.int64),
        leaf_value=numbers("leaf_value", np.float64),
        leaf_count=numbers("leaf_count", np.int64),
        internal_count=numbers("internal_count", np.int64),
        cat_boundaries=numbers("cat_boundaries", np.int64),
        cat_threshold=numbers("cat_threshold", np.int64),
    )


# Compilation: nodes, leaves and blocks as flat arrays for the kernels.


@dataclass
class _Plan:
    """Flat arrays that the kernels read, in the kernels' argument order."""

    node_feature: np.ndarray
    node_kind: np.ndarray
    node_threshold: np.ndarray
    node_default_left: np.ndarray
    node_cat_start: np.ndarray
    node_cat_size: np.ndarray
    cat_bits: np.ndarray
    block_node_start: np.ndarray
    block_n_bits: np.ndarray
    block_nodes: np.ndarray
    block_table_start: np.ndarray
    block_col_start: np.ndarray
    block_n_cols: np.ndarray
    block_col_feature: np.ndarray
    table: np.ndarray
    leaf_value: np.ndarray
    leaf_unique_start: np.ndarray
    leaf_n_unique: np.ndarray
    unique_feature: np.ndarray
    unique_zero_fraction: np.ndarray
    leaf_cond_start: np.ndarray
    leaf_n_cond: np.ndarray
    cond_node: np.ndarray
    cond_left: np.ndarray
    cond_slot: np.ndarray
    deep_leaves: np.ndarray

    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, name) for name in self.__dataclass_fields__)


class _Builder:
    """Collect nodes, leaves and blocks of every tree into growing lists."""

    def __init__(self, max_table_bits: int) -> None:
        self.max_table_bits = max_table_bits
        self.nodes: dict[str, list] = {key: [] for key in (
            "feature", "kind", "threshold", "default_left", "cat_start", "cat_size")}
        self.cat_bits: list[int] = []
        self.leaves: dict[str, list] = {key: [] for key in (
            "value", "unique_start", "n_unique", "cond_start", "n_cond")}
        self.unique: dict[str, list] = {"feature": [], "zero_fraction": [], "column": []}
        self.conds: dict[str, list] = {"node": [], "left": [], "slot": []}
        self.blocks: list[tuple[list[int], list[int]]] = []
        self.deep_leaves: list[int] = []

    def add_tree(self, tree: _Tree) -> None:
        if tree.num_leaves == 1:
            return  # a single leaf only adds its output to the base value
        node_base = len(self.nodes["feature"])
        leaf_base = len(self.leaves["value"])
        self._add_nodes(tree)
        for path in _leaf_paths(tree):
            self._add_leaf(tree, path, node_base)
        for nodes, leaves in _partition(tree, self.max_table_bits):
            global_leaves = [leaf_base + leaf for leaf in leaves]
            if nodes is None:
                self.deep_leaves.extend(global_leaves)
            else:
                self.blocks.append(([node_base + node for node in nodes], global_leaves))

    def _add_nodes(self, tree: _Tree) -> None:
        for node, decision in enumerate(tree.decision_type):
            categorical = bool(decision & 1)
            self.nodes["feature"].append(int(tree.split_feature[node]))
            self.nodes["kind"].append(CATEGORICAL if categorical else int((decision >> 2) & 3))
            self.nodes["threshold"].append(float(tree.threshold[node]))
            self.nodes["default_left"].append(int((decision >> 1) & 1))
            if categorical:
                cat_index = int(tree.threshold[node])
                first, last = tree.cat_boundaries[cat_index], tree.cat_boundaries[cat_index + 1]
                self.nodes["cat_start"].append(len(self.cat_bits))
                self.nodes["cat_size"].append(int(last - first))
                self.cat_bits.extend(int(word) for word in tree.cat_threshold[first:last])
            else:
                self.nodes["cat_start"].append(0)
                self.nodes["cat_size"].append(0)

    def _add_leaf(self, tree: _Tree, path: list[tuple[int, int, bool]], node_base: int) -> None:
        # Distinct path features in order of first use, each with the product of
        # the training-count fractions of its splits (TreeSHAP's zero fraction).
        slots: dict[int, int] = {}
        zero_fractions: list[float] = []
        for node, child, went_left in path:
            feature = int(tree.split_feature[node])
            fraction = tree.count(child) / tree.count(node)
            if feature in slots:
                zero_fractions[slots[feature]] *= fraction
            else:
                slots[feature] = len(zero_fractions)
                zero_fractions.append(fraction)
            self.conds["node"].append(node_base + node)
            self.conds["left"].append(int(went_left))
            self.conds["slot"].append(slots[feature])
        self.leaves["value"].append(float(tree.leaf_value[~path[-1][1]]))
        self.leaves["unique_start"].append(len(self.unique["feature"]))
        self.leaves["n_unique"].append(len(slots))
        self.leaves["cond_start"].append(len(self.conds["node"]) - len(path))
        self.leaves["n_cond"].append(len(path))
        self.unique["feature"].extend(slots)
        self.unique["zero_fraction"].extend(zero_fractions)
        self.unique["column"].extend([-1] * len(slots))

    def plan(self) -> tuple[_Plan, dict[str, np.ndarray]]:
        """Return the kernel arrays (tables still zero) and the arrays that fill the tables."""
        blocks, block_leaves = self._block_arrays()
        plan = _Plan(
            node_feature=_int_array(self.nodes["feature"]),
            node_kind=_int_array(self.nodes["kind"]),
            node_threshold=np.asarray(self.nodes["threshold"], dtype=np.float64),
            node_default_left=_int_array(self.nodes["default_left"]),
            node_cat_start=_int_array(self.nodes["cat_start"]),
            node_cat_size=_int_array(self.nodes["cat_size"]),
            cat_bits=_int_array(self.cat_bits),
            **blocks,
            leaf_value=np.asarray(self.leaves["value"], dtype=np.float64),
            leaf_unique_start=_int_array(self.leaves["unique_start"]),
            leaf_n_unique=_int_array(self.leaves["n_unique"]),
            unique_feature=_int_array(self.unique["feature"]),
            unique_zero_fraction=np.asarray(self.unique["zero_fraction"], dtype=np.float64),
            leaf_cond_start=_int_array(self.leaves["cond_start"]),
            leaf_n_cond=_int_array(self.leaves["n_cond"]),
            cond_node=_int_array(self.conds["node"]),
            cond_left=_int_array(self.conds["left"]),
            cond_slot=_int_array(self.conds["slot"]),
            deep_leaves=_int_array(self.deep_leaves),
        )
        return plan, block_leaves

    def _block_arrays(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Lay the blocks out and give each leaf feature its column in its block's table."""
        layout: dict[str, list[int]] = {key: [] for key in (
            "block_node_start", "block_n_bits", "block_nodes", "block_table_start",
            "block_col_start", "block_n_cols", "block_col_feature")}
        leaves: dict[str, list[int]] = {"block_leaf_start": [], "block_n_leaves": [], "block_leaves": []}
        table_size = 0
        for block_nodes, block_leaves in self.blocks:
            columns = sorted({feature for leaf in block_leaves for feature in self._leaf_features(leaf)})
            column_of = {feature: index for index, feature in enumerate(columns)}
            for leaf in block_leaves:
                start = self.leaves["unique_start"][leaf]
                for offset, feature in enumerate(self._leaf_features(leaf)):
                    self.unique["column"][start + offset] = column_of[feature]
            layout["block_node_start"].append(len(layout["block_nodes"]))
            layout["block_n_bits"].append(len(block_nodes))
            layout["block_nodes"].extend(block_nodes)
            layout["block_table_start"].append(table_size)
            layout["block_col_start"].append(len(layout["block_col_feature"]))
            layout["block_n_cols"].append(len(columns))
            layout["block_col_feature"].extend(columns)
            leaves["block_leaf_start"].append(len(leaves["block_leaves"]))
            leaves["block_n_leaves"].append(len(block_leaves))
            leaves["block_leaves"].extend(block_leaves)
            table_size += (1 << len(block_nodes)) * len(columns)
        arrays = {key: _int_array(values) for key, values in layout.items()}
        arrays["table"] = np.zeros(table_size, dtype=np.float64)
        build = {key: _int_array(values) for key, values in leaves.items()}
        build["unique_column"] = _int_array(self.unique["column"])
        return arrays, build

    def _leaf_features(self, leaf: int) -> list[int]:
        start = self.leaves["unique_start"][leaf]
        return self.unique["feature"][start:start + self.leaves["n_unique"][leaf]]


def _int_array(values: list[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.int64)


def _leaf_paths(tree: _Tree) -> list[list[tuple[int, int, bool]]]:
    """List, for each leaf, the (node, child, went_left) steps from the root."""
    paths: list[list[tuple[int, int, bool]]] = [[] for _ in range(tree.num_leaves)]
    stack: list[tuple[int, list[tuple[int, int, bool]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        for child, went_left in ((int(tree.left_child[node]), True), (int(tree.right_child[node]), False)):
            steps = [*path, (node, child, went_left)]
            if child < 0:
                paths[~child] = steps
            else:
                stack.append((child, steps))
    return paths


def _partition(tree: _Tree, max_bits: int) -> list[tuple[list[int] | None, list[int]]]:
    """Split a tree into blocks of (nodes, leaves) with at most ``max_bits`` nodes each.

    A block is a subtree together with the nodes above it, because those decide
    whether a row reaches the subtree. A leaf deeper than ``max_bits`` gets
    ``None`` for nodes: it is computed per row.
    """
    subtree_nodes, subtree_leaves = _subtrees(tree)
    blocks: list[tuple[list[int] | None, list[int]]] = []
    stack: list[tuple[int, list[int]]] = [(0, [])]
    while stack:
        node, ancestors = stack.pop()
        if node < 0:
            fits = len(ancestors) <= max_bits
            blocks.append((ancestors if fits else None, [~node]))
        elif len(ancestors) + len(subtree_nodes[node]) <= max_bits:
            blocks.append((ancestors + subtree_nodes[node], subtree_leaves[node]))
        else:
            below = [*ancestors, node]
            stack.append((int(tree.right_child[node]), below))
            stack.append((int(tree.left_child[node]), below))
    return blocks


def _subtrees(tree: _Tree) -> tuple[list[list[int]], list[list[int]]]:
    """List the internal nodes and the leaves below each internal node (itself included)."""
    n_internal = len(tree.left_child)
    nodes: list[list[int]] = [[] for _ in range(n_internal)]
    leaves: list[list[int]] = [[] for _ in range(n_internal)]
    preorder, stack = [], [0]
    while stack:
        node = stack.pop()
        preorder.append(node)
        stack.extend(child for child in (tree.left_child[node], tree.right_child[node]) if child >= 0)
    # Reverse preorder visits every child before its parent.
    for node in reversed(preorder):
        nodes[node].append(node)
        for child in (int(tree.left_child[node]), int(tree.right_child[node])):
            if child < 0:
                leaves[node].append(~child)
            else:
                nodes[node].extend(nodes[child])
                leaves[node].extend(leaves[child])
    return nodes, leaves


def _compile(trees: list[_Tree], *, max_table_bits: int) -> _Plan:
    """Flatten the trees into kernel arrays and fill the contribution tables."""
    builder = _Builder(max_table_bits)
    for tree in trees:
        builder.add_tree(tree)
    plan, build = builder.plan()
    fill_tables(
        plan.table, plan.block_node_start, plan.block_n_bits, plan.block_nodes,
        plan.block_table_start, plan.block_n_cols, build["block_leaf_start"],
        build["block_n_leaves"], build["block_leaves"], plan.leaf_value, plan.leaf_unique_start,
        plan.leaf_n_unique, plan.unique_zero_fraction, build["unique_column"],
        plan.leaf_cond_start, plan.leaf_n_cond, plan.cond_node, plan.cond_left, plan.cond_slot,
        len(plan.node_feature),
    )
    return plan
