"""Canonical input tables: names, keys, required and optional columns and kinds.

This is the data contract every loader, adapter and generator follows. Columns
are selected by name, never by position. Column kinds:

``str``
    Text; identifiers are kept as text (leading zeros matter).
``date``
    ISO 8601 calendar date ``YYYY-MM-DD``.
``float``
    Amount or ratio. Amounts are in the row's ``currency``.
``int``
    Whole number.
``bool``
    ``true``/``false`` (also ``1``/``0``, ``yes``/``no``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "TableSpec",
    "TABLES",
    "TABLE_ORDER",
    "DOCUMENT_TYPES",
    "CREDIT_EVENT_TYPES",
    "LINE_ITEMS",
]

DOCUMENT_TYPES = ("invoice", "credit_note")
CREDIT_EVENT_TYPES = ("default", "write_off", "bankruptcy", "legal_action", "restructuring")
LINE_ITEMS = (
    "revenue",
    "net_profit",
    "total_assets",
    "current_assets",
    "total_liabilities",
    "current_liabilities",
    "equity",
    "operating_cash_flow",
)


@dataclass(frozen=True)
class TableSpec:
    """Contract of one canonical table.

    Attributes
    ----------
    name : str
        Table name, also the file stem (``customers.csv`` or ``customers.parquet``).
    key : tuple of str
        Columns that identify a row.
    required : dict of str to str
        Required column name to kind.
    optional : dict of str to str
        Optional column name to kind.
    date_column : str or None
        The date that places the row in time (point-in-time filters use it).
    """

    name: str
    key: tuple[str, ...]
    required: dict[str, str]
    optional: dict[str, str] = field(default_factory=dict)
    date_column: str | None = None

    @property
    def columns(self) -> dict[str, str]:
        """All known columns, required first, with their kinds."""
        return {**self.required, **self.optional}


TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        name="customers",
        key=("customer_id",),
        required={
            "customer_id": "str",
            "industry": "str",
            "onboarded_on": "date",
            "payment_terms_days": "int",
            "currency": "str",
        },
        optional={
            "name": "str",
            "region": "str",
            "size_class": "str",
            "group_id": "str",
            "credit_limit": "float",
            "limit_locked": "bool",
            "limit_valid_to": "date",
        },
        date_column="onboarded_on",
    ),
    "financial_statements": TableSpec(
        name="financial_statements",
        key=("customer_id", "period_end"),
        required={
            "customer_id": "str",
            "period_end": "date",
            "published_on": "date",
            "currency": "str",
            **{item: "float" for item in LINE_ITEMS},
        },
        optional={
            "cost_of_sales": "float",
            "operating_profit": "float",
            "interest_expense": "float",
            "cash": "float",
            "inventory": "float",
            "receivables": "float",
            "audited": "bool",
        },
        date_column="published_on",
    ),
    "invoices": TableSpec(
        name="invoices",
        key=("document_id",),
        required={
            "document_id": "str",
            "document_type": "str",
            "customer_id": "str",
            "issued_on": "date",
            "due_on": "date",
            "amount": "float",
            "currency": "str",
        },
        optional={"reference_id": "str", "disputed": "bool"},
        date_column="issued_on",
    ),
    "payments": TableSpec(
        name="payments",
        key=("payment_id",),
        required={
            "payment_id": "str",
            "customer_id": "str",
            "paid_on": "date",
            "amount": "float",
            "currency": "str",
        },
        optional={"document_id": "str"},
        date_column="paid_on",
    ),
    "credit_events": TableSpec(
        name="credit_events",
        key=("customer_id", "event_on", "event_type"),
        required={"customer_id": "str", "event_on": "date", "event_type": "str"},
        optional={"amount": "float"},
        date_column="event_on",
    ),
    "fx_rates": TableSpec(
        name="fx_rates",
        key=("currency", "rate_on"),
        required={"currency": "str", "rate_on": "date", "rate_to_base": "float"},
        date_column="rate_on",
    ),
}

# Load order: fx rates first (amounts need them), customers before the tables
# that reference them.
TABLE_ORDER = (
    "fx_rates",
    "customers",
    "financial_statements",
    "invoices",
    "payments",
    "credit_events",
)
