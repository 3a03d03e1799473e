"""The contract copy in `contract/` (for clones without `../shared`) is the contract itself, byte for byte."""

from __future__ import annotations

import pytest

from backend.settings import project_root

SHARED = project_root().parent / "shared"
COPY = project_root() / "contract"
FILES = sorted(str(p.relative_to(COPY)) for p in COPY.rglob("*") if p.is_file())


def test_copy_holds_the_spec_and_the_sample() -> None:
    assert {"samples/sample-account.json", "samples/sample-account.expected.json", "spec/check-items.md",
            "spec/snapshot-format.md", "spec/cli.md", "spec/billing.md", "spec/regions.md"} <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_copy_equals_the_contract(name: str) -> None:
    contract = SHARED / name
    if not SHARED.exists():  # a clone elsewhere: the copy is all there is
        assert (COPY / name).stat().st_size > 0
        return
    assert contract.exists(), f"contract/{name} is not in {SHARED} any more"
    assert (COPY / name).read_bytes() == contract.read_bytes(), f"contract/{name} differs from {contract}"


def test_every_contract_file_is_copied() -> None:
    if SHARED.exists():
        shared = {str(p.relative_to(SHARED)) for d in ("spec", "samples") for p in (SHARED / d).rglob("*") if p.is_file()}
        assert shared == set(FILES)
