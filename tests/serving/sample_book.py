"""A small real book for scorer tests: 400 generated customers, validated, with a model trained on them."""

import datetime as dt
import warnings
from pathlib import Path

from repo_params import repo_params

from creditlimit.features.labels import LabelDefinition, build_labels, training_table
from creditlimit.features.loading import read_raw_folder
from creditlimit.features.snapshots import build_features, monthly_as_of_dates
from creditlimit.features.synthetic import generate_portfolio, write_portfolio
from creditlimit.features.tables import connect_tables
from creditlimit.features.validation import validate_tables
from creditlimit.models.pyfunc import CreditPDModel
from creditlimit.models.training import TrainParams, train_pd_model


def trained_book(folder: Path):
    """Return a DuckDB connection to the clean tables of a 36-month book and a model trained on its history."""
    params = repo_params()
    write_portfolio(generate_portfolio(customers=400, months=36, seed=7, start=dt.date(2022, 1, 1)), folder)
    clean = validate_tables(read_raw_folder(folder), base_currency="CNY", max_reject_share=0.05).clean
    con = connect_tables(clean)
    definition = LabelDefinition.from_mapping(params["label"])
    dates, observation_end = monthly_as_of_dates(con, min_history_months=12,
                                                 horizon_months=definition.horizon_months)
    history = build_features(con, dates, max_statement_age_months=24)
    labels = build_labels(con, history[["customer_id", "as_of"]], definition=definition,
                          observation_end=observation_end)
    table, _ = training_table(history, labels)
    train_section = {**params["train"], "valid_months": 3, "oot_months": 3, "gap_months": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trained = train_pd_model(table, params=TrainParams.from_mapping(train_section))
    return con, CreditPDModel.from_trained(trained, default_definition=definition.to_dict())
