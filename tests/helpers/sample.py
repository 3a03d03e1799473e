"""The shared sample account, optionally re-keyed to another account id (tests isolate by account)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from backend.settings import samples_dir

SAMPLE_PATH = samples_dir() / "sample-account.json"
EXPECTED_PATH = samples_dir() / "sample-account.expected.json"
SAMPLE_ACCOUNT = json.loads(SAMPLE_PATH.read_text())["account_id"]


def sample_doc(account_id: str | None = None) -> dict[str, Any]:
    text = SAMPLE_PATH.read_text()
    if account_id:
        text = text.replace(SAMPLE_ACCOUNT, account_id)
    return json.loads(text)


def expected(account_id: str | None = None) -> dict[str, Any]:
    text = EXPECTED_PATH.read_text()
    if account_id:
        text = text.replace(SAMPLE_ACCOUNT, account_id)
    return json.loads(text)


def write_sample(tmp: Path, account_id: str | None = None, mutate: Any = None) -> Path:
    doc = sample_doc(account_id)
    if mutate is not None:
        mutate(doc)
    path = tmp / f"snapshot-{account_id or SAMPLE_ACCOUNT}.json"
    path.write_text(json.dumps(doc))
    return path
