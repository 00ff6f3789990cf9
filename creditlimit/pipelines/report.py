"""Stage ``report``: the credit usage report (信用使用情况报告) of one scoring run as static HTML."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path

from creditlimit.errors import InputDataError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.json_logs import announce
from creditlimit.pipelines.params import load_params, section

__all__ = ["run", "report_dir", "print_report_path", "HELP"]

log = logging.getLogger(__name__)

HELP: dict[str, dict[str, str]] = {
    "cli.report": {
        "en": "Write the credit usage report of a scoring run as static HTML pages in zh_CN and en: "
              "portfolio report and one page per customer.",
        "zh_CN": "将一次评分结果的信用使用情况报告写成中英文静态 HTML 页面：组合报告及每个客户的页面。",
    },
    "cli.opt_report_as_of": {
        "en": "As-of date YYYY-MM-DD of the scoring run to report (default: params score.as_of).",
        "zh_CN": "要生成报告的评分日期 YYYY-MM-DD（默认取参数 score.as_of）。",
    },
    "cli.opt_report_models": {
        "en": "Folder of model.json, metrics.json and the model report.",
        "zh_CN": "model.json、metrics.json 及模型报告所在目录。",
    },
    "cli.opt_report_out": {
        "en": "Folder of the reports; the report goes to its as_of=YYYY-MM-DD subfolder.",
        "zh_CN": "报告根目录；报告写入其中的 as_of=YYYY-MM-DD 子目录。",
    },
    "cli.opt_report_print_path": {
        "en": "Only print the path of the existing report, without building it.",
        "zh_CN": "只显示已有报告的路径，不重新生成。",
    },
}

register({
    "report.done": {
        "en": "Credit usage report as of {as_of}: {pages} pages, {size_mb:.1f} MB, built in {seconds:.1f} s.\n"
              "Open: {index}",
        "zh_CN": "{as_of} 的信用使用情况报告：共 {pages} 个页面，{size_mb:.1f} MB，用时 {seconds:.1f} 秒。\n"
                 "打开：{index}",
    },
    "report.path": {"en": "Credit usage report: {index}", "zh_CN": "信用使用情况报告：{index}"},
    "report.missing": {
        "en": "No report for {as_of} in {folder}. Run `creditlimit report --as-of {as_of}` first.",
        "zh_CN": "{folder} 中没有 {as_of} 的报告。请先运行 `creditlimit report --as-of {as_of}`。",
    },
})


def report_dir(reports_root: Path, as_of: dt.date) -> Path:
    """Folder of the report of ``as_of``."""
    return reports_root / f"as_of={as_of.isoformat()}"


def run(*, params_path: Path, as_of: dt.date | None, scores_root: Path, clean_dir: Path, models_dir: Path,
        training_path: Path, out_root: Path) -> Path:
    """Build the report of the run ``as_of`` (default: params ``score.as_of``) and print where it is."""
    from creditlimit.reports.build import write_report
    from creditlimit.reports.inputs import load_report_inputs
    from creditlimit.reports.params import ReportParams

    params = load_params(params_path)
    report_params = ReportParams.from_mapping(section(params, "report"))
    as_of = as_of or dt.date.fromisoformat(str(section(params, "score.as_of")))
    currency = str(section(params, "data.base_currency"))
    out_dir = report_dir(out_root, as_of)

    started = time.perf_counter()
    inputs = load_report_inputs(
        scores_root=scores_root, as_of=as_of, clean_dir=clean_dir, models_dir=models_dir,
        training_path=training_path, report_dir=out_dir, history_months=report_params.history_months,
        max_statement_age_months=int(section(params, "features.max_statement_age_months")),
    )
    build = write_report(inputs, report_params, out_dir=out_dir, currency=currency)
    seconds = time.perf_counter() - started
    log.info("report stage timings (s): inputs %s, pages %s", inputs.timings, build.timings)
    announce(translate("report.done", as_of=as_of.isoformat(), pages=build.pages, size_mb=build.size_bytes / 1e6,
                    seconds=seconds, index=build.index.resolve()))
    return build.index


def print_report_path(*, params_path: Path, as_of: dt.date | None, out_root: Path) -> Path:
    """Print the entry page of an existing report (used at the end of ``make demo``)."""
    params = load_params(params_path)
    as_of = as_of or dt.date.fromisoformat(str(section(params, "score.as_of")))
    index = report_dir(out_root, as_of) / "index.html"
    if not index.is_file():
        raise InputDataError("report.missing", as_of=as_of.isoformat(), folder=out_root)
    print(translate("report.path", index=index.resolve()))
    return index
