"""Tests of parameter loading, hashing and overlays."""

from pathlib import Path

import pytest
import yaml
from repo_params import repo_params

from creditlimit.errors import ParamsError
from creditlimit.i18n import use_locale
from creditlimit.pipelines.params import (
    apply_overlay,
    load_params,
    overlay_set_arguments,
    params_hash,
    section,
)

REPO = Path(__file__).resolve().parents[2]


def test_load_params_missing_file(tmp_path):
    """A missing parameter file names the path and the fix, in both locales."""
    with pytest.raises(ParamsError, match="was not found. Run the command from the project folder"):
        load_params(tmp_path / "params.yaml")
    with use_locale("zh_CN"), pytest.raises(ParamsError, match="未找到参数文件"):
        load_params(tmp_path / "params.yaml")


def test_load_params_invalid_yaml(tmp_path):
    """Broken YAML is reported with the file name."""
    path = tmp_path / "params.yaml"
    path.write_text("score: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParamsError, match="is not valid YAML"):
        load_params(path)


def test_section_missing_key_names_it(tmp_path):
    """A missing dotted key is named in the error."""
    path = tmp_path / "params.yaml"
    path.write_text("score:\n  as_of: '2026-01-01'\n", encoding="utf-8")
    params = load_params(path)
    assert section(params, "score.as_of") == "2026-01-01"
    with pytest.raises(ParamsError, match="Parameter 'score.top_reasons' is missing"):
        section(params, "score.top_reasons")
    with pytest.raises(ParamsError, match="has no section 'policy'"):
        section(params, "policy")


def test_params_hash_changes_with_value():
    """The hash covers exactly the listed sections."""
    base = {"a": {"x": 1}, "b": {"y": 2}}
    changed_other = {"a": {"x": 1}, "b": {"y": 3}}
    changed_listed = {"a": {"x": 2}, "b": {"y": 2}}
    assert params_hash(base, ("a",)) == params_hash(changed_other, ("a",))
    assert params_hash(base, ("a",)) != params_hash(changed_listed, ("a",))


def test_ibm_overlay_keys_exist_in_params():
    """Every key of the IBM overlay exists in params.yaml, so none is ignored."""
    params = repo_params()
    overlay = yaml.safe_load((REPO / "params-ibm-ar.yaml").read_text(encoding="utf-8"))
    merged = apply_overlay(params, overlay)
    assert merged["label"]["dpd_threshold"] == 20
    assert merged["label"]["horizon_months"] == 6
    assert merged["data"]["raw_dir"] == "data/raw/ibm_ar"
    assert params["label"]["dpd_threshold"] == 90


def test_apply_overlay_rejects_unknown_key():
    """A misspelt overlay key is an error, not a silent no-op."""
    with pytest.raises(ParamsError, match="label.dpd_treshold"):
        apply_overlay({"label": {"dpd_threshold": 90}}, {"label.dpd_treshold": 20})


def test_overlay_set_arguments(tmp_path):
    """Overlay values become dvc exp run -S pairs, lists as JSON."""
    path = tmp_path / "overlay.yaml"
    path.write_text("label.dpd_threshold: 20\nlabel.event_types: [default]\ndata.raw_dir: x\n",
                    encoding="utf-8")
    assert overlay_set_arguments(path) == [
        "-S", "label.dpd_threshold=20", "-S", 'label.event_types=["default"]', "-S", "data.raw_dir=x",
    ]
