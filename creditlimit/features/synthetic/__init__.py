"""Generate a deterministic synthetic trade-credit portfolio with its true PD.

Notes
-----
The generator builds the six canonical tables of the data contract for a
portfolio of business customers over ``months`` calendar months starting at
``start`` (the first day of a month). The history ends at the start of month
``start + months``: that day is the scoring date and no record is dated on or
after it. Onboarding dates reach back up to 60 months before ``start`` and the
earliest financial statements are for fiscal year ``start.year - 2``, so every
record date lies in ``[start - 60 months, start + months)``. Invoices,
payments and credit events start at ``start``. Two dates are not record dates
and may lie after the end: an invoice's ``due_on`` and a temporary limit's
``limit_valid_to``. The same arguments always give the same tables.

**Customers.** Each customer gets an industry (manufacturing, wholesale,
retail, construction, services, agriculture or technology), a size class
(small, medium, large) and a region (a Chinese province in pinyin, about 1 %
missing). Payment terms are 30, 45, 60 or 90 days, longer for larger
customers. Most customers trade in the base currency and about 10 % in USD
(in CNY when the base currency is USD). About 40 % were onboarded before ``start`` and the
rest are onboarded evenly over the history. There is one group per 100
customers (at least one), each with 3 to 6 members sharing ``group_id``.
``limit_locked`` is True for about 2 % and missing for about 3 %, and about 3 %
hold a temporary limit with a ``limit_valid_to`` date.

**Current credit limits.** ``credit_limit`` is the limit the credit department
set at its last review, at a month start 6 to 12 months before the end (drawn
per customer). The department used the rules of the batch scorer with its own
view of the risk: the exposure is the average monthly invoiced amount (net of
credit notes, base currency) of the 6 months before the review times ``(terms +
days late + 60) / 30``, where days late is the customer's mean over the invoices
fully paid in those months (0 when none). The capacity is ``min(0.10 equity,
0.08 revenue)`` of the latest statement published before the review whose period
ended at most 24 months earlier (0 for negative equity or zero revenue). The
limit is ``min(capacity, exposure)`` times a risk factor, times the industry
factor (construction 0.8, agriculture 0.85, retail 0.9, others 1), times a
log-normal noise with sigma 0.15. It is clipped to [10,000, 5,000,000] and
capped at 50,000 without such a statement. The risk factor comes from the
department's 12-month default PD, computed from the hazard formula with ``z``
plus ``N(0, 0.3^2)`` noise at the review. It falls from 1.1 at a PD of 0.5 %
through 1.0 (2 %), 0.8 (5 %), 0.6 (10 %) and 0.4 (20 %) to 0.25 at 40 % and
above, linear in log PD. A customer onboarded less than 6 months before the
review got its limit at onboarding, with no days late, from its expected
purchases (the monthly volume times ``exp(0.15 z)`` and a log-normal error with
sigma 0.3) and the statements known then. The limit is converted to the
customer's currency at the latest rate and rounded to 1,000, at least the
minimum. Customers that defaulted more than 2 months before the end have limit 0
(suspended), and customers onboarded in the last 3 months have none (missing).

**Latent credit quality.** Each customer has a latent quality ``z`` (higher is
better). At ``start``, ``z ~ N(0, 1)``, and group members share a group factor
(``z = 0.6 g + 0.8 e``). Quality drifts as a slow random walk with mean
reversion, ``z_t = rho z_{t-1} + sqrt(1 - rho^2) e_t`` with ``rho = 0.99``, so
the cross-section stays ``N(0, 1)`` while each customer's path wanders.
Because defaults come from low ``z``, behaviour worsens before a default.

**Default hazard.** The monthly default hazard is

    h(t) = sigmoid(a_0 + a_industry + b z_t + s_industry d(t))

with ``a_0 = -6.5`` and ``b = -1.8`` (negative because a higher quality means
a lower hazard). The industry offsets ``a_industry`` range from -0.2
(services) to +0.55 (construction). The downturn ``d(t)`` is zero until the
last 12 months of the history, then ramps linearly over 6 months to +0.8 on
the logit scale, scaled by an industry sensitivity ``s_industry`` from 0.7 to
1.5. A customer can default from its first full month after onboarding (from
``start`` for customers onboarded earlier), on a day drawn uniformly within
the month. The downturn also raises payment stress, so the last year of the
history drifts away from the years before it.

**Default and its consequences.** A defaulting customer stops paying. Every
invoice issued in a distress window before the default (75 to 180 days, drawn
per customer) stays unpaid, and no payment is dated on or after the default day, so invoices reach 90+ days past
due. A ``default`` credit event is written on the default day with the open
amount. Of the defaults, 40 % are followed by a ``write_off`` 60 to 270 days
later (60-100 % of the open amount) and 20 % by a ``bankruptcy`` 30 to 360 days
later (no amount). 30 % bring a ``legal_action`` 15 to 120 days later.
After a default the customer receives no invoices and publishes no
statements. Customers not in default get ``legal_action`` events with monthly
probability ``0.3 h(t)`` and ``restructuring`` events with ``0.15 h(t)``, so
these events mark stress without being defaults. Event amounts are in the
customer's currency. With the ``params.yaml`` defaults (3,000 customers, 48
months, seed 20261204) about 7 % of the customer-month snapshots with a
complete 12-month window are bad under the ``params.yaml`` default definition
(an invoice 90+ days past due with at least 100 open, or a default, write-off
or bankruptcy event). The constants were tuned so that the LightGBM model of
the training stage reaches an out-of-time AUC of about 0.77-0.81 at that size
(three seeds, measured while the generator was developed). The training stage
reports the actual value.

NOTE: the snapshots compute ``utilisation`` of past months against the current
limit. That limit is 0 for suspended defaulters and missing for new customers,
so a missing utilisation tells the model that the customer defaults later. With
these limits the demo's OOT AUC is about 0.98 (0.82 when defaulters keep their
review limit) and new customers score like defaulters.

**Financial statements.** Yearly statements with ``period_end`` on
December 31 are published 60 to 180 days later, in the customer's currency
and rounded to whole units. They cover the fiscal years from two years before
onboarding, but not before ``start.year - 2``. The statement quality ``q`` is
``z`` in the month of the period end (before ``start``, a backcast of the same
random walk) plus noise ``N(0, 0.3^2)``. Ratios are noisy functions of ``q``
and the industry: debt to assets ``min(0.5 exp(-0.28 q + N(0, 0.2^2)), 2.5)``
(above 1, so negative equity, in about 2 % of statements), current ratio
``exp(ln 1.35 + 0.18 q + N(0, 0.25^2))``, net margin ``industry margin + 0.03
q + N(0, 0.03^2)``, gross margin, asset turnover by industry, interest at 3-7
% on 30-80 % of the liabilities, and operating cash flow ``net profit + 0.04 total assets + 0.04
revenue (0.5 q + N(0, 1))``. Revenue grows 5 % a year, moves with ``0.08 q``
and falls with the downturn. The accounts are consistent: ``equity =
total_assets - total_liabilities``, ``current_assets <= total_assets``,
``current_liabilities <= total_liabilities`` and ``cash + inventory +
receivables <= current_assets``. Some values are missing: interest expense
(30 % of small firms, 15 % of others), operating profit (10 %), cost of sales
(8 %), cash, inventory and receivables (18 % of small firms, 8 % of others,
each) and audited (10 %). A few denominators are zero: current liabilities in
about 0.4 % of statements, revenue in about 0.3 %, and interest expense for
half of the firms with debt to assets below 0.3. About 8 % of customers stop
sending statements after onboarding (stale financials), 4 % of the later
statements are skipped, and about 5 % of customers are thin-file: no
statements at all and at most 2 invoices.

**Invoices and payments.** Invoice counts per customer-month are Poisson with
a mean of 2, 4 or 8 (small, medium, large) times a seasonal factor (February
0.7, December 1.15) times ``exp(0.15 z_t)``. An invoice's amount is the
customer's monthly volume (1-4 % of annual revenue / 12) divided by that mean,
times a log-normal factor (sigma 0.5) and at least 200 in the base currency,
converted to the customer's currency at the month's rate and rounded to
cents. ``due_on = issued_on + payment_terms_days``. Payment behaviour depends
on the stress ``-z_t + 0.6 s_industry d(t) + 1.0 r`` and a customer habit
``u ~ N(0, 0.3^2)``, where ``r`` rises linearly from 0 to 1 over the 365 days
before a default (0 for customers that do not default). An invoice is paid
late with probability ``sigmoid(-1.5 + 1.1 stress + u)``, then ``ceil(exp(ln
7 + 0.55 stress + 0.5 u + N(0, 0.6^2)))`` days after ``due_on`` (at most 720),
and otherwise 0 to 9 days early. Invoices are disputed with probability
``sigmoid(-3.3 + 0.5 stress)`` (about 4 %), and disputed invoices are paid 15
to 60 days later. About 8 % of settled invoices are paid in two parts, the
first 7 to 35 days before the final payment. About 3 % of invoices (20 % of
the disputed ones) get a credit note: a ``credit_note`` document dated after
the invoice and before its first payment, with ``reference_id`` naming the
invoice and a negative amount of 5-60 % of the invoice (15 % of credit notes
cancel the invoice). A credit note carries its invoice's ``due_on``.
Payments settle the invoice amount net of its credit note. Payments dated on
or after the end of the history are not written, so those invoices stay
open. Document ids are ``INV`` (invoices), ``CRN`` (credit notes) and ``PAY``
(payments) followed by a chronological number.

**Exchange rates.** ``fx_rates`` holds the USD rate to the base currency at
every month start from 60 months before ``start`` to the last month of the
history: a mean-reverting walk around 7.15 CNY per USD, clipped to [7.0, 7.3]
(the CNY rate ``1 / rate`` when the base currency is USD). Amounts are sized
in CNY-like units whatever the base currency.

**True PD.** ``true_pd`` has one row per customer and month start at which
the customer was onboarded before that day and has no default before it. Its
``pd_12m_true = 1 - prod_{k=0..11} (1 - E[h(t+k) | z_t])`` integrates the
conditional normal distribution of ``z_{t+k}`` given ``z_t`` with 5-point
Gauss-Hermite quadrature. After the end of the history the downturn stays at
its last level. Taking the expected hazard month by month ignores the
correlation of the hazards within the window, so ``pd_12m_true`` is the
probability of a ``default`` event under that approximation. It does not
count invoices 90+ days past due without a default, so it is lower than the
observed bad rate. ``defaulted_by`` is the customer's default date, or
missing. The table is written under ``_truth/`` and is never a model input.

**Injected faults.** With ``dirty_share`` above 0, faulty rows are added so
that validation has rows to drop and quarantine. Each kind is named after the
validation reason code it triggers (``FAULT_KINDS``). Customers get exact
duplicates, same-key pairs and unknown currencies. Statements get those and
unknown customers. Invoices get all of these plus negative invoice amounts and
``due_on`` before ``issued_on``, and payments get them plus payments for an
unknown document. Each table gets ``floor(dirty_share x rows)`` faulty rows
at random positions, split evenly over its kinds (a same-key pair takes two
rows), so its quarantined share stays below ``dirty_share``. Of these, the CSV
files of invoices and payments hold one row per 20, at most 5, of each kind
that only text can hold (``CSV_ONLY_FAULT_KINDS``): a US-style date
(``03/01/2024``) and an amount with a thousands separator (``1,234.56``).
Parquet files leave these rows out. Apart from the exact
duplicates, which copy a clean row, every faulty row is a new row built from a
clean one, with a key or reference that no clean row has: ids numbered after
the last clean id, unknown currency ``XYZ``, and statement period ends at the
end of March, June or September. So validation keeps the same rows with or
without them. The faults use their own random stream, and
``SamplePortfolio.injected_faults`` lists every faulty row.

**Package layout.** ``portfolio`` holds the parameters, the generation entry
point and the summary, ``latent`` the calendar, exchange rates, customer
traits and latent quality, ``documents`` the invoices and payments,
``statements`` the financial statements, ``limits`` the current credit
limits, ``frames`` the table frames, ``faults`` the injected faults and
``files`` the writing of Parquet and CSV files.
"""

from creditlimit.features.synthetic.faults import CSV_ONLY_FAULT_KINDS, FAULT_KINDS
from creditlimit.features.synthetic.files import write_portfolio
from creditlimit.features.synthetic.latent import INDUSTRIES, REGIONS, SIZE_CLASSES, TRUE_PD_COLUMNS
from creditlimit.features.synthetic.portfolio import (
    SampleParams,
    SamplePortfolio,
    generate_portfolio,
    sample_summary,
)

__all__ = [
    "INDUSTRIES",
    "SIZE_CLASSES",
    "REGIONS",
    "TRUE_PD_COLUMNS",
    "FAULT_KINDS",
    "CSV_ONLY_FAULT_KINDS",
    "SampleParams",
    "SamplePortfolio",
    "generate_portfolio",
    "write_portfolio",
    "sample_summary",
]
