"""Test-suite root: makes the shared test helpers in this folder importable."""

import os

# See creditlimit.pipelines.cli.main: passive OpenMP threads keep LightGBM fast
# while the other pytest worker uses the second core.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
