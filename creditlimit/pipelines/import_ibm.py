"""Command ``import ibm-ar``: convert the IBM accounts-receivable ledger."""

from __future__ import annotations

import logging
from pathlib import Path

from creditlimit.i18n import register, translate

__all__ = ["run"]

log = logging.getLogger(__name__)

register({
    "import.done": {
        "en": "Canonical tables written to {out}: {counts}.",
        "zh_CN": "标准数据表已写入 {out}：{counts}。",
    },
})


def run(*, csv_path: Path, out_dir: Path, currency: str) -> dict[str, int]:
    """Convert ``csv_path`` and write the canonical tables to ``out_dir``."""
    from creditlimit.features.adapters.ibm_ar import convert_ibm_ar, write_canonical

    tables = convert_ibm_ar(csv_path, currency=currency)
    write_canonical(tables, out_dir)
    counts = {name: len(frame) for name, frame in tables.items()}
    log.info("IBM ledger %s converted: %s", csv_path, counts)
    print(translate("import.done", out=out_dir, counts=", ".join(f"{k} {v}" for k, v in counts.items())))
    return counts
