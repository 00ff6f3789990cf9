"""``creditlimit replay RUN_ID``: score a past run again from what its manifest names, and compare.

The run folder contains ``manifest.json`` (input hashes, model name and version,
previous run) and ``params.json`` (every params value of the run). Replay
rebuilds the interim folder from the archive by hash, scores with the same
params and the same registered model version into a temporary folder, and
compares every output file byte for byte with the published run. Nothing is
published and nothing is appended to the ledger; the replay only looks its run
id up there.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import yaml

from creditlimit.errors import InputDataError
from creditlimit.i18n import register, translate
from creditlimit.pipelines.params import load_params

__all__ = ["ReplayResult", "find_run_folder", "replay"]

register({
    "replay.not_found": {
        "en": "No published run with id {run_id} under {root}. Run ids are in each run folder's manifest.json.",
        "zh_CN": "{root} 下没有编号为 {run_id} 的已发布运行。运行编号见各运行目录的 manifest.json。",
    },
    "replay.no_params": {
        "en": "Run {run_id} in {folder} has no params.json (written since this version), so it cannot be replayed.",
        "zh_CN": "{folder} 中的运行 {run_id} 没有 params.json（自本版本起才写入），因此无法重放。",
    },
    "replay.previous_changed": {
        "en": "Run {run_id} compared against the run of {previous_as_of} with id {expected}, but that folder now holds run {found}. Restore it to replay.",
        "zh_CN": "运行 {run_id} 当时对比的是 {previous_as_of} 的运行 {expected}，但该目录现在是运行 {found}。请先恢复该目录再重放。",
    },
    "replay.code_differs": {
        "en": "Note: run {run_id} was made by code {recorded}; this is {current}. Outputs may differ for that reason.",
        "zh_CN": "注意：运行 {run_id} 由代码版本 {recorded} 生成；当前为 {current}。输出可能因此不同。",
    },
    "replay.identical": {
        "en": "Replayed run {run_id} (as of {as_of}): all {count} files are byte-identical to {folder}.",
        "zh_CN": "已重放运行 {run_id}（评估日 {as_of}）：全部 {count} 个文件与 {folder} 逐字节一致。",
    },
    "replay.different": {
        "en": "Replayed run {run_id} (as of {as_of}) differs from {folder} in: {files}.",
        "zh_CN": "重放的运行 {run_id}（评估日 {as_of}）与 {folder} 不一致的文件：{files}。",
    },
})


class ReplayResult:
    """Files compared and those that differ (empty when the replay is byte-identical)."""

    def __init__(self, run_id: str, as_of: str, folder: Path, compared: list[str], different: list[str]):
        self.run_id, self.as_of, self.folder = run_id, as_of, folder
        self.compared, self.different = compared, different

    @property
    def identical(self) -> bool:
        return not self.different


def find_run_folder(scores_root: Path, run_id: str) -> Path:
    """Return the published run folder whose manifest has ``run_id``."""
    for manifest_path in sorted(scores_root.glob("as_of=*/manifest.json")):
        if json.loads(manifest_path.read_text(encoding="utf-8")).get("run_id") == run_id:
            return manifest_path.parent
    raise InputDataError("replay.not_found", run_id=run_id, root=scores_root)


def replay(*, params_path: Path, run_id: str, scores_root: Path) -> ReplayResult:
    """Score run ``run_id`` again in a temporary folder and compare its files with the published ones."""
    from creditlimit.pipelines import score
    from creditlimit.serving.archive import restore_files
    from creditlimit.serving.ledger_settings import LedgerSettings

    folder = find_run_folder(scores_root, run_id)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if not (folder / "params.json").is_file():
        raise InputDataError("replay.no_params", run_id=run_id, folder=folder)
    run_params = json.loads((folder / "params.json").read_text(encoding="utf-8"))
    ledger = LedgerSettings.from_params(load_params(params_path))
    _note_code_version(manifest)

    scores_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".replay-", dir=scores_root.parent) as work_text:
        work = Path(work_text)
        restore_files(manifest["interim_files"], ledger.archive_dir, work / "interim")
        replay_root = work / "scores"
        _copy_previous_run(manifest, scores_root, replay_root)
        params_file = _write_replay_params(run_params, work, ledger_url=ledger.database_url)
        as_of = dt.date.fromisoformat(manifest["as_of"])
        replayed = score.run(params_path=params_file, as_of=as_of, clean_dir=work / "interim" / "clean",
                             scores_root=replay_root, model_alias=manifest["model"]["alias"],
                             model_version=int(manifest["model"]["version"]), replay=True)
        compared, different = _compare(folder, replayed)
    return ReplayResult(run_id, manifest["as_of"], folder, compared, different)


def run(*, params_path: Path, run_id: str, scores_root: Path) -> None:
    """Replay and print the outcome; raise when any file differs."""
    result = replay(params_path=params_path, run_id=run_id, scores_root=scores_root)
    if not result.identical:
        raise InputDataError("replay.different", run_id=run_id, as_of=result.as_of, folder=result.folder,
                             files=", ".join(result.different))
    print(translate("replay.identical", run_id=run_id, as_of=result.as_of, count=len(result.compared),
                    folder=result.folder))


def _copy_previous_run(manifest: dict, scores_root: Path, replay_root: Path) -> None:
    previous_as_of = manifest.get("previous_as_of")
    if not previous_as_of:
        return
    source = scores_root / f"as_of={previous_as_of}"
    found = json.loads((source / "manifest.json").read_text(encoding="utf-8")).get("run_id") \
        if (source / "manifest.json").is_file() else None
    expected = manifest.get("previous_run_id")
    if expected and found != expected:
        raise InputDataError("replay.previous_changed", run_id=manifest["run_id"], previous_as_of=previous_as_of,
                             expected=expected, found=found)
    shutil.copytree(source, replay_root / source.name)


def _write_replay_params(run_params: dict, work: Path, *, ledger_url: str) -> Path:
    """Write the run's params with destinations inside ``work``, except the ledger, which is only read."""
    params = json.loads(json.dumps(run_params))
    params.setdefault("score", {})["database_url"] = f"sqlite:///{work / 'replay.db'}"
    params.setdefault("ledger", {}).update({"database_url": ledger_url, "archive_dir": str(work / "archive")})
    path = work / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def _compare(original: Path, replayed: Path) -> tuple[list[str], list[str]]:
    names = sorted({p.name for p in original.iterdir() if p.is_file()}
                   | {p.name for p in replayed.iterdir() if p.is_file()})
    different = [name for name in names
                 if not (original / name).is_file() or not (replayed / name).is_file()
                 or (original / name).read_bytes() != (replayed / name).read_bytes()]
    return names, different


def _note_code_version(manifest: dict) -> None:
    from creditlimit.pipelines.score import _code_version

    current = _code_version()
    if manifest.get("code_version") != current:
        print(translate("replay.code_differs", run_id=manifest["run_id"], recorded=manifest.get("code_version"),
                        current=current))
