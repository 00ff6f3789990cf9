"""Settings of the decision ledger and approvals, from the ``ledger`` params section."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from creditlimit.errors import ParamsError
from creditlimit.i18n import register
from creditlimit.serving.approvals import ApprovalParams

__all__ = ["LedgerSettings"]

register({
    "ledger.params_invalid": {
        "en": "ledger.{name} must be a non-empty text; got {value!r}. Fix it in params.yaml.",
        "zh_CN": "ledger.{name} 必须是非空文本；实际为 {value!r}。请在 params.yaml 中修改。",
    },
})


@dataclass(frozen=True)
class LedgerSettings:
    """Ledger location, archive folder, maker name and approval rules."""

    database_url: str
    archive_dir: Path
    made_by: str
    approvals: ApprovalParams

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> LedgerSettings:
        from creditlimit.pipelines.params import section

        ledger = section(params, "ledger")
        texts = {name: ledger.get(name) for name in ("database_url", "archive_dir", "made_by")}
        for name, value in texts.items():
            if not isinstance(value, str) or not value.strip():
                raise ParamsError("ledger.params_invalid", name=name, value=value)
        return cls(database_url=texts["database_url"], archive_dir=Path(texts["archive_dir"]),
                   made_by=texts["made_by"].strip(), approvals=ApprovalParams.from_mapping(ledger))
