"""Command ``simulate``: score the book under other params or another model, without publishing.

The book is scored twice in memory, under the current params and under the
scenario, and the limit moves between the two are reported. Nothing is written to
the scores folder or the database; ``--out`` names a folder for the report files.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from creditlimit.errors import ParamsError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.params import load_params, section

register({
    "simulate.out_not_folder": {
        "en": "--out {path} is a file; give a folder for the simulation report (it is created when missing).",
        "zh_CN": "--out {path} 是一个文件；请指定存放模拟报告的目录（不存在时会自动创建）。",
    },
})

__all__ = ["run", "HELP"]

log = logging.getLogger(__name__)

# Help texts of the command; the CLI registers them when it builds the command tree.
HELP: dict[str, dict[str, str]] = {
    "cli.simulate": {
        "en": (
            "Apply other params or another model to the whole book without publishing, and report the "
            "limit moves against the current params: increases, decreases, cuts to zero, total limit, "
            "exposure and expected-loss change, by grade and industry."
        ),
        "zh_CN": (
            "将另一套参数或另一个模型应用于全部客户但不发布结果，并报告相对现行参数的额度变动："
            "上调、下调、降为零、额度总额、敞口及预期损失的变化，按等级和行业分组。"
        ),
    },
    "cli.opt_scenario_params": {
        "en": "Parameter file of the scenario (the policy or model to try).",
        "zh_CN": "模拟方案的参数文件（要试用的策略或模型）。",
    },
    "cli.opt_current_params": {
        "en": "Parameter file in force, the baseline of the comparison.",
        "zh_CN": "现行参数文件，作为比较基准。",
    },
    "cli.opt_scenario_alias": {
        "en": "Registered model alias of the scenario (default: the scenario's score.model_alias).",
        "zh_CN": "模拟方案使用的已注册模型别名（默认取方案参数 score.model_alias）。",
    },
    "cli.opt_simulate_out": {
        "en": "Folder for the report: simulation.json and CSV tables by segment and customer (default: print only).",
        "zh_CN": "报告输出目录：simulation.json 及按分组和客户的 CSV 表（默认只显示不保存）。",
    },
}


def run(*, params_path: Path, scenario_path: Path, as_of: dt.date | None, clean_dir: Path,
        model_alias: str | None, out_dir: Path | None) -> Path | None:
    """Compare the current params with the scenario and print the moves; return the report folder."""
    from creditlimit.models.master_scale import MasterScale
    from creditlimit.pipelines.score import score_book
    from creditlimit.serving.simulation import render_report, simulate_moves

    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        # Checked before scoring, which takes a while, so the mistake shows at once.
        raise ParamsError("simulate.out_not_folder", path=out_dir)
    current = load_params(params_path)
    scenario = load_params(scenario_path)
    as_of = as_of or dt.date.fromisoformat(str(section(current, "score.as_of")))

    # Both books are scored from the same data; neither is compared with a previous run, because
    # the comparison with it does not change a limit.
    baseline_book = score_book(current, as_of=as_of, clean_dir=clean_dir, model_alias=None)
    scenario_book = score_book(scenario, as_of=as_of, clean_dir=clean_dir, model_alias=model_alias, what_if=True)

    report = simulate_moves(
        baseline_book.result.limits, scenario_book.result.limits,
        industries=baseline_book.result.extra["features"][["customer_id", "industry"]],
        grade_order=MasterScale.from_mapping(section(current, "policy")).grade_order,
        lgd=float(section(current, "policy.lgd")), scenario_lgd=float(section(scenario, "policy.lgd")),
    )
    header = {
        "as_of": as_of.isoformat(),
        "baseline_params": str(params_path), "scenario_params": str(scenario_path),
        "baseline_policy": baseline_book.manifest["policy_version"],
        "scenario_policy": scenario_book.manifest["policy_version"],
        "baseline_model": _model_text(baseline_book.manifest),
        "scenario_model": _model_text(scenario_book.manifest),
    }
    print(render_report(report, header=header, currency=baseline_book.base_currency))
    if out_dir is None:
        return None
    _write_report(report, header, out_dir)
    print(translate("simulate.saved", path=out_dir))
    return out_dir


def _model_text(manifest: dict) -> str:
    model = manifest["model"]
    return f"{model['name']} v{model['version']} ({model['alias']})"


def _write_report(report, header: dict, out_dir: Path) -> None:
    """Write simulation.json (every table) and the segment and customer tables as CSV."""
    import pandas as pd

    from creditlimit.serving.publish import write_csv

    out_dir.mkdir(parents=True, exist_ok=True)
    segments = pd.concat(
        [report.by_grade.assign(segment_type="grade"), report.by_industry.assign(segment_type="industry")],
        ignore_index=True,
    )
    segments = segments[["segment_type", *[c for c in segments.columns if c != "segment_type"]]]
    document = {
        **header,
        "overall": report.overall,
        "by_grade": report.by_grade.to_dict(orient="records"),
        "by_industry": report.by_industry.to_dict(orient="records"),
    }
    (out_dir / "simulation.json").write_text(
        json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True, default=float) + "\n", encoding="utf-8")
    write_csv(segments, out_dir / "simulation_segments.csv")
    write_csv(report.moves, out_dir / "simulation_customers.csv")
    log.info("simulation report written to %s", out_dir)
