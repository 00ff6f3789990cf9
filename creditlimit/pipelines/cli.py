"""The ``creditlimit`` command: one sub-command per pipeline stage.

Help texts and messages follow the locale (``CREDITLIMIT_LANG``, then ``LC_ALL``,
``LC_MESSAGES``, ``LANG``: a value starting with ``zh`` selects Simplified
Chinese). Heavy libraries (mlflow, dvc, shap, lightgbm) are imported inside the
commands, so ``creditlimit --help`` stays fast.

Exit codes: 0 success, 1 unexpected error, 2 invalid parameters, 3 bad input data,
4 model problem (not found, failed gates), 5 lock held by another run, 6 publishing failed.
"""

import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from creditlimit.errors import CreditLimitError
from creditlimit.pipelines.cli_common import as_date, help_text
from creditlimit.i18n import locale_from_environment, register, set_locale, translate
from creditlimit.pipelines.cli_operations import add_operations_commands
from creditlimit.pipelines.messages import HELP
from creditlimit.pipelines.report import HELP as REPORT_HELP
from creditlimit.pipelines.simulate import HELP as SIMULATE_HELP
from creditlimit.pipelines.spark_submit import HELP as ENGINE_HELP

__all__ = ["main", "build_app"]

log = logging.getLogger(__name__)

register(HELP)
register(SIMULATE_HELP)
register(REPORT_HELP)
register(ENGINE_HELP)


_h = help_text
_as_date = as_date


def build_app() -> typer.Typer:
    """Build the command tree with help texts in the active locale."""
    app = typer.Typer(help=_h("app"), no_args_is_help=True, add_completion=False,
                      pretty_exceptions_enable=False)
    import_app = typer.Typer(help=_h("import"), no_args_is_help=True)
    app.add_typer(import_app, name="import")
    params_option = Annotated[Path, typer.Option("--params", help=_h("opt_params"))]

    @app.command("sample", help=_h("sample"))
    def sample(
        out: Annotated[Path, typer.Option("--out", help=_h("opt_out_dir"))],
        customers: Annotated[Optional[int], typer.Option("--customers", help=_h("opt_customers"))] = None,
        months: Annotated[Optional[int], typer.Option("--months", help=_h("opt_months"))] = None,
        seed: Annotated[Optional[int], typer.Option("--seed", help=_h("opt_seed"))] = None,
        start: Annotated[Optional[str], typer.Option("--start", help=_h("opt_start"))] = None,
        file_format: Annotated[str, typer.Option("--format", help=_h("opt_format"))] = "parquet",
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import sample as stage

        stage.run(params_path=params, out_dir=out, customers=customers, months=months,
                  seed=seed, start=_as_date(start) if start else None, file_format=file_format)

    @import_app.command("ibm-ar", help=_h("import_ibm"))
    def import_ibm(
        file: Annotated[Path, typer.Argument(help=_h("arg_ibm_file"))],
        out: Annotated[Path, typer.Option("--out", help=_h("opt_out_dir"))],
        currency: Annotated[str, typer.Option("--currency", help=_h("opt_currency"))] = "USD",
    ) -> None:
        from creditlimit.pipelines import import_ibm as stage

        stage.run(csv_path=file, out_dir=out, currency=currency)

    @app.command("validate", help=_h("validate"))
    def validate(
        raw: Annotated[Optional[str], typer.Option("--raw", help=_h("opt_raw"))] = None,
        out: Annotated[Path, typer.Option("--out", help=_h("opt_out_dir"))] = Path("data/interim"),
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import validate as stage

        stage.run(params_path=params, raw_dir=raw, out_dir=out)

    @app.command("features", help=_h("features"))
    def features(
        clean: Annotated[Path, typer.Option("--clean", help=_h("opt_clean"))] = Path("data/interim/clean"),
        out: Annotated[Path, typer.Option("--out", help=_h("opt_out_file"))] = Path("data/features/training.parquet"),
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import features as stage

        stage.run(params_path=params, clean_dir=clean, out_path=out)

    @app.command("train", help=_h("train"))
    def train(
        training: Annotated[Path, typer.Option("--training", help=_h("opt_training"))] = Path("data/features/training.parquet"),
        out: Annotated[Path, typer.Option("--out", help=_h("opt_out_dir"))] = Path("data/models"),
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import train as stage

        stage.run(params_path=params, training_path=training, out_dir=out)

    @app.command("score", help=_h("score"))
    def score(
        as_of: Annotated[Optional[str], typer.Option("--as-of", help=_h("opt_as_of"))] = None,
        clean: Annotated[Path, typer.Option("--clean", help=_h("opt_clean"))] = Path("data/interim/clean"),
        out: Annotated[Path, typer.Option("--out", help=_h("opt_scores_root"))] = Path("data/scores"),
        alias: Annotated[Optional[str], typer.Option("--model-alias", help=_h("opt_alias"))] = None,
        params: params_option = Path("params.yaml"),
        engine: Annotated[str, typer.Option("--engine", help=_h("opt_engine"))] = "local",
    ) -> None:
        from creditlimit.pipelines import score as stage

        stage.run(params_path=params, as_of=_as_date(as_of) if as_of else None,
                  clean_dir=clean, scores_root=out, model_alias=alias, engine=engine)

    @app.command("summary", help=_h("summary"))
    def summary(
        as_of: Annotated[Optional[str], typer.Option("--as-of", help=_h("opt_summary_as_of"))] = None,
        out: Annotated[Path, typer.Option("--out", help=_h("opt_scores_root"))] = Path("data/scores"),
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import score as stage

        stage.print_existing_summary(params_path=params, as_of=_as_date(as_of) if as_of else None,
                                     scores_root=out)

    @app.command("simulate", help=_h("simulate"))
    def simulate(
        scenario: Annotated[Path, typer.Option("--params", help=_h("opt_scenario_params"))],
        as_of: Annotated[Optional[str], typer.Option("--as-of", help=_h("opt_as_of"))] = None,
        alias: Annotated[Optional[str], typer.Option("--model-alias", help=_h("opt_scenario_alias"))] = None,
        current: Annotated[Path, typer.Option("--current-params", help=_h("opt_current_params"))] = Path("params.yaml"),
        clean: Annotated[Path, typer.Option("--clean", help=_h("opt_clean"))] = Path("data/interim/clean"),
        out: Annotated[Optional[Path], typer.Option("--out", help=_h("opt_simulate_out"))] = None,
    ) -> None:
        from creditlimit.pipelines import simulate as stage

        stage.run(params_path=current, scenario_path=scenario, as_of=_as_date(as_of) if as_of else None,
                  clean_dir=clean, model_alias=alias, out_dir=out)

    @app.command("report", help=_h("report"))
    def report(
        as_of: Annotated[Optional[str], typer.Option("--as-of", help=_h("opt_report_as_of"))] = None,
        scores: Annotated[Path, typer.Option("--scores", help=_h("opt_scores_root"))] = Path("data/scores"),
        clean: Annotated[Path, typer.Option("--clean", help=_h("opt_clean"))] = Path("data/interim/clean"),
        models: Annotated[Path, typer.Option("--models", help=_h("opt_report_models"))] = Path("data/models"),
        training: Annotated[Path, typer.Option("--training", help=_h("opt_training"))] = Path("data/features/training.parquet"),
        out: Annotated[Path, typer.Option("--out", help=_h("opt_report_out"))] = Path("data/reports"),
        print_path: Annotated[bool, typer.Option("--print-path", help=_h("opt_report_print_path"))] = False,
        params: params_option = Path("params.yaml"),
    ) -> None:
        from creditlimit.pipelines import report as stage

        day = _as_date(as_of) if as_of else None
        if print_path:
            stage.print_report_path(params_path=params, as_of=day, out_root=out)
            return
        stage.run(params_path=params, as_of=day, scores_root=scores, clean_dir=clean, models_dir=models,
                  training_path=training, out_root=out)

    add_operations_commands(app)
    return app


def _localise_help_option(command) -> None:
    """Translate the ``--help`` option's own text, which click writes in English."""
    option = command.get_help_option(typer.Context(command))
    if option is not None:
        option.help = translate("cli.help_option")
    for child in getattr(command, "commands", {}).values():
        _localise_help_option(child)


def _configure_logging() -> None:
    level = os.environ.get("CREDITLIMIT_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("mlflow", "alembic", "urllib3", "git", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def main() -> None:
    """Run the command line: set locale and logging, report errors with exit codes."""
    set_locale(locale_from_environment(os.environ))
    _configure_logging()
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # Idle OpenMP threads of LightGBM spin by default. On a busy host that spinning
    # slowed training several-fold (measured with 2 threads on a loaded 2-core machine).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    command = typer.main.get_command(build_app())
    _localise_help_option(command)
    try:
        command(prog_name="creditlimit")
    except CreditLimitError as error:
        log.debug("stage failed", exc_info=True)
        _report_error(error)
        sys.exit(error.exit_code)


def _report_error(error: CreditLimitError) -> None:
    """Write the error in the user's locale: a red line, or a JSON line with --log-format json."""
    from creditlimit.pipelines.json_logs import json_logs_enabled

    message = translate("cli.error", message=str(error))
    if json_logs_enabled():
        log.error(message, extra={"exit_code": error.exit_code, "category": type(error).__name__})
    else:
        typer.secho(message, err=True, fg=typer.colors.RED)
