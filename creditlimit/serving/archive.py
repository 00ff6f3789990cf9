"""Content-addressed archive of the files a scoring run read, so the run can be replayed.

Every file under the interim folder (clean tables, quarantine files, the
validation report) is hashed, and the manifest records ``relative path ->
SHA-256``. The archive keeps one copy per hash at ``<archive>/<sha256>``. On the
same file system it is a hard link, which costs no space because the next
validation writes new files instead of changing these ones. Elsewhere it is a copy. Replay rebuilds the interim folder from the archive by those hashes.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from creditlimit.errors import InputDataError
from creditlimit.i18n import register
from creditlimit.serving.publish import file_sha256

__all__ = ["archive_files", "hash_interim_files", "restore_files"]

register({
    "archive.missing": {
        "en": "The archive {archive} has no file with SHA-256 {sha256} (was {path}). It was deleted, so this run cannot be replayed.",
        "zh_CN": "归档 {archive} 中没有 SHA-256 为 {sha256} 的文件（原为 {path}）。该文件已被删除，因此无法重放此次运行。",
    },
    "archive.changed": {
        "en": "The archived file {archive_path} no longer has SHA-256 {sha256}: the archive was modified, so this run cannot be replayed.",
        "zh_CN": "归档文件 {archive_path} 的 SHA-256 已不是 {sha256}：归档被修改，因此无法重放此次运行。",
    },
})


def hash_interim_files(interim_dir: Path) -> dict[str, str]:
    """Hash every visible file under ``interim_dir``; keys are POSIX paths relative to it."""
    hashes = {}
    for path in sorted(interim_dir.rglob("*")):
        relative = path.relative_to(interim_dir)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            hashes[relative.as_posix()] = file_sha256(path)
    return hashes


def archive_files(interim_dir: Path, hashes: Mapping[str, str], archive_dir: Path) -> None:
    """Store each listed file in ``archive_dir`` under its hash, unless already there."""
    archive_dir.mkdir(parents=True, exist_ok=True)
    for relative, sha256 in hashes.items():
        target = archive_dir / sha256
        if target.exists():
            continue
        temp = archive_dir / f".{sha256}.tmp-{os.getpid()}"
        try:
            os.link(interim_dir / relative, temp)
        except OSError:
            shutil.copyfile(interim_dir / relative, temp)
        os.replace(temp, target)


def restore_files(hashes: Mapping[str, str], archive_dir: Path, interim_dir: Path) -> None:
    """Rebuild an interim folder from the archive, checking every file's hash."""
    for relative, sha256 in sorted(hashes.items()):
        source = archive_dir / sha256
        if not source.is_file():
            raise InputDataError("archive.missing", archive=archive_dir, sha256=sha256, path=relative)
        if file_sha256(source) != sha256:
            raise InputDataError("archive.changed", archive_path=source, sha256=sha256)
        target = interim_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
