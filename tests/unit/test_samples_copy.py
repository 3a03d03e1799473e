"""The sample account shipped in `samples/` (for clones without `../shared`) is the contract's, byte for byte."""

from __future__ import annotations

import pytest

from backend.settings import project_root

SHARED = project_root().parent / "shared" / "samples"
FILES = ("sample-account.json", "sample-account.expected.json", "README.md")


@pytest.mark.parametrize("name", FILES)
def test_copy_equals_the_contract(name: str) -> None:
    copy = project_root() / "samples" / name
    assert copy.exists(), f"samples/{name} is missing"
    contract = SHARED / name
    if contract.exists():  # beside the shared folder: the copy must not drift from it
        assert copy.read_bytes() == contract.read_bytes(), f"samples/{name} differs from {contract}"
    else:
        assert copy.stat().st_size > 0
