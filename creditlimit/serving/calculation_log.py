"""Calculation log of a limit decision: every input, policy parameter and step, as one JSON text per customer."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date

import numpy as np
import pyarrow as pa

from creditlimit.serving.policy_params import PolicyParams

__all__ = ["calculation_logs"]


def calculation_logs(
    inputs: dict[str, np.ndarray], steps: dict[str, np.ndarray], policy: PolicyParams, as_of: date
) -> list[str]:
    """Write one JSON document per customer: inputs, policy parameters, steps and binding rule."""
    input_rows = _json_records({k: v for k, v in inputs.items() if k != "grade_number"})
    step_rows = _json_records({k: v for k, v in steps.items() if k != "zero_decision"})
    params = {field.name: getattr(policy, field.name) for field in fields(policy)}
    params["industry_factors"] = dict(policy.industry_factors)

    # The parameters are the same on every row, so they are encoded once. The
    # document is joined in sorted key order, so the text equals
    # json.dumps(document, sort_keys=True).
    def encode(value: object) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)

    head = f'{{"as_of": {encode(as_of.isoformat())}, "binding_rule": '
    middle = f', "params": {encode(params)}, "policy_version": {encode(policy.version)}, "steps": '
    return [
        f"{head}{encode(step_row['binding_rule'])}, \"inputs\": {encode(input_row)}{middle}{encode(step_row)}}}"
        for input_row, step_row in zip(input_rows, step_rows)
    ]


def _json_records(columns: dict[str, np.ndarray]) -> list[dict[str, object]]:
    """Turn arrays into JSON-ready rows: NaN and ±inf become null, dates ISO text."""
    arrays = {}
    for name, values in columns.items():
        values = np.asarray(values)
        if values.dtype.kind == "M":
            text = np.datetime_as_string(values, unit="D").astype(object)
            text[np.isnat(values)] = None
            arrays[name] = pa.array(text, type=pa.string())
        elif values.dtype.kind == "f":
            # JSON has no infinity, so an unbounded expected-loss cap (PD 0) is written as null.
            arrays[name] = pa.array(values, mask=~np.isfinite(values))
        else:
            # from_pandas=True reads NaN and None in object arrays as null.
            arrays[name] = pa.array(values, from_pandas=True)
    # pyarrow hands back plain Python values (float, bool, str, None).
    return pa.table(arrays).to_pylist()
