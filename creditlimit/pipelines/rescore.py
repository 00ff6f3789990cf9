"""``creditlimit rescore``: the scheduler's one command for a whole rescoring run.

Steps, under the run lock of the scores folder: validate the raw tables, build
features and score every customer (PD, grade, limit, flags, reasons), record the
decisions in the ledger, publish to the database, and write the HTML report.
Each step writes its outputs atomically (a temporary folder renamed into place,
one database transaction), so a run killed at any point leaves the previous
outputs as they were, and a rerun completes. Rerunning the same inputs, params
and model gives byte-identical outputs and appends nothing to the ledger.

Exit codes: 0 success, 2 invalid parameters, 3 bad input data, 4 model problem,
5 lock held by another run, 6 publishing failed, 1 unexpected error.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from creditlimit.checkpoints import checkpoint
from creditlimit.i18n import register, translate
from creditlimit.pipelines.json_logs import announce
from creditlimit.pipelines.params import load_params, section

__all__ = ["run", "STEPS"]

log = logging.getLogger(__name__)

# Names of the steps, in order. "<step>:before" and "<step>:after" are checkpoints
# (see creditlimit.checkpoints) where fault-injection tests kill the process.
STEPS = ("validate", "score", "report")

register({
    "rescore.step_started": {"en": "Step {step} started.", "zh_CN": "步骤 {step} 开始。"},
    "rescore.step_done": {"en": "Step {step} finished in {seconds:.1f} s.", "zh_CN": "步骤 {step} 完成，用时 {seconds:.1f} 秒。"},
    "rescore.done": {
        "en": "Rescoring as of {as_of} finished in {seconds:.1f} s: outputs in {scores}, report {report}.",
        "zh_CN": "评估日 {as_of} 的重新评分已完成，用时 {seconds:.1f} 秒：结果位于 {scores}，报告 {report}。",
    },
})


def run(*, params_path: Path, as_of: dt.date | None, raw_dir: Path | str | None, interim_dir: Path,
        scores_root: Path, reports_root: Path, model_alias: str | None, progress: bool | None = None) -> None:
    """Run every step for ``as_of`` under the lock of ``scores_root``."""
    from creditlimit.pipelines.run_lock import run_lock

    params = load_params(params_path)
    as_of = as_of or dt.date.fromisoformat(str(section(params, "score.as_of")))
    started = time.perf_counter()
    show_progress = sys.stderr.isatty() if progress is None else progress
    with run_lock(scores_root, command=f"creditlimit rescore --as-of {as_of.isoformat()}"):
        with _steps(show_progress) as step:
            step("validate", lambda: _validate(params_path, raw_dir, interim_dir))
            step("score", lambda: _score(params_path, as_of, interim_dir, scores_root, model_alias))
            report = step("report", lambda: _report(params_path, as_of, interim_dir, scores_root, reports_root))
    seconds = time.perf_counter() - started
    announce(translate("rescore.done", as_of=as_of.isoformat(), seconds=seconds, scores=scores_root, report=report),
             as_of=as_of.isoformat(), seconds=round(seconds, 3), scores=str(scores_root), report=str(report))


@contextmanager
def _steps(show_progress: bool) -> Iterator[Callable[[str, Callable[[], object]], object]]:
    """Yield a function that runs one named step with logging, checkpoints and progress."""
    progress = _progress_bar(show_progress)

    def step(name: str, work: Callable[[], object]) -> object:
        checkpoint(f"{name}:before")
        log.info(translate("rescore.step_started", "en", step=name), extra={"step": name})
        started = time.perf_counter()
        result = work()
        seconds = time.perf_counter() - started
        log.info(translate("rescore.step_done", "en", step=name, seconds=seconds),
                 extra={"step": name, "seconds": round(seconds, 3)})
        if progress is not None:
            progress.advance(progress.task_ids[0])
        checkpoint(f"{name}:after")
        return result

    if progress is None:
        yield step
        return
    with progress:
        progress.add_task("rescore", total=len(STEPS))
        yield step


def _progress_bar(show: bool):
    if not show:
        return None
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                    TimeElapsedColumn(), transient=True)


def _validate(params_path: Path, raw_dir: Path | str | None, interim_dir: Path) -> None:
    from creditlimit.pipelines import validate

    validate.run(params_path=params_path, raw_dir=raw_dir, out_dir=interim_dir)


def _score(params_path: Path, as_of: dt.date, interim_dir: Path, scores_root: Path,
           model_alias: str | None) -> Path:
    from creditlimit.pipelines import score

    return score.run(params_path=params_path, as_of=as_of, clean_dir=interim_dir / "clean",
                     scores_root=scores_root, model_alias=model_alias)


def _report(params_path: Path, as_of: dt.date, interim_dir: Path, scores_root: Path, reports_root: Path) -> Path:
    from creditlimit.pipelines import report

    # The report reads the model record and training table that `creditlimit train` wrote.
    return report.run(params_path=params_path, as_of=as_of, scores_root=scores_root,
                      clean_dir=interim_dir / "clean", models_dir=Path("data/models"),
                      training_path=Path("data/features/training.parquet"), out_root=reports_root)
