"""zh_CN and en texts of the model report, registered in the i18n catalog on import."""

from __future__ import annotations

from creditlimit.i18n import register

__all__ = ["PREFIX"]

PREFIX = "report.model."

_TEXTS: dict[str, tuple[str, str]] = {
    # Page and navigation.
    "title": ("Model report: {name} version {version}", "模型报告：{name} 第 {version} 版"),
    "other_language": ("中文版", "English version"),
    "lang_attribute": ("en", "zh-CN"),
    "run": ("MLflow run {run_id}", "MLflow 运行 {run_id}"),
    "promoted_yes": ("Promoted to champion.", "已晋升为冠军模型（champion）。"),
    "promoted_no": ("Registered but not promoted: at least one gate failed.",
                    "已注册但未晋升：至少有一项门槛未通过。"),
    "model_summary": (
        "LightGBM booster with {trees} trees (early stopping on validation AUC), {features} features, "
        "calibrated with the {calibration} method on the validation part; seed {seed}.",
        "LightGBM 模型，{trees} 棵树（按验证集 AUC 提前停止），{features} 个特征，"
        "在验证集上用 {calibration} 方法校准；随机种子 {seed}。",
    ),
    "contents": ("Contents", "目录"),
    # Section titles.
    "section.summary": ("Summary", "摘要"),
    "section.data": ("Data window", "数据窗口"),
    "section.label": ("Default definition", "违约定义"),
    "section.features": ("Features and monotone constraints", "特征与单调约束"),
    "section.metrics": ("Performance by part", "各数据集表现"),
    "section.segments": ("Performance by segment", "分群表现"),
    "section.curves": ("ROC and KS curves", "ROC 与 KS 曲线"),
    "section.calibration": ("Calibration by grade", "分等级校准"),
    "section.stability": ("Population stability (PSI and CSI)", "群体稳定性（PSI 与 CSI）"),
    "section.shap": ("SHAP global importance", "SHAP 全局重要性"),
    "section.challenger": ("Challenger comparison", "挑战者模型对比"),
    "section.gates": ("Promotion gates", "晋升门槛"),
    "section.limitations": ("Limitations", "局限性"),
    # Parts and common column titles.
    "part.train": ("train", "训练集"),
    "part.valid": ("validation", "验证集"),
    "part.oot": ("out-of-time", "跨时间测试集"),
    "col.part": ("Part", "数据集"),
    "col.first_as_of": ("First as_of", "首个观察日"),
    "col.last_as_of": ("Last as_of", "末个观察日"),
    "col.months": ("Months", "月数"),
    "col.rows": ("Rows", "行数"),
    "col.customers": ("Customers", "客户数"),
    "col.bads": ("Bads", "违约数"),
    "col.default_rate": ("Default rate", "违约率"),
    "col.metric": ("Metric", "指标"),
    "col.feature": ("Feature", "特征"),
    "col.column": ("Column", "字段"),
    "col.unit": ("Unit", "单位"),
    "col.constraint": ("Monotone constraint", "单调约束"),
    "col.missing_share": ("Missing in train", "训练集缺失率"),
    "col.mean_abs_shap": ("Mean |SHAP|", "平均 |SHAP|"),
    "col.gain": ("Split gain", "分裂增益"),
    "col.csi": ("CSI (train vs OOT)", "CSI（训练集对跨时间测试集）"),
    "col.reading": ("Reading", "判读"),
    "col.segment": ("Segment", "分群"),
    "col.value": ("Value", "取值"),
    "col.grade": ("Grade", "等级"),
    "col.pd_band": ("PD band", "PD 区间"),
    "col.observed": ("Observed default rate", "实际违约率"),
    "col.mean_pd": ("Mean PD", "平均 PD"),
    "col.interval": ("Jeffreys 95% interval", "Jeffreys 95% 区间"),
    "col.in_interval": ("Mean PD in interval", "平均 PD 在区间内"),
    "col.p_value": ("p-value (more defaults)", "p 值（违约偏多）"),
    "col.gate": ("Gate", "门槛"),
    "col.threshold": ("Threshold", "阈值"),
    "col.result": ("Result", "结果"),
    "col.model": ("Model", "模型"),
    "col.details": ("Details", "说明"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "passed": ("passed", "通过"),
    "failed": ("failed", "未通过"),
    # Metric names.
    "metric.auc": ("AUC", "AUC"),
    "metric.gini": ("Gini", "Gini"),
    "metric.ks": ("KS", "KS"),
    "metric.brier": ("Brier score", "Brier 分数"),
    "metric.log_loss": ("Log loss", "对数损失"),
    "metric.ece": ("Expected calibration error", "期望校准误差"),
    "metric.default_rate": ("Default rate", "违约率"),
    "metric.mean_pd": ("Mean PD", "平均 PD"),
    "metric.n_rows": ("Rows", "行数"),
    "metric.n_bads": ("Bads", "违约数"),
    "metrics_note": (
        "AUC, Gini and KS rank rows by the raw margin (log-odds), so calibration cannot change them; "
        "Brier score, log loss and expected calibration error (10 equal-frequency bins) use the calibrated PD.",
        "AUC、Gini 和 KS 按原始得分（对数几率）排序，不受校准影响；Brier 分数、对数损失和期望校准误差"
        "（10 个等频分箱）使用校准后的 PD。",
    ),
    "undefined": ("undefined", "未定义"),
    # Summary.
    "summary_oot": (
        "Out-of-time test ({start} to {end}, {rows} rows, {bads} bads): AUC {auc}, Gini {gini}, KS {ks}, "
        "Brier score {brier}, expected calibration error {ece}.",
        "跨时间测试集（{start} 至 {end}，{rows} 行，{bads} 个违约）：AUC {auc}，Gini {gini}，KS {ks}，"
        "Brier 分数 {brier}，期望校准误差 {ece}。",
    ),
    "summary_gates": ("Gates: {passed} of {total} passed.", "门槛：{total} 项中通过 {passed} 项。"),
    # Data and label.
    "data_note": (
        "Monthly snapshots split by as_of month: training, then validation (early stopping and calibration), "
        "then the out-of-time test. Training ends {gap} months before the out-of-time test so its outcome "
        "windows never see the test period. Customers appear in several monthly snapshots, so rows are not "
        "independent. Data source: {source}.",
        "按观察月份切分的月度快照：先训练集，再验证集（提前停止与校准），最后跨时间测试集。训练集在跨时间测试集前 "
        "{gap} 个月结束，其表现期不会覆盖测试期。同一客户出现在多个月度快照中，因此各行并不独立。数据来源：{source}。",
    ),
    "label_text": (
        "A snapshot is bad (is_bad = 1) when, within {horizon} months after as_of, an invoice reaches {dpd} days "
        "past due with at least {amount} open (base currency), or one of these credit events occurs: {events}. "
        "Snapshots of customers already in default at as_of are not in the training table.",
        "若在观察日之后 {horizon} 个月内，某张发票逾期达到 {dpd} 天且未结金额不少于 {amount}（本位币），"
        "或发生以下任一信用事件：{events}，则该快照记为违约（is_bad = 1）。观察日已处于违约状态的客户快照不在训练表中。",
    ),
    # Features.
    "constraint.up": ("+1: PD never falls as the value rises", "+1：数值上升时 PD 不下降"),
    "constraint.down": ("−1: PD never rises as the value rises", "−1：数值上升时 PD 不上升"),
    "constraint.none": ("none", "无"),
    "constraint.categorical": ("none (categorical)", "无（类别型）"),
    "unit.ratio": ("ratio", "比率"),
    "unit.percent": ("share", "比例"),
    "unit.days": ("days", "天"),
    "unit.months": ("months", "月"),
    "unit.amount": ("amount", "金额"),
    "unit.count": ("count", "个数"),
    "unit.category": ("category", "类别"),
    "features_note": (
        "Sorted by mean absolute SHAP contribution on the out-of-time sample. Missing values stay missing and "
        "reach LightGBM as missing.",
        "按跨时间测试样本上的平均绝对 SHAP 贡献排序。缺失值保持缺失，按缺失传给 LightGBM。",
    ),
    # Segments.
    "segment.industry": ("Industry", "行业"),
    "segment.size_class": ("Size class", "企业规模"),
    "segment.thin_file": ("Thin file", "薄档案"),
    "segment.missing": ("(missing)", "（缺失）"),
    "segments_note": (
        "Thin file: no financial statement published before as_of (the customers the credit policy sizes from "
        "trading need alone). A metric that cannot be computed in a segment (one class only) is shown as "
        "undefined with the reason, not as 0.",
        "薄档案：观察日之前没有发布过财务报表（即信用政策仅按交易需求核定额度的客户）。某分群无法计算的指标"
        "（只有一个类别）显示为未定义并注明原因，而不是 0。",
    ),
    "show_part": ("{part} part", "{part}"),
    # Curves.
    "roc_title": ("ROC curve (raw margin)", "ROC 曲线（原始得分）"),
    "roc_x": ("False positive rate (goods)", "假阳性率（正常客户）"),
    "roc_y": ("True positive rate (bads)", "真阳性率（违约客户）"),
    "roc_series": ("{part}, AUC {auc}", "{part}，AUC {auc}"),
    "chance": ("chance", "随机"),
    "ks_title": ("KS curve, {part} (KS {ks})", "KS 曲线，{part}（KS {ks}）"),
    "ks_x": ("Raw margin (log-odds), higher is riskier", "原始得分（对数几率），越高风险越大"),
    "ks_y": ("Cumulative share at or below the margin", "得分不高于该值的累计占比"),
    "ks_bads": ("bads", "违约"),
    "ks_goods": ("goods", "正常"),
    "ks_line": ("largest gap", "最大差距"),
    "curves_undefined": ("The {part} curves are undefined: {reason}.", "{part} 曲线未定义：{reason}。"),
    # Calibration.
    "calibration_note": (
        "Grades from the master scale (policy.pd_upper_bounds). The Jeffreys interval is the 2.5% and 97.5% "
        "quantiles of Beta(bads + 0.5, goods + 0.5); the p-value is the one-sided exact binomial test of more "
        "defaults than the mean PD predicts. A small p-value means the grade underestimates risk.",
        "等级来自主标尺（policy.pd_upper_bounds）。Jeffreys 区间为 Beta(违约数 + 0.5, 正常数 + 0.5) 的 2.5% 与 "
        "97.5% 分位数；p 值为“违约多于平均 PD 预期”的单侧精确二项检验。p 值小说明该等级低估了风险。",
    ),
    "calibration_chart": ("Observed vs predicted default rate by grade, {part}",
                          "各等级实际与预测违约率，{part}"),
    "calibration_x": ("Grade (1 best)", "等级（1 最好）"),
    "calibration_y": ("Default rate", "违约率"),
    "empty_grade": ("no rows", "无样本"),
    # Stability.
    "stability_note": (
        "PSI of the raw margin and CSI (PSI per feature) of the out-of-time part against training, with 10 "
        "quantile bins from the training part, a separate bin for missing values and 0.5 added to every bin "
        "count, so an empty bin never gives an infinite value. Reading: below {watch} stable, {watch} to "
        "{alert} a moderate shift, above {alert} a significant shift (model_report.psi_watch and psi_alert).",
        "原始得分的 PSI 与各特征的 CSI（逐特征 PSI），比较跨时间测试集与训练集：按训练集分 10 个分位数箱，缺失值单独"
        "一箱，每箱计数加 0.5，空箱不会产生无穷大。判读：低于 {watch} 为稳定，{watch} 至 {alert} 为中度偏移，高于 "
        "{alert} 为显著偏移（model_report.psi_watch 与 psi_alert）。",
    ),
    "score_psi": (
        "Score PSI (train vs out-of-time): {value}, gate maximum {gate}: {reading}.",
        "评分 PSI（训练集对跨时间测试集）：{value}，门槛上限 {gate}：{reading}。",
    ),
    "reading.stable": ("stable", "稳定"),
    "reading.moderate": ("moderate shift", "中度偏移"),
    "reading.significant": ("significant shift", "显著偏移"),
    "reading.undefined": ("undefined", "未定义"),
    "csi_chart": ("CSI by feature (train vs out-of-time)", "各特征 CSI（训练集对跨时间测试集）"),
    # SHAP.
    "shap_note": (
        "Exact tree SHAP contributions from LightGBM (pred_contrib) for {rows} out-of-time rows drawn at random "
        "with seed {seed}, in log-odds of the raw margin. Each dot is one row: its position is the feature's "
        "contribution and its colour the feature's value within the sample (blue low, red high, grey missing or "
        "categorical). Base value (mean raw margin of the training data) {base}; largest additivity error {error}.",
        "LightGBM（pred_contrib）计算的精确树模型 SHAP 贡献，样本为用种子 {seed} 随机抽取的 {rows} 个跨时间测试行，"
        "单位为原始得分的对数几率。每个点代表一行：横向位置为该特征的贡献，颜色为该特征在样本中的取值高低"
        "（蓝低、红高，灰色为缺失或类别型）。基准值（训练数据的平均原始得分）{base}；最大可加性误差 {error}。",
    ),
    "shap_title": ("SHAP contributions by feature", "各特征的 SHAP 贡献"),
    "shap_x": ("Contribution to the raw margin (log-odds)", "对原始得分的贡献（对数几率）"),
    "shap_low": ("low value", "低值"),
    "shap_high": ("high value", "高值"),
    # Challenger.
    "challenger_none": (
        "metrics.json has no challenger entry, so there is nothing to compare.",
        "metrics.json 中没有挑战者模型条目，无可对比内容。",
    ),
    "challenger_model": ("Challenger", "挑战者模型"),
    "candidate_model": ("This model", "本模型"),
    "challenger_features": ("The challenger scorecard uses {count} features: {names}.",
                            "挑战者评分卡使用 {count} 个特征：{names}。"),
    "challenger_dropped": ("Features the challenger dropped", "挑战者模型舍弃的特征"),
    # Gates.
    "gates_none": ("metrics.json records no gates.", "metrics.json 未记录任何门槛。"),
    # Limitations.
    "limit.synthetic": (
        "The data are synthetic (generated by the sample stage from {source}); the figures show that the "
        "pipeline works, not how the model would perform on a real portfolio.",
        "数据为合成数据（由 sample 阶段生成，位于 {source}）；这些数字说明流程可以运行，不代表模型在真实组合上的表现。",
    ),
    "limit.real_data": (
        "Trained on data from {source}; the figures hold only for portfolios like it.",
        "基于 {source} 的数据训练；这些数字只适用于与其相似的组合。",
    ),
    "limit.sample_size": (
        "The out-of-time test has {bads} bads among {rows} rows from {customers} customers; the standard error "
        "of its AUC is about {se} (Hanley and McNeil, 1982), so AUC differences below about {twice_se} are "
        "within noise.",
        "跨时间测试集共 {rows} 行、{customers} 个客户，其中违约 {bads} 个；其 AUC 的标准误约为 {se}"
        "（Hanley 与 McNeil，1982），小于约 {twice_se} 的 AUC 差异属于噪声范围。",
    ),
    "limit.few_bads": (
        "Few bads (fewer than {min_bads}): {parts}. Metrics there rest on few events.",
        "违约样本较少（少于 {min_bads} 个）：{parts}。这些指标所依据的事件很少。",
    ),
    "limit.undefined_segments": (
        "Metrics undefined in these segments (one class only): {segments}.",
        "以下分群的指标未定义（只有一个类别）：{segments}。",
    ),
    "limit.missing_features": (
        "Features missing in more than {share} of training rows: {features}. The model learned a separate "
        "branch for missing values, which rests on the customers without that information.",
        "训练集中缺失率超过 {share} 的特征：{features}。模型为缺失值学习了单独的分支，其依据是缺少该信息的客户。",
    ),
    "limit.no_missing_features": (
        "No feature is missing in more than {share} of training rows.",
        "没有特征在训练集中的缺失率超过 {share}。",
    ),
    "limit.gates_failed": (
        "Failed gates, so the model is not the champion: {gates}.",
        "未通过的门槛（因此本模型不是冠军模型）：{gates}。",
    ),
    "limit.gates_passed": ("Every recorded gate passed.", "所有记录的门槛均已通过。"),
    "limit.unstable_features": (
        "Features with a significant shift between training and the out-of-time test (CSI above {alert}): "
        "{features}.",
        "训练集与跨时间测试集之间显著偏移的特征（CSI 高于 {alert}）：{features}。",
    ),
    "limit.calibration_grades": (
        "Grades whose observed default rate is significantly above the mean PD on the out-of-time test "
        "(p-value below 0.05): {grades}.",
        "跨时间测试集上实际违约率显著高于平均 PD 的等级（p 值低于 0.05）：{grades}。",
    ),
    "limit.scope": (
        "The model ranks and calibrates 12-month default risk for trade-credit customers with the features "
        "listed above; it does not see information outside them (news, group support, collateral).",
        "本模型仅依据上述特征对贸易信用客户的 12 个月违约风险排序和校准；不包含这些特征之外的信息"
        "（新闻、集团支持、担保品）。",
    ),
    "list_separator": (", ", "、"),
}

register({
    f"{PREFIX}{key}": {"en": english, "zh_CN": chinese} for key, (english, chinese) in _TEXTS.items()
})
