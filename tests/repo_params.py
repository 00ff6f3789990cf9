"""The repository's params.yaml, which tests build their workspaces on.

`make ibm` runs `dvc exp run`, which writes the IBM overlay into params.yaml;
run `git checkout params.yaml` before `make test` to test the sample settings.
"""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def repo_params() -> dict:
    """Return the working tree's params.yaml as a dictionary."""
    return yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
