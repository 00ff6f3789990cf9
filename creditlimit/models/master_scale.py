"""Master scale: PD bands mapped to credit grades 1 (best) to N (worst), and D for defaulted."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from creditlimit.errors import InputDataError, ParamsError
from creditlimit.i18n import register

__all__ = ["DEFAULT_GRADE", "MasterScale"]

DEFAULT_GRADE = "D"

register({
    "model.master_scale.invalid_version": {
        "en": 'policy.scale_version must be a non-empty quoted text such as "MS-2026.1"; got {value!r}.',
        "zh_CN": 'policy.scale_version 必须是非空的带引号文本，例如 "MS-2026.1"；实际为 {value!r}。',
    },
    "model.master_scale.not_a_list": {
        "en": "policy.pd_upper_bounds must be a list of PDs; got {value!r}.",
        "zh_CN": "policy.pd_upper_bounds 必须是 PD 列表；实际为 {value!r}。",
    },
    "model.master_scale.not_a_pd": {
        "en": (
            "policy.pd_upper_bounds[{position}] must be a number in (0, 1]; got {value!r}."
        ),
        "zh_CN": "policy.pd_upper_bounds[{position}] 必须是 (0, 1] 区间内的数值；实际为 {value!r}。",
    },
    "model.master_scale.not_increasing": {
        "en": (
            "policy.pd_upper_bounds must be strictly increasing; position {position} "
            "has {value!r} after {previous!r}."
        ),
        "zh_CN": "policy.pd_upper_bounds 必须严格递增；第 {position} 项为 {value!r}，前一项为 {previous!r}。",
    },
    "model.master_scale.last_not_one": {
        "en": (
            "policy.pd_upper_bounds must end with 1.0 so that every PD gets a grade; "
            "got {value!r} as the last bound."
        ),
        "zh_CN": "policy.pd_upper_bounds 的最后一项必须是 1.0，才能让每个 PD 都有等级；实际最后一项为 {value!r}。",
    },
    "model.master_scale.invalid_pd": {
        "en": (
            "Cannot assign grades: {count} PD values are missing or outside [0, 1] "
            "(first at row {row}: {value}). Score every row before grading."
        ),
        "zh_CN": "无法分配等级：有 {count} 个 PD 缺失或不在 [0, 1] 区间内（第一个在第 {row} 行：{value}）。请先为每一行评分再分级。",
    },
    "model.master_scale.invalid_defaulted": {
        "en": (
            "Cannot assign grades: is_defaulted has {count} missing or non-boolean values "
            "(first at row {row}: {value}). Derive it from the credit events so that "
            "every customer is True or False."
        ),
        "zh_CN": "无法分配等级：is_defaulted 有 {count} 个缺失或非布尔值（第一个在第 {row} 行：{value}）。请根据信用事件生成该列，使每个客户都为 True 或 False。",
    },
    "model.master_scale.length_mismatch": {
        "en": (
            "Cannot assign grades: is_defaulted has {length} values but there are "
            "{expected} PDs."
        ),
        "zh_CN": "无法分配等级：is_defaulted 有 {length} 个值，而 PD 有 {expected} 个。",
    },
})


@dataclass(frozen=True)
class MasterScale:
    """PD bands per grade: grade ``g`` covers PDs in ``(bound[g-2], bound[g-1]]``.

    Attributes
    ----------
    pd_upper_bounds : tuple of float
        Inclusive upper PD bound of grades ``"1"``, ``"2"``, ... in order; strictly
        increasing, the last equal to 1.0. Grade 1 starts at PD 0 (inclusive).
    version : str
        Version of the bands (``policy.scale_version``), recorded with every
        grade; empty when the scale was built from a bare list of bounds.
    """

    pd_upper_bounds: tuple[float, ...]
    version: str = ""

    @classmethod
    def from_mapping(cls, mapping: Mapping | Sequence[float]) -> MasterScale:
        """Validate the PD bounds and build the scale.

        Parameters
        ----------
        mapping : Mapping or sequence of float
            Either the ``policy`` section (its ``pd_upper_bounds`` and
            ``scale_version`` keys are read and other keys are ignored) or the
            ``pd_upper_bounds`` list itself.

        Raises
        ------
        ParamsError
            If a bound is not a number in (0, 1], the bounds are not strictly
            increasing, the last bound is not 1.0, or ``scale_version`` is
            present but not a non-empty text.
        """
        version = mapping.get("scale_version", "") if isinstance(mapping, Mapping) else ""
        if not isinstance(version, str) or (isinstance(mapping, Mapping) and "scale_version" in mapping
                                            and not version.strip()):
            raise ParamsError("model.master_scale.invalid_version", value=version)
        bounds = mapping.get("pd_upper_bounds") if isinstance(mapping, Mapping) else mapping
        if isinstance(bounds, str | bytes) or not isinstance(bounds, Sequence) or not bounds:
            raise ParamsError("model.master_scale.not_a_list", value=bounds)
        checked: list[float] = []
        for position, value in enumerate(bounds):
            valid = isinstance(value, int | float) and not isinstance(value, bool)
            if not valid or not math.isfinite(value) or not 0.0 < value <= 1.0:
                raise ParamsError("model.master_scale.not_a_pd", position=position, value=value)
            if checked and value <= checked[-1]:
                raise ParamsError(
                    "model.master_scale.not_increasing",
                    position=position,
                    value=value,
                    previous=checked[-1],
                )
            checked.append(float(value))
        if checked[-1] != 1.0:
            raise ParamsError("model.master_scale.last_not_one", value=checked[-1])
        return cls(pd_upper_bounds=tuple(checked), version=version)

    @property
    def grades(self) -> tuple[str, ...]:
        """Grade labels from best to worst, without the defaulted grade: ``"1"`` … ``"N"``."""
        return tuple(str(g) for g in range(1, len(self.pd_upper_bounds) + 1))

    @property
    def grade_order(self) -> tuple[str, ...]:
        """Every grade label from best to worst, ending with ``"D"``."""
        return (*self.grades, DEFAULT_GRADE)

    def bands(self) -> pd.DataFrame:
        """Tabulate each grade's PD band.

        Returns
        -------
        pandas.DataFrame
            ``grade``, ``pd_lower`` (exclusive, except 0 for grade 1) and
            ``pd_upper`` (inclusive).
        """
        lower = (0.0, *self.pd_upper_bounds[:-1])
        return pd.DataFrame({
            "grade": list(self.grades),
            "pd_lower": list(lower),
            "pd_upper": list(self.pd_upper_bounds),
        })

    def assign_grades(self, pd_values: object, is_defaulted: object = None) -> np.ndarray:
        """Assign a grade to each PD; defaulted customers get ``"D"`` whatever their PD.

        Parameters
        ----------
        pd_values : array-like of shape (n_rows,)
            PD in [0, 1].
        is_defaulted : array-like of bool, shape (n_rows,), optional
            True for a customer already in default. Omitted means none is.

        Returns
        -------
        numpy.ndarray of str, shape (n_rows,)
            ``"1"`` … ``"N"`` or ``"D"``. A PD equal to a bound gets the grade that
            bound closes, and a higher PD never gets a better grade.

        Raises
        ------
        InputDataError
            If a PD is missing or outside [0, 1], or an ``is_defaulted`` value is
            missing or not boolean, or its length differs.
        """
        probabilities = self._checked_pd(pd_values)
        defaulted = self._checked_defaulted(is_defaulted, probabilities.size)
        # side="left" returns the first bound >= PD, so bounds are inclusive.
        positions = np.searchsorted(np.asarray(self.pd_upper_bounds), probabilities, side="left")
        labels = np.asarray(self.grades, dtype=object)[positions]
        labels[defaulted] = DEFAULT_GRADE
        return labels.astype(str)

    @staticmethod
    def _checked_pd(pd_values: object) -> np.ndarray:
        values = pd.to_numeric(pd.Series(np.asarray(pd_values).reshape(-1)), errors="coerce")
        probabilities = values.to_numpy(np.float64, na_value=np.nan)
        invalid = ~((probabilities >= 0.0) & (probabilities <= 1.0))
        if invalid.any():
            row = int(np.flatnonzero(invalid)[0])
            raise InputDataError(
                "model.master_scale.invalid_pd",
                count=int(invalid.sum()),
                row=row,
                value=_shown(np.asarray(pd_values).reshape(-1)[row]),
            )
        return probabilities

    @staticmethod
    def _checked_defaulted(is_defaulted: object, expected: int) -> np.ndarray:
        if is_defaulted is None:
            return np.zeros(expected, dtype=bool)
        direct = np.asarray(is_defaulted).reshape(-1)
        if direct.dtype == np.bool_ and direct.size == expected:
            return direct
        raw = np.asarray(is_defaulted, dtype=object).reshape(-1)
        if raw.size != expected:
            raise InputDataError(
                "model.master_scale.length_mismatch", length=raw.size, expected=expected
            )
        valid = np.array([isinstance(v, bool | np.bool_) for v in raw], dtype=bool)
        if not valid.all():
            row = int(np.flatnonzero(~valid)[0])
            raise InputDataError(
                "model.master_scale.invalid_defaulted",
                count=int((~valid).sum()),
                row=row,
                value=_shown(raw[row]),
            )
        return raw.astype(bool)


def _shown(value: object) -> str:
    """Return ``repr`` of a value, with NumPy scalars shown as plain Python values."""
    return repr(value.item() if isinstance(value, np.generic) else value)
