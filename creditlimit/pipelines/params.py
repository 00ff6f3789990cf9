"""Load ``params.yaml`` once per stage and hand out its validated sections."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from creditlimit.errors import ParamsError
from creditlimit.i18n import register

__all__ = ["load_params", "section", "params_hash", "apply_overlay", "overlay_set_arguments"]

register({
    "params.file_not_found": {
        "en": "Parameter file {path} was not found. Run the command from the project folder or pass --params PATH.",
        "zh_CN": "未找到参数文件 {path}。请在项目目录中运行命令，或用 --params 指定路径。",
    },
    "params.invalid_yaml": {
        "en": "Parameter file {path} is not valid YAML: {error}. Fix the syntax at the position shown.",
        "zh_CN": "参数文件 {path} 不是有效的 YAML：{error}。请修正所示位置的语法。",
    },
    "params.missing_section": {
        "en": "Parameter file {path} has no section '{name}'. Add it (see the params.yaml in the repository for every key).",
        "zh_CN": "参数文件 {path} 缺少“{name}”部分。请添加该部分（全部参数见仓库中的 params.yaml）。",
    },
    "params.missing_key": {
        "en": "Parameter '{name}' is missing in {path}. Add it to the file.",
        "zh_CN": "{path} 中缺少参数“{name}”。请在文件中添加。",
    },
})


def load_params(path: Path) -> dict[str, Any]:
    """Read the YAML parameter file at ``path``.

    Raises
    ------
    ParamsError
        If the file is missing, is not valid YAML or is not a mapping.
    """
    if not path.is_file():
        raise ParamsError("params.file_not_found", path=path)
    try:
        params = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParamsError("params.invalid_yaml", path=path, error=error) from error
    if not isinstance(params, dict):
        raise ParamsError("params.invalid_yaml", path=path, error="top level is not a mapping")
    params["_path"] = str(path)
    return params


def section(params: Mapping[str, Any], name: str) -> Any:
    """Return section ``name`` (dotted for nested keys, e.g. ``data.raw_dir``).

    Raises
    ------
    ParamsError
        If the section or key does not exist.
    """
    value: Any = params
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            key = "params.missing_section" if "." not in name else "params.missing_key"
            raise ParamsError(key, path=params.get("_path", "params.yaml"), name=name)
        value = value[part]
    return value


def params_hash(params: Mapping[str, Any], names: tuple[str, ...]) -> str:
    """Hash the listed sections, so outputs record exactly which values made them."""
    chosen = {name: section(params, name) for name in sorted(names)}
    text = json.dumps(chosen, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def apply_overlay(params: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``params`` with each dotted key of ``overlay`` replaced.

    Raises
    ------
    ParamsError
        If an overlay key does not exist in ``params`` (a typo would otherwise be
        ignored silently).
    """
    merged = json.loads(json.dumps(params, default=str))
    for dotted, value in overlay.items():
        section(params, dotted)  # raises for unknown keys
        *parents, leaf = dotted.split(".")
        target = merged
        for part in parents:
            target = target[part]
        target[leaf] = value
    return merged


def overlay_set_arguments(overlay_path: Path) -> list[str]:
    """Turn an overlay file into ``dvc exp run`` arguments (``-S key=value`` pairs)."""
    overlay = yaml.safe_load(overlay_path.read_text(encoding="utf-8")) or {}
    arguments: list[str] = []
    for dotted, value in overlay.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        arguments += ["-S", f"{dotted}={text}"]
    return arguments


if __name__ == "__main__":
    import sys

    print(" ".join(overlay_set_arguments(Path(sys.argv[1]))))
