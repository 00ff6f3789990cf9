"""Commands for scheduled operation: rescore, replay, lineage, approvals and the audit ledger."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from creditlimit.pipelines.cli_common import as_date, help_text
from creditlimit.i18n import register, translate

__all__ = ["add_operations_commands"]

register({
    "cli.rescore": {
        "en": "Run validation, scoring, the decision ledger, publishing and the report in one locked, atomic run (for cron or Airflow).",
        "zh_CN": "在一次加锁的原子运行中完成校验、评分、决策台账、发布和报告（供 cron 或 Airflow 调用）。",
    },
    "cli.replay": {
        "en": "Score a past run again from the archived inputs, params and model version, and compare every file byte for byte.",
        "zh_CN": "用归档的输入、参数和模型版本重新运行一次历史评分，并逐字节比较全部文件。",
    },
    "cli.lineage": {
        "en": "Print the chain behind one customer's decision: input hashes, model, params, policy, code, features, decision and ledger records.",
        "zh_CN": "显示某客户决策的完整来源：输入文件哈希、模型、参数、政策、代码版本、特征、决策及台账记录。",
    },
    "cli.approvals": {"en": "List the decisions waiting for approval.", "zh_CN": "列出待审批的决策。"},
    "cli.approve": {
        "en": "Approve a queued decision (maker-checker: the approver must differ from the maker).",
        "zh_CN": "批准一项待审批决策（四眼原则：审批人不能是发起人）。",
    },
    "cli.reject": {
        "en": "Reject a queued decision; the customer's earlier effective limit stays.",
        "zh_CN": "拒绝一项待审批决策；客户原生效额度保持不变。",
    },
    "cli.audit": {"en": "Check the tamper-evident decision ledger.", "zh_CN": "检查防篡改的决策台账。"},
    "cli.audit_verify": {
        "en": "Verify the hash chain and every run manifest's anchor; name the first bad record.",
        "zh_CN": "校验哈希链及各运行清单中的锚点；指出第一条有问题的记录。",
    },
    "cli.opt_raw_rescore": {
        "en": "Raw input folder or database URL (default: params data.raw_dir).",
        "zh_CN": "原始输入目录或数据库 URL（默认取参数 data.raw_dir）。",
    },
    "cli.opt_interim": {"en": "Folder of clean tables and quarantine files.", "zh_CN": "清洗后数据表和隔离文件所在目录。"},
    "cli.opt_reports_root": {"en": "Folder of the HTML reports.", "zh_CN": "HTML 报告目录。"},
    "cli.opt_log_format": {
        "en": "Log line format on standard error: text or json (one JSON object per line).",
        "zh_CN": "标准错误输出的日志格式：text 或 json（每行一个 JSON 对象）。",
    },
    "cli.opt_progress": {
        "en": "Show a progress bar (default: only on a terminal).",
        "zh_CN": "显示进度条（默认仅在终端中显示）。",
    },
    "cli.arg_run_id": {"en": "Run id, from the run folder's manifest.json.", "zh_CN": "运行编号，见运行目录中的 manifest.json。"},
    "cli.arg_customer_id": {"en": "Customer id.", "zh_CN": "客户编号。"},
    "cli.arg_decision_id": {"en": "Decision id, from `creditlimit approvals`.", "zh_CN": "决策编号，见 `creditlimit approvals`。"},
    "cli.opt_by": {"en": "Name of the approver.", "zh_CN": "审批人姓名。"},
    "cli.opt_note": {"en": "Optional note recorded with the approval.", "zh_CN": "随批准记录的备注（可选）。"},
    "cli.opt_reason": {"en": "Reason for rejecting, recorded in the ledger.", "zh_CN": "拒绝原因，记入台账。"},
    "cli.bad_log_format": {
        "en": "--log-format must be text or json; got {value}.",
        "zh_CN": "--log-format 必须为 text 或 json；实际为 {value}。",
    },
})


_h = help_text
_as_date = as_date


def add_operations_commands(app: typer.Typer) -> None:
    """Add rescore, replay, lineage, approvals, approve, reject and audit verify to ``app``."""
    params_option = Annotated[Path, typer.Option("--params", help=_h("opt_params"))]
    scores_option = Annotated[Path, typer.Option("--scores", help=_h("opt_scores_root"))]

    @app.command("rescore", help=_h("rescore"))
    def rescore(
        as_of: Annotated[Optional[str], typer.Option("--as-of", help=_h("opt_as_of"))] = None,
        raw: Annotated[Optional[str], typer.Option("--raw", help=_h("opt_raw_rescore"))] = None,
        interim: Annotated[Path, typer.Option("--interim", help=_h("opt_interim"))] = Path("data/interim"),
        scores: scores_option = Path("data/scores"),
        reports: Annotated[Path, typer.Option("--reports", help=_h("opt_reports_root"))] = Path("data/reports"),
        alias: Annotated[Optional[str], typer.Option("--model-alias", help=_h("opt_alias"))] = None,
        log_format: Annotated[str, typer.Option("--log-format", help=_h("opt_log_format"))] = "text",
        progress: Annotated[Optional[bool], typer.Option("--progress/--no-progress", help=_h("opt_progress"))] = None,
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import rescore as stage

        if log_format not in ("text", "json"):
            raise typer.BadParameter(translate("cli.bad_log_format", value=log_format))
        if log_format == "json":
            from creditlimit.pipelines.json_logs import use_json_logs

            use_json_logs()
        stage.run(params_path=params, as_of=_as_date(as_of) if as_of else None, raw_dir=raw,
                  interim_dir=interim, scores_root=scores, reports_root=reports, model_alias=alias,
                  progress=progress)

    @app.command("replay", help=_h("replay"))
    def replay(
        run_id: Annotated[str, typer.Argument(help=_h("arg_run_id"))],
        scores: scores_option = Path("data/scores"),
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import replay as stage

        stage.run(params_path=params, run_id=run_id, scores_root=scores)

    @app.command("lineage", help=_h("lineage"))
    def lineage(
        customer_id: Annotated[str, typer.Argument(help=_h("arg_customer_id"))],
        as_of: Annotated[str, typer.Option("--as-of", help=_h("opt_as_of"))],
        scores: scores_option = Path("data/scores"),
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import audit

        audit.print_lineage(params_path=params, customer_id=customer_id, as_of=_as_date(as_of), scores_root=scores)

    @app.command("approvals", help=_h("approvals"))
    def approvals(params: params_option = Path("params.yaml")) -> None:
        from creditlimit.pipelines import audit

        audit.print_queue(params_path=params)

    @app.command("approve", help=_h("approve"))
    def approve(
        decision_id: Annotated[str, typer.Argument(help=_h("arg_decision_id"))],
        by: Annotated[str, typer.Option("--by", help=_h("opt_by"))],
        note: Annotated[str, typer.Option("--note", help=_h("opt_note"))] = "",
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import audit

        audit.approve_decision(params_path=params, decision_id=decision_id, by=by, note=note)

    @app.command("reject", help=_h("reject"))
    def reject(
        decision_id: Annotated[str, typer.Argument(help=_h("arg_decision_id"))],
        by: Annotated[str, typer.Option("--by", help=_h("opt_by"))],
        reason: Annotated[str, typer.Option("--reason", help=_h("opt_reason"))],
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import audit

        audit.reject_decision(params_path=params, decision_id=decision_id, by=by, reason=reason)

    audit_app = typer.Typer(help=_h("audit"), no_args_is_help=True)
    app.add_typer(audit_app, name="audit")

    @audit_app.command("verify", help=_h("audit_verify"))
    def verify(
        scores: scores_option = Path("data/scores"),
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import audit

        audit.verify(params_path=params, scores_root=scores)
