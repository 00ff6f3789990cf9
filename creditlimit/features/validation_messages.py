"""Reason texts and error messages of table validation, in en and zh_CN.

Importing this module registers every ``validation.`` message key with
:mod:`creditlimit.i18n`.
"""

from __future__ import annotations

from creditlimit.features.contract import CREDIT_EVENT_TYPES, DOCUMENT_TYPES
from creditlimit.features.fx import NO_FX_RATE, UNKNOWN_CURRENCY
from creditlimit.i18n import register

__all__ = ["REASON_CODES", "DROP_REASON_CODES"]

_ROW = "{file} row {row}: "
_ROW_ZH = "{file} 第 {row} 行："
_REASON_TEXTS = {
    "missing_key": (
        _ROW + "key column '{column}' is empty. Fill in {column}, or remove the row.",
        _ROW_ZH + "主键列“{column}”为空。请填写 {column}，或删除该行。",
    ),
    "missing_value": (
        _ROW + "required column '{column}' is empty. Fill in a value for {column}.",
        _ROW_ZH + "必填列“{column}”为空。请为 {column} 填写值。",
    ),
    "value_too_long": (
        _ROW + "{column} is {length} characters long, more than the {max_length} any value "
        "of the contract may have (it starts '{value}'). Correct the value; a quote "
        "that is never closed can also join many lines into one value.",
        _ROW_ZH + "{column} 长 {length} 个字符，超过数据约定允许的 {max_length} 个字符"
        "（开头为“{value}”）。请更正该值；未闭合的引号也可能把多行合并成一个值。",
    ),
    "scientific_notation_id": (
        _ROW + "{column} '{value}' is an id written in scientific notation, as Excel "
        "shows long numbers, so its last digits are lost. Format the column as Text in "
        "Excel, enter the full id and export again.",
        _ROW_ZH + "{column} 的值“{value}”是以科学计数法书写的编号（Excel 显示长数字的方式），"
        "其末尾数字已丢失。请在 Excel 中将该列设为“文本”格式，填写完整编号后重新导出。",
    ),
    "invalid_date": (
        _ROW + "{column} '{value}' is not an ISO date. Write the date as YYYY-MM-DD "
        "(for example 2024-03-01), because other date formats are never guessed.",
        _ROW_ZH + "{column} 的值“{value}”不是 ISO 格式的日期。请按 YYYY-MM-DD 填写"
        "（例如 2024-03-01），系统不会猜测其他日期格式。",
    ),
    "invalid_number": (
        _ROW + "{column} '{value}' is not a valid number. Write a decimal number between "
        "-1e15 and 1e15 with a dot as decimal mark and no thousands separator (for example 1234.56).",
        _ROW_ZH + "{column} 的值“{value}”不是有效数字。请填写介于 -1e15 与 1e15 之间的十进制数，"
        "用点作小数点，不加千位分隔符（例如 1234.56）。",
    ),
    "invalid_integer": (
        _ROW + "{column} '{value}' is not a whole number. Write digits only (for example 30).",
        _ROW_ZH + "{column} 的值“{value}”不是整数。请只填写数字（例如 30）。",
    ),
    "invalid_bool": (
        _ROW + "{column} '{value}' is not a boolean. Write true or false "
        "(1/0 and yes/no are also accepted).",
        _ROW_ZH + "{column} 的值“{value}”不是布尔值。请填写 true 或 false（也接受 1/0、yes/no）。",
    ),
    "implausible_date": (
        _ROW + "{column} {value} is before 1900-01-01, which no record can be. A "
        "spreadsheet writes such dates for an empty cell. Enter the real date as "
        "YYYY-MM-DD, or leave the cell empty if the column is optional.",
        _ROW_ZH + "{column} 的日期 {value} 早于 1900-01-01，任何记录都不可能如此。"
        "电子表格会为空单元格写出这类日期。请按 YYYY-MM-DD 填写实际日期；"
        "如该列为选填，请留空。",
    ),
    "negative_value": (
        _ROW + "{column} {value} is negative. Enter 0 or a positive value.",
        _ROW_ZH + "{column} 的值 {value} 为负数。请填写 0 或正数。",
    ),
    "invalid_document_type": (
        _ROW + "document_type '{value}' is not allowed. Use one of: "
        + ", ".join(DOCUMENT_TYPES) + ".",
        _ROW_ZH + "document_type 的值“{value}”无效。请使用以下之一："
        + "、".join(DOCUMENT_TYPES) + "。",
    ),
    "negative_invoice_amount": (
        _ROW + "invoice amount {value} is negative. Correct the amount, or enter the "
        "reduction as a credit_note row with a reference_id.",
        _ROW_ZH + "发票金额 {value} 为负数。请更正金额，或将冲减录为带 reference_id 的 credit_note 行。",
    ),
    "zero_invoice_amount": (
        _ROW + "invoice amount {value} is zero. Enter the invoiced amount, or remove the "
        "row if nothing was invoiced (an export may write 0 for an empty amount).",
        _ROW_ZH + "发票金额 {value} 为零。请填写开票金额；如未开票，请删除该行"
        "（导出时可能把空金额写成 0）。",
    ),
    "credit_note_not_negative": (
        _ROW + "credit note amount {value} is not negative. Enter a credit note with a "
        "negative amount.",
        _ROW_ZH + "贷项通知单金额 {value} 不是负数。请以负数金额录入贷项通知单。",
    ),
    "credit_note_without_reference": (
        _ROW + "credit note has no reference_id. Fill in reference_id with the "
        "document_id of the invoice it reduces.",
        _ROW_ZH + "贷项通知单缺少 reference_id。请在 reference_id 中填写其冲减的发票的 document_id。",
    ),
    "due_before_issue": (
        _ROW + "due_on {value} is before issued_on {issued_on}. Correct one of the two dates.",
        _ROW_ZH + "到期日 due_on {value} 早于开票日 issued_on {issued_on}。请更正其中一个日期。",
    ),
    "published_before_period_end": (
        _ROW + "published_on {value} is before period_end {period_end}, but a statement "
        "is published after its period ends. Correct one of the two dates.",
        _ROW_ZH + "发布日 published_on {value} 早于报告期末 period_end {period_end}，"
        "而财务报表应在报告期结束后发布。请更正其中一个日期。",
    ),
    "invalid_event_type": (
        _ROW + "event_type '{value}' is not allowed. Use one of: "
        + ", ".join(CREDIT_EVENT_TYPES) + ".",
        _ROW_ZH + "event_type 的值“{value}”无效。请使用以下之一："
        + "、".join(CREDIT_EVENT_TYPES) + "。",
    ),
    "invalid_fx_rate": (
        _ROW + "rate_to_base {value} is not greater than 0. Enter the number of "
        "base-currency units per unit of the currency.",
        _ROW_ZH + "rate_to_base 的值 {value} 不大于 0。请填写每单位该币种折合的本位币金额。",
    ),
    "non_positive_payment": (
        _ROW + "payment amount {value} is not greater than 0. Correct the amount. "
        "A reduction of an invoice belongs in invoices as a credit_note.",
        _ROW_ZH + "付款金额 {value} 不大于 0。请更正金额；发票的冲减应在 invoices 中录为 credit_note。",
    ),
    "future_date": (
        _ROW + "{column} {value} is after the latest allowed date {limit}. Correct the "
        "date, or remove the row if the record is not final.",
        _ROW_ZH + "{column} 的日期 {value} 晚于允许的最晚日期 {limit}。请更正日期；"
        "如该记录尚未最终确定，请删除该行。",
    ),
    "exact_duplicate": (
        _ROW + "exact copy of another row with key {value}. One copy is kept and this "
        "row is dropped.",
        _ROW_ZH + "与键为 {value} 的另一行完全相同。保留一份，删除该行。",
    ),
    "duplicate_key_conflict": (
        _ROW + "key {column} = {value} appears in {count} rows with different content. "
        "Keep one correct row for this key.",
        _ROW_ZH + "键 {column} = {value} 出现在 {count} 行中且内容不同。请为该键只保留一行正确的数据。",
    ),
    "unknown_customer": (
        _ROW + "customer_id '{value}' is not an accepted customer. Add the customer to "
        "customers or correct the customer_id. A customer rejected by validation is "
        "listed in the customers quarantine file.",
        _ROW_ZH + "customer_id“{value}”不是已通过校验的客户。请在 customers 中添加该客户，"
        "或更正 customer_id。未通过校验的客户列在 customers 的隔离文件中。",
    ),
    UNKNOWN_CURRENCY: (
        _ROW + "currency '{value}' is neither the base currency {base_currency} nor "
        "listed in fx_rates. Correct the currency code, or add rates for {value} to fx_rates.",
        _ROW_ZH + "币种“{value}”既不是本位币 {base_currency}，也不在 fx_rates 中。"
        "请更正币种代码，或在 fx_rates 中添加 {value} 的汇率。",
    ),
    NO_FX_RATE: (
        _ROW + "{column} '{value}' cannot be converted to {base_currency}, because "
        "fx_rates has no {currency} rate dated on or before {date}. Add a {currency} "
        "rate dated on or before {date} to fx_rates.",
        _ROW_ZH + "{column}“{value}”无法折算为 {base_currency}，因为 fx_rates 中没有 "
        "{date} 当日或之前的 {currency} 汇率。请在 fx_rates 中添加 {date} 当日或之前的 "
        "{currency} 汇率。",
    ),
    "unknown_reference": (
        _ROW + "reference_id '{value}' is not an accepted invoice of customer "
        "{customer_id}. Set reference_id to the document_id of an invoice of the same customer.",
        _ROW_ZH + "reference_id“{value}”不是客户 {customer_id} 已通过校验的发票。"
        "请将 reference_id 设为同一客户某张发票的 document_id。",
    ),
    "unknown_document": (
        _ROW + "document_id '{value}' is not an accepted invoice of customer "
        "{customer_id}. Correct document_id, or leave it empty for a payment that "
        "settles no single invoice.",
        _ROW_ZH + "document_id“{value}”不是客户 {customer_id} 已通过校验的发票。"
        "请更正 document_id；如该付款不对应单张发票，请留空。",
    ),
}

REASON_CODES = tuple(_REASON_TEXTS)
"""Every reason code, in the order the rules are applied."""
DROP_REASON_CODES = ("exact_duplicate",)
"""Reason codes that drop a row (counted) instead of quarantining it."""

register({
    f"validation.reason.{code}": {"en": en, "zh_CN": zh}
    for code, (en, zh) in _REASON_TEXTS.items()
})
register({
    "validation.too_many_rejects": {
        "en": "Table {table}: {share:.1%} of rows were quarantined ({quarantined} of "
              "{rows_in}), more than the limit of {limit:.1%}. Top reasons: {reasons}. "
              "Correct the rows listed in {quarantine_file}, or raise "
              "validation.max_reject_share in params.yaml.",
        "zh_CN": "表 {table}：{share:.1%} 的行被隔离（{rows_in} 行中有 {quarantined} 行），"
                 "超过上限 {limit:.1%}。主要原因：{reasons}。请更正 {quarantine_file} "
                 "中列出的行，或提高 params.yaml 中的 validation.max_reject_share。",
    },
    "validation.too_many_rejects_several": {
        "en": "Table {table}: {share:.1%} of rows were quarantined ({quarantined} of "
              "{rows_in}), more than the limit of {limit:.1%}. Top reasons: {reasons}. "
              "Correct the rows listed in {quarantine_file}, or raise "
              "validation.max_reject_share in params.yaml. Other tables over the "
              "limit: {others}.",
        "zh_CN": "表 {table}：{share:.1%} 的行被隔离（{rows_in} 行中有 {quarantined} 行），"
                 "超过上限 {limit:.1%}。主要原因：{reasons}。请更正 {quarantine_file} "
                 "中列出的行，或提高 params.yaml 中的 validation.max_reject_share。"
                 "其他超过上限的表：{others}。",
    },
    "validation.invalid_share": {
        "en": "{name} must be a number in [0, 1]; got {value!r}. Correct {name} in params.yaml.",
        "zh_CN": "{name} 必须是 [0, 1] 区间内的数字，实际为 {value!r}。请在 params.yaml 中更正 {name}。",
    },
    "validation.missing_param": {
        "en": "{name} is missing. Add it to params.yaml.",
        "zh_CN": "缺少参数 {name}。请在 params.yaml 中添加该参数。",
    },
    "validation.unknown_param": {
        "en": "{name} is not a validation parameter (known: {known}). Remove it or "
              "correct its spelling in params.yaml.",
        "zh_CN": "{name} 不是校验参数（可用参数：{known}）。请在 params.yaml 中删除该参数或更正拼写。",
    },
    "validation.invalid_base_currency": {
        "en": "data.base_currency must be a currency code such as CNY; got {value!r}. "
              "Correct it in params.yaml.",
        "zh_CN": "data.base_currency 必须是币种代码（例如 CNY），实际为 {value!r}。"
                 "请在 params.yaml 中更正。",
    },
})
