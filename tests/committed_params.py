"""The committed params.yaml, which tests build on.

`make ibm` runs `dvc exp run`, which writes the IBM overlay into the working
params.yaml. Tests read the version at git HEAD, so such a local run does not
change what they check; outside a git checkout they read the file itself.
"""

import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def committed_params_text() -> str:
    """Return the text of params.yaml at HEAD, or of the file when git has none."""
    try:
        result = subprocess.run(["git", "-C", str(REPO), "show", "HEAD:params.yaml"],
                                capture_output=True, text=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return (REPO / "params.yaml").read_text(encoding="utf-8")
    return result.stdout


def committed_params() -> dict:
    """Return params.yaml at HEAD as a dictionary."""
    return yaml.safe_load(committed_params_text())
