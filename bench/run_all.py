"""`make bench`: every benchmark, figures printed and written to bench/results.json."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    for name in ("ingest", "scan", "paths", "api", "fleet"):
        print(f"== bench/{name}.py", flush=True)
        runpy.run_path(str(HERE / f"{name}.py"), run_name="__main__")
