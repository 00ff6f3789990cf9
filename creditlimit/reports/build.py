"""Write the credit usage report folder of one run: portfolio pages, customer pages, index.

Layout of ``data/reports/as_of=YYYY-MM-DD/``::

    index.html                      opens the report in the first configured locale
    report.<locale>.html            portfolio report (信用使用情况报告)
    customers/<id>.<locale>.html    one page per customer

Every page links to the same page in the other locale. The folder is written to a
temporary name and renamed into place, so a failed build leaves the previous
report intact.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from creditlimit.reports.customer_pages import CustomerIndex, customer_ids, render_customer_page
from creditlimit.reports.inputs import ReportInputs
from creditlimit.reports.page import OTHER_LOCALE, Formatter, escape, page_name
from creditlimit.reports.params import ReportParams
from creditlimit.reports.portfolio import render_portfolio

__all__ = ["ReportBuild", "write_report", "report_file", "customer_file"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportBuild:
    """Result of a report build: the folder, its entry page, page count, bytes and timings."""

    folder: Path
    index: Path
    pages: int
    size_bytes: int
    timings: dict[str, float]


def report_file(locale: str) -> str:
    """File name of the portfolio report in ``locale``."""
    return f"report.{locale}.html"


def customer_file(customer_id: str, locale: str) -> str:
    """Path of a customer page relative to the report folder."""
    return f"customers/{page_name(customer_id)}.{locale}.html"


def _href(path: str) -> str:
    return quote(path, safe="/._-")


def write_report(inputs: ReportInputs, params: ReportParams, *, out_dir: Path, currency: str,
                 workers: int | None = None) -> ReportBuild:
    """Render every page of ``inputs`` in every configured locale into ``out_dir``.

    Parameters
    ----------
    inputs : ReportInputs
        The run and its surroundings, from :func:`creditlimit.reports.inputs.load_report_inputs`.
    params : ReportParams
        Validated ``report`` section.
    out_dir : Path
        Final report folder, replaced as a whole.
    currency : str
        Base currency code of the amounts.
    workers : int, optional
        Processes rendering customer pages (default: one per CPU). Pages are
        identical whatever the number.
    """
    from creditlimit.serving.publish import atomic_output_dir

    timings: dict[str, float] = {}
    started = time.perf_counter()
    index = CustomerIndex.build(inputs)
    ids = customer_ids(inputs)
    timings["index_s"] = time.perf_counter() - started
    with atomic_output_dir(out_dir) as tmp:
        (tmp / "customers").mkdir()
        for locale in params.locales:
            fmt = Formatter(locale=locale, currency=currency)
            started = time.perf_counter()
            html = render_portfolio(
                inputs, params, fmt, other_href=report_file(OTHER_LOCALE[locale]),
                customer_href=lambda cid, loc=locale: _href(customer_file(cid, loc)),
            )
            (tmp / report_file(locale)).write_text(html, encoding="utf-8")
            timings[f"portfolio_{locale}_s"] = time.perf_counter() - started

        started = time.perf_counter()
        formatters = [Formatter(locale=locale, currency=currency) for locale in params.locales]
        _write_customer_pages(ids, _PageJob(inputs, index, params, formatters, tmp), workers=workers)
        timings["customers_s"] = time.perf_counter() - started
        (tmp / "index.html").write_text(_index_html(params.locales), encoding="utf-8")
        size = sum(path.stat().st_size for path in tmp.rglob("*") if path.is_file())
    pages = (len(ids) + 1) * len(params.locales)
    log.info("report written to %s: %d pages, %.1f MB, timings (s) %s", out_dir, pages, size / 1e6,
             {k: round(v, 2) for k, v in timings.items()})
    return ReportBuild(folder=out_dir, index=out_dir / "index.html", pages=pages, size_bytes=size, timings=timings)


@dataclass(frozen=True)
class _PageJob:
    """Inputs of the page-writing processes, inherited through fork rather than pickled."""

    inputs: ReportInputs
    index: CustomerIndex
    params: ReportParams
    formatters: list[Formatter]
    folder: Path


_JOB: _PageJob | None = None


def _write_customer_pages(ids: list[str], job: _PageJob, *, workers: int | None) -> None:
    """Write every customer page, split over forked processes when there are many.

    The forked children only format strings and write files. They open no
    database and call nothing that uses the thread pools pyarrow and DuckDB keep
    in the parent, whose locks a fork could copy in a held state.
    """
    global _JOB
    workers = workers or os.cpu_count() or 1
    if workers < 2 or len(ids) < 200 or "fork" not in multiprocessing.get_all_start_methods():
        _write_pages_of(ids, job)
        return
    _JOB = job
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            pool.map(_write_chunk, [ids[start::workers] for start in range(workers)])
    finally:
        _JOB = None


def _write_chunk(ids: list[str]) -> None:
    assert _JOB is not None, "the page job is set before the processes fork"
    _write_pages_of(ids, _JOB)


def _write_pages_of(ids: list[str], job: _PageJob) -> None:
    for customer_id in ids:
        for fmt in job.formatters:
            other = OTHER_LOCALE[fmt.locale]
            html = render_customer_page(
                customer_id, job.index, job.inputs, job.params, fmt,
                other_href=_href(Path(customer_file(customer_id, other)).name),
                report_href=f"../{report_file(fmt.locale)}",
            )
            (job.folder / customer_file(customer_id, fmt.locale)).write_text(html, encoding="utf-8")


def _index_html(locales: tuple[str, ...]) -> str:
    """Entry page: opens the first locale's report and links to every locale."""
    from creditlimit.i18n import translate

    first = report_file(locales[0])
    links = "".join(
        f'<li><a href="{escape(report_file(loc))}">{escape(translate("report.title", loc))} '
        f'({escape(translate("report.language_name", loc))})</a></li>'
        for loc in locales
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\">"
        f'<meta http-equiv="refresh" content="0; url={escape(first)}">'
        f"<title>{escape(translate('report.title', locales[0]))}</title></head>"
        f"<body><ul>{links}</ul></body></html>"
    )
