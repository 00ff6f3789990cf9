"""Bounded hyperparameter search for the LightGBM booster (Optuna, TPE sampler).

The search never uses the out-of-time part: each trial boosts on the training part
with early stopping on validation and is scored by its validation AUC (raw
margin). The best trial's values replace those of ``train.lightgbm`` and the model
is then trained as usual by :func:`~creditlimit.models.training.train_pd_model`.

The search stops after ``n_trials`` trials or ``timeout_seconds``, whichever comes
first. With a seeded TPE sampler and one worker, the same data and params give the
same trials, unless the timeout cuts the search short (a wall-clock limit).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from creditlimit.errors import ParamsError
from creditlimit.i18n import register

if TYPE_CHECKING:
    from creditlimit.models.training import LightGBMParams, TrainParams

__all__ = ["SEARCHABLE", "SearchParams", "SearchResult", "search_hyperparameters"]

logger = logging.getLogger(__name__)

# Searchable train.lightgbm keys: (kind, log scale). Integers are searched on a
# linear scale; the rates and penalties on a log scale.
SEARCHABLE: dict[str, tuple[str, bool]] = {
    "learning_rate": ("float", True),
    "num_leaves": ("int", False),
    "min_child_samples": ("int", False),
    "subsample": ("float", False),
    "colsample_bytree": ("float", False),
    "reg_lambda": ("float", True),
    "reg_alpha": ("float", True),
    "min_split_gain": ("float", False),
}

# Keys whose values are rates or shares in (0, 1].
_SHARES = ("learning_rate", "subsample", "colsample_bytree")

register({
    "model.search.param_invalid": {
        "en": "train.search.{name} must be {rule}; got {value!r}.",
        "zh_CN": "train.search.{name} 必须是{rule_zh}；实际为 {value!r}。",
    },
    "model.search.unknown": {
        "en": "{section}: unknown key(s) {names}. Allowed keys: {allowed}.",
        "zh_CN": "{section}：未知的键 {names}。允许的键：{allowed}。",
    },
    "model.search.missing": {
        "en": "train.search: required parameter '{name}' is missing. Add it to params.yaml.",
        "zh_CN": "train.search：缺少必需参数“{name}”。请在 params.yaml 中添加。",
    },
    "model.search.bad_range": {
        "en": (
            "train.search.space.{name} must be [low, high] with low < high{extra}; "
            "got {value!r}."
        ),
        "zh_CN": "train.search.space.{name} 必须是 [下限, 上限] 且下限小于上限{extra_zh}；实际为 {value!r}。",
    },
})


@dataclass(frozen=True)
class SearchParams:
    """Validated ``train.search`` section.

    Attributes
    ----------
    enabled : bool
        Whether the train stage searches before training.
    n_trials : int
        Maximum number of trials, >= 1.
    timeout_seconds : float
        Wall-clock budget of the whole search in seconds, > 0.
    seed : int
        Seed of the TPE sampler.
    space : Mapping[str, tuple[float, float]]
        ``train.lightgbm`` key to its ``(low, high)`` range, both inclusive; keys
        from :data:`SEARCHABLE`.
    """

    enabled: bool
    n_trials: int
    timeout_seconds: float
    seed: int
    space: Mapping[str, tuple[float, float]]

    @classmethod
    def from_mapping(cls, mapping: object) -> SearchParams:
        """Validate ``train.search``.

        Raises
        ------
        ParamsError
            If a key is missing or unknown, or a value or range breaks its rule.
        """
        keys = ("enabled", "n_trials", "timeout_seconds", "seed", "space")
        _check_keys("train.search", mapping, keys)
        for name in keys:
            if name not in mapping:
                raise ParamsError("model.search.missing", name=name)
        enabled, n_trials, timeout, seed = (mapping[k] for k in keys[:4])
        if not isinstance(enabled, bool):
            raise _invalid("enabled", enabled, "true or false", "true 或 false")
        if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
            raise _invalid("n_trials", n_trials, "an integer >= 1", "大于等于 1 的整数")
        if not _is_number(timeout) or timeout <= 0:
            raise _invalid("timeout_seconds", timeout, "a number of seconds > 0", "大于 0 的秒数")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise _invalid("seed", seed, "an integer >= 0", "大于等于 0 的整数")
        return cls(enabled=enabled, n_trials=n_trials, timeout_seconds=float(timeout),
                   seed=seed, space=_space(mapping["space"]))


@dataclass(frozen=True)
class SearchResult:
    """Outcome of :func:`search_hyperparameters`.

    Attributes
    ----------
    best_params : dict[str, float]
        Searched values of the best trial.
    best_valid_auc : float
        Validation AUC of the best trial.
    lightgbm : LightGBMParams
        ``train.lightgbm`` with the best values filled in.
    trials : pandas.DataFrame
        One row per trial: ``number``, ``state``, ``valid_auc``,
        ``best_iteration``, ``seconds`` and one column per searched key.
    """

    best_params: dict[str, float]
    best_valid_auc: float
    lightgbm: LightGBMParams
    trials: pd.DataFrame


def search_hyperparameters(
    table: pd.DataFrame,
    *,
    params: TrainParams,
    search: SearchParams,
    feature_names: Sequence[str] | None = None,
    categorical_features: Sequence[str] | None = None,
) -> SearchResult:
    """Search ``train.lightgbm`` values by validation AUC, within the trial and time budget.

    Parameters
    ----------
    table : pandas.DataFrame
        Labelled snapshots, as for :func:`~creditlimit.models.training.train_pd_model`.
        Out-of-time rows are split off and never used.
    params : TrainParams
        Training parameters; their split, constraints and seed are kept.
    search : SearchParams
        Budget, seed and ranges.
    feature_names, categorical_features : sequence of str, optional
        Model features (default: the feature catalog).

    Returns
    -------
    SearchResult
    """
    import optuna  # lazy: only needed when the search is enabled

    from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES
    from creditlimit.models.encoding import CategoryEncoder, build_feature_matrix
    from creditlimit.models.metrics import auc
    from creditlimit.models.split import split_by_time
    from creditlimit.models.training import fit_booster

    # Prepare the train and validation rows once; every trial reuses them.
    features = tuple(feature_names or FEATURE_NAMES)
    categoricals = tuple(n for n in features if n in set(categorical_features or CATEGORICAL_FEATURES))
    split = split_by_time(table, valid_months=params.valid_months, oot_months=params.oot_months,
                          gap_months=params.gap_months)
    encoder = CategoryEncoder.fit(table.loc[split.train.mask, list(categoricals)], categoricals)
    matrix, _ = build_feature_matrix(table, feature_names=features, encoder=encoder)
    labels = table["is_bad"].to_numpy(np.float64).astype(np.int64)
    constraints = [int(params.monotone_constraints.get(name, 0)) for name in features]
    valid = split.valid.mask

    def objective(trial: optuna.Trial) -> float:
        started = time.perf_counter()
        lightgbm_params = dataclasses.replace(params.lightgbm, **_suggest(trial, search.space))
        native = lightgbm_params.native(seed=params.seed, monotone_constraints=constraints)
        booster, best_iteration = fit_booster(
            matrix, labels, train_mask=split.train.mask, valid_mask=valid, features=features,
            categoricals=categoricals, native=native, params=lightgbm_params,
        )
        value = auc(labels[valid], booster.predict(matrix[valid], raw_score=True)).value
        trial.set_user_attr("best_iteration", best_iteration)
        trial.set_user_attr("seconds", time.perf_counter() - started)
        # An undefined AUC cannot happen here: the split requires both classes.
        return float(value)

    sampler = optuna.samplers.TPESampler(seed=search.seed)
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=search.n_trials, timeout=search.timeout_seconds, n_jobs=1)

    best = dict(study.best_trial.params)
    logger.info("Search ran %d trials; best validation AUC %.4f with %s",
                len(study.trials), study.best_value, best)
    return SearchResult(
        best_params=best, best_valid_auc=float(study.best_value),
        lightgbm=dataclasses.replace(params.lightgbm, **best), trials=_trials_table(study, search),
    )


def _suggest(trial: object, space: Mapping[str, tuple[float, float]]) -> dict[str, float]:
    values = {}
    for name, (low, high) in space.items():
        kind, log = SEARCHABLE[name]
        if kind == "int":
            values[name] = trial.suggest_int(name, int(low), int(high))
        else:
            values[name] = trial.suggest_float(name, float(low), float(high), log=log)
    return values


def _trials_table(study: object, search: SearchParams) -> pd.DataFrame:
    rows = []
    for trial in study.trials:
        row = {"number": trial.number, "state": trial.state.name, "valid_auc": trial.value,
               "best_iteration": trial.user_attrs.get("best_iteration"),
               "seconds": trial.user_attrs.get("seconds")}
        row.update({name: trial.params.get(name) for name in search.space})
        rows.append(row)
    return pd.DataFrame(rows)


def _space(raw: object) -> dict[str, tuple[float, float]]:
    _check_keys("train.search.space", raw, tuple(SEARCHABLE))
    if not raw:
        raise _invalid("space", raw, "a non-empty mapping of ranges", "非空的取值范围映射")
    space = {}
    for name, bounds in raw.items():
        kind, log = SEARCHABLE[name]
        valid = (isinstance(bounds, Sequence) and not isinstance(bounds, str) and len(bounds) == 2
                 and all(_is_number(v) for v in bounds) and bounds[0] < bounds[1])
        if valid and kind == "int":
            valid = all(isinstance(v, int) for v in bounds) and bounds[0] >= (2 if name == "num_leaves" else 1)
        if valid and log:
            valid = bounds[0] > 0
        if valid and name in _SHARES:
            valid = bounds[0] > 0 and bounds[1] <= 1
        if not valid:
            extra = {"int": ", both whole numbers", "float": ""}[kind] + (", low > 0" if log else "")
            extra_zh = {"int": "，且均为整数", "float": ""}[kind] + ("，且下限大于 0" if log else "")
            if name in _SHARES:
                extra, extra_zh = ", within (0, 1]", "，且位于 (0, 1] 区间内"
            raise ParamsError("model.search.bad_range", name=name, value=bounds,
                              extra=extra, extra_zh=extra_zh)
        space[str(name)] = (bounds[0], bounds[1])
    return space


def _check_keys(section: str, mapping: object, allowed: Sequence[str]) -> None:
    if not isinstance(mapping, Mapping):
        raise ParamsError("model.train.param_not_mapping", section=section, value=mapping)
    unknown = sorted(str(key) for key in mapping if key not in allowed)
    if unknown:
        raise ParamsError("model.search.unknown", section=section, names=", ".join(unknown),
                          allowed=", ".join(allowed))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _invalid(name: str, value: object, rule: str, rule_zh: str) -> ParamsError:
    return ParamsError("model.search.param_invalid", name=name, value=value, rule=rule, rule_zh=rule_zh)
