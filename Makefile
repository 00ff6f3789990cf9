# Two commands set everything up on a fresh machine:
#   make demo   creates .venv, installs the project and runs the whole pipeline
#               (dvc repro) on the embedded sample portfolio
#   make test   creates .venv and runs every test (FAST=1 skips the slow ones)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PATH := $(abspath $(BIN)):$(PATH)
export MLFLOW_DISABLE_TELEMETRY := true
export DVC_NO_ANALYTICS := 1

.PHONY: install demo test test-fast ibm clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test,spark]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/dvc repro
	$(BIN)/creditlimit summary
	$(BIN)/creditlimit report --print-path

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(if $(FAST),-m "not slow",) -p no:cacheprovider

test-fast:
	$(MAKE) test FAST=1

# The same pipeline on the IBM accounts-receivable ledger (see README).
IBM_CSV ?= ../shared/data/ibm_accounts_receivable/WA_Fn-UseC_-Accounts-Receivable.csv
ibm: $(STAMP)
	$(BIN)/creditlimit import ibm-ar $(IBM_CSV) --out data/raw/ibm_ar --currency USD
	$(BIN)/dvc exp run $$($(BIN)/python -m creditlimit.pipelines.params params-ibm-ar.yaml)
	$(BIN)/creditlimit summary

clean:
	rm -rf data mlflow.db mlartifacts
