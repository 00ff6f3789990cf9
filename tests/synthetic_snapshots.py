"""A seeded synthetic table of labelled monthly snapshots, shared by the model and stage tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from creditlimit.features.catalog import CATEGORICAL_FEATURES, FEATURE_NAMES

__all__ = ["make_training_table", "with_context_columns"]

INDUSTRIES = (
    "agriculture", "construction", "manufacturing", "retail", "services", "technology", "wholesale",
)
SIZE_CLASSES = ("large", "medium", "small")


def make_training_table(
    *, n_customers: int, n_months: int, seed: int, base_logit: float = -3.8
) -> pd.DataFrame:
    """Build labelled monthly snapshots whose features follow a latent risk.

    Each customer has a latent risk that drifts a little each month. Every feature
    is a noisy function of it, with the sign the monotone constraints expect, and
    ``is_bad`` is drawn from ``logistic(base_logit + 1.2 * risk + industry effect)``.
    About 10 % of customers have no statements (all financial features missing), and
    some payment features are missing for other reasons, as in real portfolios.
    """
    rng = np.random.default_rng(seed)
    n_rows = n_customers * n_months
    customer = np.repeat(np.arange(n_customers), n_months)
    month = np.tile(np.arange(n_months), n_customers)
    risk = rng.normal(size=n_customers)[customer] + 0.35 * rng.normal(size=n_rows)

    def noise(scale: float) -> np.ndarray:
        return rng.normal(0.0, scale, n_rows)

    industry = np.array(INDUSTRIES, dtype=object)[rng.integers(0, len(INDUSTRIES), n_customers)]
    industry[rng.random(n_customers) < 0.03] = None
    size_class = np.array(SIZE_CLASSES, dtype=object)[rng.integers(0, 3, n_customers)]
    size_class[rng.random(n_customers) < 0.05] = None
    has_statements = (rng.random(n_customers) > 0.10)[customer]
    log_revenue = rng.normal(17.0, 1.0, n_customers)[customer]
    invoiced_12m = np.exp(log_revenue) * 0.05 * rng.uniform(0.5, 1.5, n_rows)
    invoiced_6m = invoiced_12m * rng.uniform(0.4, 0.6, n_rows)
    invoiced_3m = invoiced_6m * rng.uniform(0.4, 0.6, n_rows)
    mean_days_late = np.maximum(0.0, 5.0 + 6.0 * risk + noise(4.0))
    current_ratio = np.exp(0.35 - 0.2 * risk + noise(0.15))

    columns = {
        "customer_id": np.char.add("C", customer.astype(str)).astype(object),
        "as_of": pd.DatetimeIndex(pd.date_range("2022-01-01", periods=n_months, freq="MS"))[month],
        "debt_to_assets": np.clip(0.55 + 0.12 * risk + noise(0.08), 0.02, 1.6),
        "current_ratio": current_ratio,
        "quick_ratio": current_ratio * rng.uniform(0.5, 0.9, n_rows),
        "interest_coverage": np.where(
            rng.random(n_rows) < 0.08, np.nan, np.exp(1.5 - 0.5 * risk + noise(0.4))
        ),
        "ocf_to_liabilities": 0.15 - 0.07 * risk + noise(0.05),
        "net_margin": 0.05 - 0.03 * risk + noise(0.02),
        "roa": 0.04 - 0.025 * risk + noise(0.02),
        "revenue_growth": 0.05 - 0.04 * risk + noise(0.10),
        "log_revenue": log_revenue,
        "statement_age_months": rng.integers(1, 20, n_rows).astype(np.float64),
        "invoiced_3m": invoiced_3m,
        "invoiced_6m": invoiced_6m,
        "invoiced_12m": invoiced_12m,
        "mean_days_late_12m": mean_days_late,
        "max_days_late_12m": mean_days_late + np.abs(noise(10.0)) + 5.0 * np.maximum(risk, 0.0),
        "share_paid_30p_late_12m": np.clip(0.05 + 0.06 * risk + noise(0.03), 0.0, 1.0),
        "overdue_amount": invoiced_3m * np.clip(0.05 + 0.05 * risk + noise(0.03), 0.0, 1.0),
        "max_dpd_now": np.maximum(0.0, 3.0 + 10.0 * risk + noise(8.0)),
        "dso_days": 45.0 + 8.0 * risk + noise(6.0),
        "open_exposure": invoiced_3m * rng.uniform(0.5, 1.0, n_rows),
        "disputed_share_12m": np.clip(0.02 + 0.02 * risk + noise(0.01), 0.0, 1.0),
        "months_since_last_late": np.where(
            rng.random(n_rows) < 0.2, np.nan, np.clip(12.0 - 4.0 * risk + noise(3.0), 0.0, 36.0)
        ),
        "tenure_months": (rng.integers(0, 60, n_customers)[customer] + month).astype(np.float64),
        "invoice_count_12m": rng.poisson(20, n_rows).astype(np.float64),
        "industry": industry[customer],
        "size_class": size_class[customer],
    }
    table = pd.DataFrame(columns)
    financial = [
        "debt_to_assets", "current_ratio", "quick_ratio", "interest_coverage",
        "ocf_to_liabilities", "net_margin", "roa", "revenue_growth", "log_revenue",
        "statement_age_months",
    ]
    table.loc[~has_statements, financial] = np.nan

    industry_effect = np.select(
        [table["industry"].to_numpy() == "construction", table["industry"].to_numpy() == "retail"],
        [0.4, 0.2],
        0.0,
    )
    logit = base_logit + 1.2 * risk + industry_effect + 0.3 * (~has_statements)
    table["is_bad"] = (rng.random(n_rows) < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)
    assert list(table.columns[2:-1]) == list(FEATURE_NAMES)
    assert set(CATEGORICAL_FEATURES) == {"industry", "size_class"}
    return table


def with_context_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Add the context columns the train stage's segments read: ``has_statements`` and ``revenue_base``."""
    has_statements = table["log_revenue"].notna()
    return table.assign(
        has_statements=has_statements,
        revenue_base=np.where(has_statements, np.exp(table["log_revenue"]), np.nan),
    )
