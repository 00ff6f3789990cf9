"""Test-suite root: makes the shared test helpers in this folder importable."""
