"""Pending security updates on apt hosts count for HOST_PATCH_CriticalMissing: an update from a security
pocket is `high` (apt has no per-update severity offline; see agent.APT_SECURITY_SEVERITY)."""

from __future__ import annotations

from typing import Any

from backend import agent
from loaders.hosts import host_row, validate_host

# `apt-get -s dist-upgrade` lines as Debian 12 and Ubuntu 22.04 print them
APT_OUTPUT = """\
NOTE: This is only a simulation!
Inst base-files [12.4+deb12u11] (12.4+deb12u15 Debian:12.15/oldstable [amd64])
Inst libgcrypt20-dev [1.10.1-3] (1.10.1-3+deb12u1 Debian:12.15/oldstable, Debian-Security:12/oldstable-security [amd64]) []
Inst liblzma5 [5.4.1-1] (5.4.1-1+deb12u2 Debian-Security:12/oldstable-security [amd64])
Inst openssl [3.0.2-0ubuntu1.10] (3.0.2-0ubuntu1.15 Ubuntu:22.04/jammy-updates, Ubuntu:22.04/jammy-security [amd64])
Inst linux-image-5.15.0-105-generic (5.15.0-105.115 Ubuntu:22.04/jammy-security [amd64])
Inst libsecurity-utils [1.0-1] (1.1-1 Ubuntu:22.04/jammy-updates [all])
Inst python3-urllib3 [1.26.5-1~exp1] (1.26.5-1~exp1ubuntu0.1 UbuntuESMApps:22.04/jammy-apps-security [all])
Conf base-files (12.4+deb12u15 Debian:12.15/oldstable [amd64])
"""


def test_security_pocket_updates_are_high() -> None:
    assert agent.parse_apt_security(APT_OUTPUT) == [
        {"id": "libgcrypt20-dev-1.10.1-3+deb12u1", "severity": "high", "package": "libgcrypt20-dev"},
        {"id": "liblzma5-5.4.1-1+deb12u2", "severity": "high", "package": "liblzma5"},
        {"id": "openssl-3.0.2-0ubuntu1.15", "severity": "high", "package": "openssl"},
        {"id": "linux-image-5.15.0-105-generic-5.15.0-105.115", "severity": "high",
         "package": "linux-image-5.15.0-105-generic"},  # a new package (no old version) from the security pocket
        {"id": "python3-urllib3-1.26.5-1~exp1ubuntu0.1", "severity": "high", "package": "python3-urllib3"},
    ]  # base-files (not security) and libsecurity-utils (security only in its name) are not security updates


def test_apt_security_updates_fail_critical_missing() -> None:
    patches = agent.parse_apt_security(APT_OUTPUT)
    row = host_row(validate_host({"host_id": "h", "missing_patches": patches}))
    assert row["patches_collected"] is True and len(row["critical_patches"]) == 5  # → HOST_PATCH_CriticalMissing NOT_PASS


def test_no_pending_security_update_is_an_empty_list() -> None:
    assert agent.parse_apt_security("Inst tzdata [2024a-0] (2024b-0 Debian:12.7/stable [all])\n") == []
    assert agent.parse_apt_security("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n") == []


def test_apt_is_asked_with_dist_upgrade_so_kept_back_updates_show() -> None:
    asked: list[list[str]] = []

    def runner(cmd: Any) -> str | None:
        asked.append(list(cmd))
        return APT_OUTPUT if cmd[0] == "apt-get" else None

    patches = agent.missing_patches(runner)
    assert patches is not None and len(patches) == 5
    assert asked[-1] == ["apt-get", "-s", "-o", "Debug::NoLocking=1", "dist-upgrade"]
