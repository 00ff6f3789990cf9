"""Stage ``validate``: raw canonical tables to clean tables, quarantine files and counts."""

from __future__ import annotations

import logging
import re
import shutil
import time
from pathlib import Path

from creditlimit.errors import InputDataError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.json_logs import announce
from creditlimit.pipelines.params import load_params, section

__all__ = ["is_database_url", "run"]

log = logging.getLogger(__name__)

register({
    "validate.done": {
        "en": "Validated {raw}: {summary}. Clean tables and quarantine files are in {out}.",
        "zh_CN": "已校验 {raw}：{summary}。清洗后的表和隔离文件位于 {out}。",
    },
    "validate.table_summary": {
        "en": "{table} {rows_in} in / {accepted} accepted / {dropped} dropped / {quarantined} quarantined",
        "zh_CN": "{table} 输入 {rows_in} / 接收 {accepted} / 剔除 {dropped} / 隔离 {quarantined}",
    },
})


def is_database_url(source: str) -> bool:
    """Tell a SQLAlchemy URL (``dialect[+driver]://...``) from a folder path."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) is not None


def run(*, params_path: Path, raw_dir: Path | str | None, out_dir: Path) -> None:
    """Validate the raw tables named by ``raw_dir`` or params ``data.raw_dir``.

    The source is a folder of CSV or Parquet files, or a SQLAlchemy database URL
    (``sqlite:///...``, ``postgresql+psycopg://...``) whose tables carry the
    canonical names and columns.
    """
    from creditlimit.features.loading import read_raw_folder, read_sql_tables
    from creditlimit.features.validation import (
        ValidationParams,
        validate_tables,
        write_validation_outputs,
    )
    from creditlimit.serving.publish import atomic_output_dir

    params = load_params(params_path)
    raw_dir = str(raw_dir or section(params, "data.raw_dir"))
    validation = ValidationParams.from_mapping(section(params, "validation"))
    started = time.perf_counter()
    if is_database_url(raw_dir):
        raw = read_sql_tables(raw_dir)
    else:
        raw = read_raw_folder(Path(raw_dir), encoding=section(params, "data").get("encoding", "auto"))
    # The outputs replace the previous folder in one swap, so a killed run never
    # leaves old and new clean tables side by side.
    failure = None
    with atomic_output_dir(out_dir, checkpoint_name="validate:before_swap") as staging:
        try:
            result = validate_tables(
                raw,
                base_currency=str(section(params, "data.base_currency")),
                max_reject_share=validation.max_reject_share,
                quarantine_dir=out_dir / "quarantine",
            )
        except InputDataError as error:
            # Publish the quarantine files and counts so the user can see what was
            # rejected, without clean tables: later stages must not score a run
            # that failed validation, nor an older run's tables.
            failure = error
            if getattr(error, "result", None) is not None:
                write_validation_outputs(error.result, staging)
                shutil.rmtree(staging / "clean", ignore_errors=True)
        else:
            write_validation_outputs(result, staging)
    if failure is not None:
        raise failure
    log.info("validation finished in %.1f s", time.perf_counter() - started)
    announce(translate("validate.done", raw=raw_dir, out=out_dir, summary="; ".join(
        translate("validate.table_summary", table=name, rows_in=c.rows_in, accepted=c.accepted,
                  dropped=c.dropped_total, quarantined=c.quarantined_total)
        for name, c in result.counts.items()
    )))
