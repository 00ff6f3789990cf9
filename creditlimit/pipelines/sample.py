"""Stage ``sample``: write the synthetic sample portfolio."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from creditlimit.errors import ParamsError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.params import load_params, section

__all__ = ["run"]

log = logging.getLogger(__name__)

register({
    "sample.done": {
        "en": "Sample portfolio written to {out}: {counts}.",
        "zh_CN": "样例客户组合已写入 {out}：{counts}。",
    },
    "sample.bad_format": {
        "en": "--format must be parquet or csv; got '{value}'.",
        "zh_CN": "--format 只能是 parquet 或 csv；收到“{value}”。",
    },
})


def run(*, params_path: Path, out_dir: Path, customers: int | None, months: int | None,
        seed: int | None, start: dt.date | None, file_format: str) -> dict[str, int]:
    """Generate the portfolio from params (command-line values win) and write it."""
    from creditlimit.features.synthetic import generate_portfolio, sample_summary, write_portfolio

    if file_format not in ("parquet", "csv"):
        raise ParamsError("sample.bad_format", value=file_format)
    params = load_params(params_path)
    sample = section(params, "sample")
    started = time.perf_counter()
    portfolio = generate_portfolio(
        customers=customers if customers is not None else int(sample["customers"]),
        months=months if months is not None else int(sample["months"]),
        seed=seed if seed is not None else int(sample["seed"]),
        start=start or dt.date.fromisoformat(str(sample["start"])),
        base_currency=str(sample.get("base_currency", "CNY")),
        dirty_share=sample.get("dirty_share", 0.0),
    )
    log.info("sample summary: %s", sample_summary(portfolio))
    counts = write_portfolio(portfolio, out_dir, file_format=file_format)
    log.info("sample written in %.1f s: %s", time.perf_counter() - started, counts)
    print(translate("sample.done", out=out_dir, counts=", ".join(f"{k} {v}" for k, v in counts.items())))
    return counts
