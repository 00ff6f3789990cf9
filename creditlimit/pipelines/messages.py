"""Help texts and messages of the ``creditlimit`` command in zh_CN and en."""

from __future__ import annotations

__all__ = ["HELP"]

HELP: dict[str, dict[str, str]] = {
    "cli.app": {
        "en": "Regenerate and explain trade-credit limits: sample data, validation, features, training and batch scoring.",
        "zh_CN": "重新生成并解释客户信用额度：样例数据、数据校验、特征、模型训练与批量评分。",
    },
    "cli.import": {
        "en": "Convert a real public data set into the canonical input tables.",
        "zh_CN": "将真实公开数据集转换为标准输入表。",
    },
    "cli.sample": {
        "en": "Write the synthetic sample portfolio (every canonical table and the true PD) to a folder.",
        "zh_CN": "生成合成样例客户组合（全部标准输入表及真实违约概率）并写入目录。",
    },
    "cli.import_ibm": {
        "en": "Convert the IBM accounts-receivable ledger (M/D/YYYY dates, 30-day terms) into canonical customers, invoices and payments.",
        "zh_CN": "将 IBM 应收账款台账（日期格式 M/D/YYYY，30 天账期）转换为标准客户、发票和付款表。",
    },
    "cli.validate": {
        "en": "Validate the raw tables: write clean tables, quarantine files with a reason per row, and the row counts.",
        "zh_CN": "校验原始数据表：输出清洗后的表、逐行注明原因的隔离文件以及行数统计。",
    },
    "cli.features": {
        "en": "Build point-in-time features and default labels for monthly training snapshots.",
        "zh_CN": "按月度快照构建时点特征与违约标签，用于模型训练。",
    },
    "cli.train": {
        "en": "Train, calibrate and validate the PD model; log it to MLflow and register it (alias champion when the gates pass).",
        "zh_CN": "训练、校准并验证违约概率模型；记录到 MLflow 并注册（通过门槛时设为 champion 别名）。",
    },
    "cli.score": {
        "en": "Score every customer as of a date: PD, grade, proposed limit, risk flags and SHAP reason codes.",
        "zh_CN": "按指定日期为全部客户评分：违约概率、信用等级、建议额度、风险预警及 SHAP 原因码。",
    },
    "cli.summary": {
        "en": "Print the summary of an existing scoring run.",
        "zh_CN": "显示已有评分结果的摘要。",
    },
    "cli.opt_params": {"en": "Parameter file.", "zh_CN": "参数文件。"},
    "cli.opt_out_dir": {"en": "Output folder.", "zh_CN": "输出目录。"},
    "cli.opt_out_file": {"en": "Output file.", "zh_CN": "输出文件。"},
    "cli.opt_customers": {
        "en": "Number of customers (default: params sample.customers).",
        "zh_CN": "客户数量（默认取参数 sample.customers）。",
    },
    "cli.opt_months": {
        "en": "Months of history (default: params sample.months).",
        "zh_CN": "历史月数（默认取参数 sample.months）。",
    },
    "cli.opt_seed": {
        "en": "Random seed; the same seed writes the same bytes (default: params sample.seed).",
        "zh_CN": "随机种子；相同种子生成完全相同的文件（默认取参数 sample.seed）。",
    },
    "cli.opt_start": {
        "en": "First month of the history, YYYY-MM-DD (default: params sample.start).",
        "zh_CN": "历史起始月份，格式 YYYY-MM-DD（默认取参数 sample.start）。",
    },
    "cli.opt_format": {"en": "File format: parquet or csv.", "zh_CN": "文件格式：parquet 或 csv。"},
    "cli.arg_ibm_file": {
        "en": "Path of WA_Fn-UseC_-Accounts-Receivable.csv.",
        "zh_CN": "WA_Fn-UseC_-Accounts-Receivable.csv 文件路径。",
    },
    "cli.opt_currency": {
        "en": "Currency code to give the ledger's amounts (the file has none).",
        "zh_CN": "台账金额所用的币种代码（原文件未注明币种）。",
    },
    "cli.opt_raw": {
        "en": "Folder of raw canonical tables, or a database URL such as postgresql+psycopg://... (default: params data.raw_dir).",
        "zh_CN": "原始标准数据表所在目录，或数据库 URL（如 postgresql+psycopg://...）（默认取参数 data.raw_dir）。",
    },
    "cli.opt_clean": {"en": "Folder of validated tables.", "zh_CN": "已校验数据表所在目录。"},
    "cli.opt_training": {"en": "Training snapshot table (Parquet).", "zh_CN": "训练快照表（Parquet）。"},
    "cli.opt_as_of": {
        "en": "Scoring date YYYY-MM-DD: features see only records dated before it (default: params score.as_of).",
        "zh_CN": "评分日期 YYYY-MM-DD：特征只使用该日期之前的记录（默认取参数 score.as_of）。",
    },
    "cli.opt_summary_as_of": {
        "en": "Date YYYY-MM-DD of the run to summarise (default: params score.as_of).",
        "zh_CN": "要显示摘要的评分日期 YYYY-MM-DD（默认取参数 score.as_of）。",
    },
    "cli.opt_scores_root": {
        "en": "Root folder of scoring outputs; each run writes as_of=YYYY-MM-DD inside it.",
        "zh_CN": "评分结果根目录；每次运行在其中写入 as_of=YYYY-MM-DD 子目录。",
    },
    "cli.opt_alias": {
        "en": "Registered model alias to score with (default: params score.model_alias).",
        "zh_CN": "用于评分的已注册模型别名（默认取参数 score.model_alias）。",
    },
    "cli.bad_date": {
        "en": "'{value}' is not a date in the form YYYY-MM-DD.",
        "zh_CN": "“{value}”不是 YYYY-MM-DD 格式的日期。",
    },
    "cli.error": {"en": "Error: {message}", "zh_CN": "错误：{message}"},
    "cli.help_option": {"en": "Show this message and exit.", "zh_CN": "显示本帮助信息并退出。"},
}
