"""Model report: self-contained HTML documentation of a trained PD model in zh_CN and en.

The report shows the data window, the default definition, the features and
their monotone constraints, metrics per part and per segment, ROC and KS curves,
calibration by master-scale grade, PSI/CSI, SHAP global importance, the
challenger comparison and the limitations. Charts are inline SVG from
:mod:`creditlimit.reports.svg`, styles are inline, and the page loads nothing, so
it opens from the file system and from an MLflow artifact view alike.

:func:`publish_model_reports` is the entry point of the ``train`` stage: it
collects the evidence, writes ``model_report.zh_CN.html`` and
``model_report.en.html`` and logs both to the model's MLflow run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path

import numpy as np
import pandas as pd

from creditlimit.i18n import LOCALES, translate
from creditlimit.models.master_scale import MasterScale
from creditlimit.reports import svg
from creditlimit.reports.model_evidence import (
    ModelEvidence,
    PartEvidence,
    ReportParams,
    collect_evidence,
)
from creditlimit.reports.model_report_format import (
    Cell,
    format_date,
    format_integer,
    format_metric,
    format_p_value,
    format_share,
    html_table,
    is_missing,
)
from creditlimit.reports.model_report_text import PREFIX

__all__ = [
    "REPORT_FOLDER",
    "report_filename",
    "render_model_report",
    "write_model_reports",
    "publish_model_reports",
]

log = logging.getLogger(__name__)

REPORT_FOLDER = "report"
_METRIC_ROWS = ("auc", "gini", "ks", "brier", "log_loss", "ece", "default_rate", "mean_pd", "n_rows", "n_bads")
_SHARE_METRICS = ("default_rate", "mean_pd")
_COUNT_METRICS = ("n_rows", "n_bads")
_SIGNIFICANCE = 0.05
_STYLE = """
body{font-family:system-ui,'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.5}
main{max-width:1100px;margin:0 auto;padding:16px 28px 48px;background:#fff}
h1{font-size:1.6em;margin:0.4em 0}h2{font-size:1.25em;margin-top:2em;border-bottom:2px solid #0072B2;
padding-bottom:4px}h3{font-size:1.05em}
table{border-collapse:collapse;margin:10px 0;font-size:0.9em}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #ddd;padding:4px 8px;vertical-align:top}th{background:#f0f4f8;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.passed{color:#1b7a3a;font-weight:600;white-space:nowrap}.failed{color:#b3122e;font-weight:600;white-space:nowrap}.undefined{color:#8a6d00}
.note{color:#555;font-size:0.9em}.charts{display:flex;flex-wrap:wrap;gap:16px}
.figures{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0}
.figure{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.figure b{display:block;font-size:1.4em}nav ol{columns:2}svg{max-width:100%;height:auto}
details{margin:8px 0}summary{cursor:pointer;font-weight:600}
"""


def report_filename(locale: str) -> str:
    """Return the file name of the report in ``locale``, e.g. ``model_report.zh_CN.html``."""
    return f"model_report.{locale}.html"


def publish_model_reports(
    *,
    trained: object,
    table: pd.DataFrame,
    params: Mapping[str, object],
    metrics_path: Path,
    model_record: Mapping[str, object],
    out_dir: Path,
    tracking_uri: str | None,
) -> dict[str, Path]:
    """Write the report in every locale to ``out_dir`` and log it to the model's MLflow run.

    Parameters
    ----------
    trained : TrainedModel
        The trained model.
    table : pandas.DataFrame
        Its training table.
    params : Mapping
        The loaded params.yaml. Read: ``model_report``, ``label``,
        ``policy.pd_upper_bounds`` and ``data.raw_dir``.
    metrics_path : Path
        The stage's ``metrics.json``, read as written (with gates and challenger).
    model_record : Mapping
        ``name``, ``version``, ``run_id``, ``promoted`` and ``failed_gates``.
    out_dir : Path
        Folder of the report files (created when missing).
    tracking_uri : str or None
        MLflow tracking URI. None skips logging.

    Returns
    -------
    dict[str, Path]
        Report path per locale.

    Raises
    ------
    ParamsError
        If a params value the report reads is missing or invalid.
    """
    from creditlimit.features.labels import LabelDefinition
    from creditlimit.pipelines.params import section

    settings = ReportParams.from_mapping(section(params, "model_report"))
    raw_dir = Path(str(section(params, "data.raw_dir")))
    evidence = collect_evidence(
        trained=trained, table=table,
        metrics=json.loads(metrics_path.read_text(encoding="utf-8")),
        label_definition=LabelDefinition.from_mapping(section(params, "label")).to_dict(),
        master_scale=MasterScale.from_mapping(section(params, "policy")),
        settings=settings,
        model_record=model_record,
        data_source=raw_dir.as_posix(),
        # The sample stage writes the true PDs under _truth/; real data never has them.
        synthetic=(raw_dir / "_truth" / "true_pd.parquet").exists(),
    )
    paths = write_model_reports(evidence, out_dir)
    if tracking_uri is not None and model_record.get("run_id"):
        _log_to_mlflow(paths, tracking_uri=tracking_uri, run_id=str(model_record["run_id"]))
    return paths


def write_model_reports(evidence: ModelEvidence, out_dir: Path) -> dict[str, Path]:
    """Render the report in every locale into ``out_dir``; return the path per locale."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for locale in LOCALES:
        path = out_dir / report_filename(locale)
        path.write_text(render_model_report(evidence, locale=locale), encoding="utf-8")
        paths[locale] = path
    log.info("model report written to %s", ", ".join(str(path) for path in paths.values()))
    return paths


def render_model_report(evidence: ModelEvidence, *, locale: str) -> str:
    """Render the whole report as one self-contained HTML page in ``locale``."""
    text = _Text(locale)
    sections = [
        ("summary", _summary(evidence, text)),
        ("data", _data_window(evidence, text)),
        ("label", _label(evidence, text)),
        ("features", _features(evidence, text)),
        ("metrics", _metrics(evidence, text)),
        ("segments", _segments(evidence, text)),
        ("curves", _curves(evidence, text)),
        ("calibration", _calibration(evidence, text)),
        ("stability", _stability(evidence, text)),
        ("shap", _shap(evidence, text)),
        ("challenger", _challenger(evidence, text)),
        ("gates", _gates(evidence, text)),
        ("limitations", _limitations(evidence, text)),
    ]
    title = text("title", name=evidence.model.get("name", ""), version=evidence.model.get("version", ""))
    other = "en" if locale == "zh_CN" else "zh_CN"
    nav = "".join(f'<li><a href="#{key}">{escape(text(f"section.{key}"))}</a></li>' for key, _ in sections)
    body = "".join(
        f'<section id="{key}"><h2>{escape(text(f"section.{key}"))}</h2>{content}</section>'
        for key, content in sections
    )
    return (
        f'<!DOCTYPE html><html lang="{text("lang_attribute")}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body><main>"
        f'<p class="note"><a href="{report_filename(other)}">{escape(text("other_language"))}</a></p>'
        f"<h1>{escape(title)}</h1>{_header(evidence, text)}"
        f'<nav><h2>{escape(text("contents"))}</h2><ol>{nav}</ol></nav>{body}</main></body></html>\n'
    )


# ---------------------------------------------------------------------------
# Sections


def _header(evidence: ModelEvidence, text: _Text) -> str:
    model = evidence.model
    promoted = text("promoted_yes") if model.get("promoted") else text("promoted_no")
    summary = text("model_summary", trees=model.get("best_iteration"), features=len(evidence.features),
                   calibration=model.get("calibration"), seed=model.get("seed"))
    return (
        f'<p class="note">{escape(text("run", run_id=model.get("run_id", "")))}</p>'
        f"<p>{escape(summary)} <b>{escape(promoted)}</b></p>"
    )


def _summary(evidence: ModelEvidence, text: _Text) -> str:
    oot = evidence.part("oot")
    metrics = oot.metrics
    shown = {name: _metric_text(metrics, name, text) for name in ("auc", "gini", "ks", "brier", "ece")}
    sentence = text("summary_oot", start=text.date(oot.window.get("start")), end=text.date(oot.window.get("end")),
                    rows=text.integer(metrics.get("n_rows")), bads=text.integer(metrics.get("n_bads")), **shown)
    figures = "".join(
        f'<div class="figure">{escape(text(f"metric.{name}"))}<b>{escape(value)}</b></div>'
        for name, value in shown.items()
    )
    passed = sum(1 for gate in evidence.gates if gate.get("passed"))
    gates = text("summary_gates", passed=passed, total=len(evidence.gates))
    return f'<div class="figures">{figures}</div><p>{escape(sentence)}</p><p>{escape(gates)}</p>'


def _data_window(evidence: ModelEvidence, text: _Text) -> str:
    header = [text(f"col.{name}") for name in ("part", "first_as_of", "last_as_of", "months", "rows",
                                                 "customers", "bads", "default_rate")]
    rows = []
    for part in evidence.parts:
        window = part.window
        rows.append([
            text(f"part.{part.name}"), text.date(window.get("start")), text.date(window.get("end")),
            text.integer(window.get("months")), text.integer(window.get("rows")), text.integer(part.customers),
            text.integer(window.get("bads")), text.share(_ratio(window.get("bads"), window.get("rows"))),
        ])
    note = text("data_note", gap=evidence.model.get("gap_months"),
                source=evidence.data_source or text("constraint.none"))
    return html_table(header, rows) + f'<p class="note">{escape(note)}</p>'


def _label(evidence: ModelEvidence, text: _Text) -> str:
    label = evidence.label
    events = text.join(str(event) for event in label.get("event_types", ()))
    sentence = text("label_text", horizon=label.get("horizon_months"), dpd=label.get("dpd_threshold"),
                    amount=text.integer(label.get("min_amount")), events=events)
    return f"<p>{escape(sentence)}</p>"


def _features(evidence: ModelEvidence, text: _Text) -> str:
    header = [text("col.feature"), text("col.column"), text("col.unit"), text("col.constraint"),
              text("col.missing_share"), text("col.mean_abs_shap"), text("col.gain"), text("col.csi")]
    rows = []
    for feature in evidence.features:
        rows.append([
            feature.label_zh if text.locale == "zh_CN" else feature.label_en,
            Cell(f"<code>{escape(feature.name)}</code>", markup=True),
            text(f"unit.{feature.unit}") if feature.unit else "",
            _constraint_text(feature.constraint, feature.categorical, text),
            text.share(feature.missing_share_train, digits=1),
            text.metric(feature.mean_abs_shap),
            text.integer(round(feature.gain)),
            _psi_cell(feature.csi, evidence.settings, text),
        ])
    return html_table(header, rows, numeric_from=4) + f'<p class="note">{escape(text("features_note"))}</p>'


def _metrics(evidence: ModelEvidence, text: _Text) -> str:
    header = [text("col.metric")] + [text(f"part.{part.name}") for part in evidence.parts]
    rows = [
        [text(f"metric.{name}")] + [_metric_cell(part.metrics, name, text) for part in evidence.parts]
        for name in _METRIC_ROWS
    ]
    return html_table(header, rows) + f'<p class="note">{escape(text("metrics_note"))}</p>'


def _segments(evidence: ModelEvidence, text: _Text) -> str:
    note = f'<p class="note">{escape(text("segments_note"))}</p>'
    blocks = []
    for part in reversed(evidence.parts):
        table = _segment_table(part, text)
        if part.name == "oot":
            blocks.append(f"<h3>{escape(text('part.oot'))}</h3>{table}")
        else:
            label = text("show_part", part=text(f"part.{part.name}"))
            blocks.append(f"<details><summary>{escape(label)}</summary>{table}</details>")
    return note + "".join(blocks)


def _segment_table(part: PartEvidence, text: _Text) -> str:
    names = ("auc", "gini", "ks", "brier", "ece")
    header = [text("col.segment"), text("col.value"), text("col.rows"), text("col.bads"),
              text("col.default_rate")] + [text(f"metric.{name}") for name in names]
    rows = []
    for record in part.segments.to_dict("records"):
        rows.append([
            text(f"segment.{record['segment_column']}"), _segment_value(record["segment_value"], text),
            text.integer(record["n_rows"]), text.integer(record["n_bads"]), text.share(record["default_rate"]),
        ] + [_metric_cell(record, name, text) for name in names])
    return html_table(header, rows, numeric_from=2)


def _curves(evidence: ModelEvidence, text: _Text) -> str:
    series = []
    notes = []
    for index, part in enumerate(evidence.parts):
        fpr, tpr = part.roc
        if fpr.size == 0:
            notes.append(text("curves_undefined", part=text(f"part.{part.name}"),
                              reason=_undefined_reason(part.metrics, "auc", text)))
            continue
        name = text("roc_series", part=text(f"part.{part.name}"), auc=_metric_text(part.metrics, "auc", text))
        series.append(svg.Series(name, fpr.tolist(), tpr.tolist(), color=svg.color_for(index)))
    series.append(svg.Series(text("chance"), [0.0, 1.0], [0.0, 1.0], color="#999999", dashed=True))
    roc = svg.line_chart(series, title=text("roc_title"), x_label=text("roc_x"), y_label=text("roc_y"),
                         x_range=(0.0, 1.0), y_range=(0.0, 1.0), width=520, height=420)
    charts = [roc] + [_ks_chart(part, text) for part in evidence.parts if part.name in ("valid", "oot")]
    paragraphs = "".join(f'<p class="undefined">{escape(note)}</p>' for note in notes)
    return f'<div class="charts">{"".join(chart for chart in charts if chart)}</div>{paragraphs}'


def _ks_chart(part: PartEvidence, text: _Text) -> str:
    thresholds, share_bads, share_goods = part.ks
    if thresholds.size == 0 or part.ks_at is None:
        return ""
    x = thresholds.tolist()
    series = [
        svg.Series(text("ks_bads"), x, share_bads.tolist(), color=svg.PALETTE[1]),
        svg.Series(text("ks_goods"), x, share_goods.tolist(), color=svg.PALETTE[0]),
        svg.Series(text("ks_line"), [part.ks_at, part.ks_at], [0.0, 1.0], color="#555555", dashed=True),
    ]
    title = text("ks_title", part=text(f"part.{part.name}"), ks=_metric_text(part.metrics, "ks", text))
    return svg.line_chart(series, title=title, x_label=text("ks_x"), y_label=text("ks_y"), y_range=(0.0, 1.0),
                          width=520, height=420)


def _calibration(evidence: ModelEvidence, text: _Text) -> str:
    blocks = [f'<p class="note">{escape(text("calibration_note"))}</p>']
    for part in reversed(evidence.parts):
        content = _calibration_chart(part, text) + _calibration_table(part, evidence.grade_bands, text)
        if part.name == "oot":
            blocks.append(f"<h3>{escape(text('part.oot'))}</h3>{content}")
        else:
            label = text("show_part", part=text(f"part.{part.name}"))
            blocks.append(f"<details><summary>{escape(label)}</summary>{content}</details>")
    return "".join(blocks)


def _calibration_chart(part: PartEvidence, text: _Text) -> str:
    table = part.calibration
    values = {
        text("col.observed"): [None if is_missing(v) else float(v) for v in table["observed_default_rate"]],
        text("col.mean_pd"): [None if is_missing(v) else float(v) for v in table["mean_pd"]],
    }
    return svg.bar_chart(
        [str(grade) for grade in table["grade"]], values,
        title=text("calibration_chart", part=text(f"part.{part.name}")),
        x_label=text("calibration_x"), y_label=text("calibration_y"), width=720, height=360,
        y_format=lambda value: f"{value * 100:.0f}%",
    )


def _calibration_table(part: PartEvidence, bands: pd.DataFrame, text: _Text) -> str:
    header = [text("col.grade"), text("col.pd_band"), text("col.rows"), text("col.bads"), text("col.observed"),
              text("col.mean_pd"), text("col.interval"), text("col.in_interval"), text("col.p_value")]
    band_text = {
        str(row.grade): f"({text.share(row.pd_lower)}, {text.share(row.pd_upper)}]"
        for row in bands.itertuples()
    }
    rows = []
    for record in part.calibration.to_dict("records"):
        empty = record["n_rows"] == 0
        interval = "" if empty else f"[{text.share(record['interval_lower'])}, {text.share(record['interval_upper'])}]"
        if empty:
            in_interval = text("empty_grade")
        else:
            in_interval = text("yes" if record["mean_pd_in_interval"] else "no")
        p_value = record["p_value_above"]
        flagged = not empty and float(p_value) < _SIGNIFICANCE
        rows.append([
            str(record["grade"]), band_text.get(str(record["grade"]), ""), text.integer(record["n_rows"]),
            text.integer(record["n_bads"]), text.share(record["observed_default_rate"]),
            text.share(record["mean_pd"]), interval, in_interval,
            Cell(text.p_value(p_value), css_class="failed" if flagged else ""),
        ])
    return html_table(header, rows)


def _stability(evidence: ModelEvidence, text: _Text) -> str:
    settings = evidence.settings
    watch, alert = text.metric(settings.psi_watch, 2), text.metric(settings.psi_alert, 2)
    score_psi = evidence.stability.get("score_psi")
    gate = next((g for g in evidence.gates if g.get("name") == "max_score_psi"), {})
    sentence = text("score_psi", value=text.metric(score_psi), gate=text.metric(gate.get("threshold")),
                    reading=text(f"reading.{_psi_reading(score_psi, settings)}"))
    features = sorted(evidence.features, key=lambda f: -(f.csi if f.csi is not None else -1.0))
    header = [text("col.feature"), text("col.column"), text("col.csi"), text("col.reading")]
    rows = [
        [feature.label_zh if text.locale == "zh_CN" else feature.label_en, feature.name,
         _psi_cell(feature.csi, settings, text), text(f"reading.{_psi_reading(feature.csi, settings)}")]
        for feature in features
    ]
    return (
        f'<p class="note">{escape(text("stability_note", watch=watch, alert=alert))}</p>'
        f"<p><b>{escape(sentence)}</b></p>" + html_table(header, rows, numeric_from=2)
    )


def _shap(evidence: ModelEvidence, text: _Text) -> str:
    shap = evidence.shap
    position = {name: index for index, name in enumerate(shap.feature_names)}
    rows = []
    for feature in evidence.features:
        column = position[feature.name]
        colour = [None] * shap.rows if feature.categorical else shap.values[:, column].tolist()
        label = feature.label_zh if text.locale == "zh_CN" else feature.label_en
        rows.append(svg.BeeswarmRow(label, shap.contributions[:, column].tolist(), colour))
    chart = svg.beeswarm_chart(rows, title=text("shap_title"), x_label=text("shap_x"),
                               color_label=(text("shap_low"), text("shap_high")), width=900, label_width=230)
    note = text("shap_note", rows=text.integer(shap.rows), seed=shap.seed, base=text.metric(shap.base_value),
                error=f"{shap.max_additivity_error:.1e}")
    return f'<p class="note">{escape(note)}</p>{chart}'


def _challenger(evidence: ModelEvidence, text: _Text) -> str:
    challenger = evidence.challenger
    if not challenger:
        return f"<p>{escape(text('challenger_none'))}</p>"
    parts = [part for part in evidence.parts if isinstance(challenger.get(part.name), Mapping)]
    if not parts and any(name in challenger for name in _METRIC_ROWS):
        # A flat entry contains out-of-time metrics only.
        parts, challenger = [evidence.part("oot")], {**challenger, "oot": challenger}
    header = [text("col.metric")]
    for part in parts:
        header += [f"{text(f'part.{part.name}')}: {text('candidate_model')}",
                   f"{text(f'part.{part.name}')}: {text('challenger_model')}"]
    rows = []
    for name in _METRIC_ROWS:
        row: list[str | Cell] = [text(f"metric.{name}")]
        for part in parts:
            row += [_metric_cell(part.metrics, name, text), _metric_cell(challenger[part.name], name, text)]
        rows.append(row)
    return html_table(header, rows) + _challenger_features(challenger, text)


def _challenger_features(challenger: Mapping[str, object], text: _Text) -> str:
    """List the challenger's features and the ones it dropped, with the reason, when recorded."""
    features = challenger.get("features")
    dropped = challenger.get("dropped_features")
    parts = []
    if isinstance(features, Sequence) and not isinstance(features, str):
        names = text.join(str(name) for name in features)
        parts.append(f"<p>{escape(text('challenger_features', count=len(features), names=names))}</p>")
    if isinstance(dropped, Mapping) and dropped:
        rows = [[str(name), str(reason)] for name, reason in sorted(dropped.items())]
        parts.append(html_table([text("col.column"), text("col.details")], rows, numeric_from=2,
                                caption=text("challenger_dropped")))
    return "".join(parts)


def _gates(evidence: ModelEvidence, text: _Text) -> str:
    if not evidence.gates:
        return f"<p>{escape(text('gates_none'))}</p>"
    header = [text("col.gate"), text("col.value"), text("col.threshold"), text("col.result"), text("col.details")]
    rows = []
    for gate in evidence.gates:
        passed = bool(gate.get("passed"))
        rows.append([
            Cell(f"<code>{escape(str(gate.get('name', '')))}</code>", markup=True),
            text.metric(gate.get("value")), text.metric(gate.get("threshold")),
            Cell(text("passed" if passed else "failed"), css_class="passed" if passed else "failed"),
            Cell(str(gate.get("text_zh" if text.locale == "zh_CN" else "text_en", ""))),
        ])
    return html_table(header, rows, numeric_from=1, numeric_to=3)


def _limitations(evidence: ModelEvidence, text: _Text) -> str:
    from creditlimit.reports.model_limitations import limitations

    items = "".join(f"<li>{escape(item)}</li>" for item in limitations(evidence, text))
    return f"<ul>{items}</ul>"


# ---------------------------------------------------------------------------
# Cells and helpers


class _Text:
    """Texts and number formats of one locale."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def __call__(self, key: str, **params: object) -> str:
        return translate(PREFIX + key, self.locale, **params)

    def metric(self, value: object, digits: int = 4) -> str:
        return format_metric(value, self.locale, digits)

    def share(self, value: object, digits: int = 2) -> str:
        return format_share(value, self.locale, digits)

    def integer(self, value: object) -> str:
        return format_integer(value, self.locale)

    def date(self, value: object) -> str:
        return format_date(value, self.locale)

    def p_value(self, value: object) -> str:
        return format_p_value(value, self.locale)

    def join(self, items: Sequence[str] | object) -> str:
        return self("list_separator").join(items)  # type: ignore[arg-type]


def _metric_text(metrics: Mapping[str, object], name: str, text: _Text) -> str:
    if name not in metrics:
        return text.metric(None)
    value = metrics.get(name)
    if value is None and name not in _COUNT_METRICS:
        return _undefined_reason(metrics, name, text)
    if name in _SHARE_METRICS:
        return text.share(value)
    if name in _COUNT_METRICS:
        return text.integer(value)
    return text.metric(value)


def _metric_cell(metrics: Mapping[str, object], name: str, text: _Text) -> Cell:
    shown = _metric_text(metrics, name, text)
    return Cell(shown, css_class="undefined" if metrics.get(name) is None else "")


def _undefined_reason(metrics: Mapping[str, object], name: str, text: _Text) -> str:
    """Render why ``name`` is undefined, rebuilt from the counts so it is in the report's language."""
    rows, bads = metrics.get("n_rows"), metrics.get("n_bads")
    if rows is not None and bads is not None:
        if int(rows) == 0:
            return translate("model.metrics.undefined_no_rows", text.locale)
        if int(bads) in (0, int(rows)):
            return translate("model.metrics.undefined_one_class", text.locale, goods=int(rows) - int(bads),
                             bads=int(bads))
    reasons = metrics.get("undefined") or {}
    return str(reasons.get(name) or text("undefined"))


def _constraint_text(constraint: int, categorical: bool, text: _Text) -> str:
    if categorical:
        return text("constraint.categorical")
    return text({1: "constraint.up", -1: "constraint.down"}.get(constraint, "constraint.none"))


def _psi_reading(value: object, settings: ReportParams) -> str:
    if is_missing(value):
        return "undefined"
    if float(value) < settings.psi_watch:
        return "stable"
    return "moderate" if float(value) <= settings.psi_alert else "significant"


def _psi_cell(value: object, settings: ReportParams, text: _Text) -> Cell:
    colour = "" if is_missing(value) else svg.heat_color(float(value), 0.0, settings.psi_alert)
    return Cell(text.metric(value), background=colour)


def _segment_value(value: object, text: _Text) -> str:
    if value is None or is_missing(value):
        return text("segment.missing")
    if isinstance(value, bool | np.bool_):
        return text("yes" if value else "no")
    # thin_file is "yes" / "no" in models/segments.py.
    if value in ("yes", "no"):
        return text(str(value))
    return str(value)


def _ratio(numerator: object, denominator: object) -> float | None:
    if is_missing(numerator) or is_missing(denominator) or not float(denominator):
        return None
    return float(numerator) / float(denominator)


def _log_to_mlflow(paths: Mapping[str, Path], *, tracking_uri: str, run_id: str) -> None:
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri)
    for path in paths.values():
        client.log_artifact(run_id, str(path), REPORT_FOLDER)
    log.info("model report logged to MLflow run %s under %s/", run_id, REPORT_FOLDER)

