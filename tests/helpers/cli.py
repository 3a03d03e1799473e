"""The `skypath` CLI run as a subprocess, as the contract's outside tests run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([sys.executable, "-m", "backend.cli", *args], cwd=ROOT, env=dict(os.environ),
                          capture_output=True, text=True, timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def run_json(*args: str) -> Any:
    """The command with `--format json`: exactly one JSON document on stdout."""
    return json.loads(run(*args, "--format", "json").stdout)
