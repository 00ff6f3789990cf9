"""The notebooks in notebooks/ run from top to bottom and leave no file behind."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _files(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file() and ".ipynb_checkpoints" not in path.parts}


@pytest.mark.parametrize("name", [
    "01_explore_sample_portfolio.ipynb",
    # Builds monthly snapshots and trains a small LightGBM model.
    pytest.param("02_reading_shap_explanations.ipynb", marks=pytest.mark.slow),
])
def test_notebook_runs(name, tmp_path):
    """Every cell runs without error and the notebook writes nothing beside itself."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    before = _files(NOTEBOOKS)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert len(outputs) >= 5
    assert _files(NOTEBOOKS) == before


def test_notebooks_are_stored_without_outputs():
    """Committed notebooks carry no outputs, so a diff shows only source changes."""
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code"), path.name
