"""Smoke test of the scale benchmark: a tiny portfolio through every worker, and its Markdown section.

It trains the demo's champion and generates and validates a 400-customer portfolio,
so it takes a few minutes and is marked slow.
"""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_benchmark_runs_and_replaces_only_its_section(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Results\n\n## Rescoring at scale\n\nold figures\n\n## Other\n\nkept\n", encoding="utf-8")
    command = [sys.executable, str(REPO / "benchmarks" / "rescore_scale.py"), "--sizes", "400",
               "--baseline-size", "400", "--train-rows", "60000", "--work", str(tmp_path / "work"),
               "--results", str(results)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    text = results.read_text(encoding="utf-8")
    assert "old figures" not in text
    assert text.endswith("## Other\n\nkept\n")
    section = text[text.index("## Rescoring at scale"):text.index("## Other")]
    assert "| 400 |" in section
    assert "Equal outputs asserted on 400 customers" in section
    assert "scored again a month later" in section
    assert "| training on 60,000 rows |" in section
    for stage in ("features", "batches", "ledger", "publish"):
        assert f"| {stage} |" in section
