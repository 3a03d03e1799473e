"""CIS Alibaba Cloud Foundations 2.0 against Prowler's Alibaba Cloud provider: every recommendation Prowler
decides (tests/data/compliance/prowler_cis_2_0_alibabacloud.txt, taken from its compliance mapping) is decided
by CIS_ALIBABA_CLOUD_2_0, or its not-decidable reason says why Prowler's check cannot be reproduced from the
APIs (naming Prowler). The ones Skypath decides beyond Prowler are pinned too, so the README's comparison
stays true."""

from __future__ import annotations

from pathlib import Path

import pytest

from checks.catalog import CATALOG
from checks.compliance import framework, mapped_items

CIS = "CIS_ALIBABA_CLOUD_2_0"
PROWLER_LIST = Path(__file__).resolve().parents[1] / "data" / "compliance" / "prowler_cis_2_0_alibabacloud.txt"

# decided by Skypath, an empty `Checks` list in Prowler's mapping (Prowler has a check for 1.10 but maps none)
BEYOND_PROWLER = {"1.3", "1.10", "2.3", "2.4", "2.5", "3.5", "5.7", "5.8", "5.9", "7.6"}


def prowler_decided() -> dict[str, list[str]]:
    """recommendation id → the Prowler checks mapped to it."""
    out: dict[str, list[str]] = {}
    for line in PROWLER_LIST.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        rid, *checks = line.split()
        assert rid not in out, f"{rid} listed twice"
        assert checks, f"{rid}: no Prowler check named"
        out[rid] = checks
    return out


PROWLER = prowler_decided()


def test_the_prowler_list_is_what_was_taken() -> None:
    """62 of the benchmark's 85, every one an id of our table (a typo or a stale copy fails here)."""
    fw = framework(CIS)
    assert len(PROWLER) == 62
    assert set(PROWLER) <= set(fw.by_id)
    assert {rid.split(".")[0] for rid in PROWLER} == set(fw.sections)


@pytest.mark.parametrize("rid", sorted(PROWLER, key=lambda r: [int(x) for x in r.split(".")]))
def test_every_recommendation_prowler_decides_is_decided_or_says_why_not(rid: str) -> None:
    req = framework(CIS).by_id[rid]
    mapped = mapped_items(framework(CIS), CATALOG)
    if req.not_decidable is None:
        assert mapped.get(rid), f"{rid}: Prowler decides it ({PROWLER[rid]}), no catalog item refers to it"
    else:
        assert rid not in mapped
        assert "Prowler" in req.not_decidable, (
            f"{rid}: Prowler decides it ({PROWLER[rid]}); the reason must say why its check cannot be "
            f"reproduced, not only {req.not_decidable!r}")


def test_what_skypath_decides_beyond_prowler() -> None:
    fw = framework(CIS)
    decided = set(mapped_items(fw, CATALOG))
    assert decided - set(PROWLER) == BEYOND_PROWLER
    assert set(PROWLER) <= decided  # today none of Prowler's is left to a reason
    assert len(decided) == 72 and not decided & {r.id for r in fw.requirements if not r.decidable}
