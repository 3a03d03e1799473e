"""skypath-agent on a prepared root filesystem and on canned command output."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt
import json
import os
import secrets
from pathlib import Path
from typing import Any

import pytest

from backend import agent


def build_root(root: Path) -> dict[str, str]:
    (root / "etc/ssh/sshd_config.d").mkdir(parents=True)
    (root / "etc/security").mkdir(parents=True)
    (root / "etc/cron.d").mkdir(parents=True)
    (root / "var/lib/cloud/data").mkdir(parents=True)
    (root / "etc/os-release").write_text('NAME="Alibaba Cloud Linux"\nVERSION_ID="3"\n')
    (root / "etc/hostname").write_text("web-99\n")
    (root / "var/lib/cloud/data/instance-id").write_text("i-bp1fakeroot000001\n")
    (root / "etc/ssh/sshd_config.d/10-override.conf").write_text("PermitRootLogin yes\nMaxAuthTries 6\n")
    (root / "etc/ssh/sshd_config").write_text(
        "# main config\nInclude /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin no\nPasswordAuthentication yes\n"
        "PermitEmptyPasswords no\nMatch User backup\n    PermitRootLogin without-password\n    MaxAuthTries 2\n"
    )
    (root / "etc/login.defs").write_text("PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nPASS_WARN_AGE\t7\n# comment\n")
    (root / "etc/security/pwquality.conf").write_text("# pwquality\nminlen = 8\nminclass=2\n")
    weak = crypt.crypt("password", crypt.mksalt(crypt.METHOD_SHA512))
    strong = crypt.crypt(secrets.token_urlsafe(24), crypt.mksalt(crypt.METHOD_SHA512))
    (root / "etc/passwd").write_text(
        "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/bash\ndeploy:x:1001:1001::/home/deploy:/bin/bash\n"
        "nobody:x:65534:65534::/:/usr/sbin/nologin\n"
    )
    (root / "etc/shadow").write_text(f"root:{strong}:19000::::::\ntoor::19000::::::\ndeploy:{weak}:19000::::::\n"
                                     "nobody:*:19000::::::\n")
    backup = root / "etc/cron.d/backup"
    backup.write_text("* * * * * root /bin/true\n")
    os.chmod(backup, 0o666)
    (root / "etc/cron.d/safe").write_text("")
    return {"weak": weak, "strong": strong}


def no_commands(cmd: Any) -> None:
    return None


@pytest.fixture
def report(tmp_path: Path) -> tuple[dict[str, Any], dict[str, str]]:
    hashes = build_root(tmp_path)
    return agent.collect(str(tmp_path), runner=no_commands), hashes


def test_identity(report: Any) -> None:
    r, _ = report
    assert r["host_id"] == r["instance_id"] == "i-bp1fakeroot000001"
    assert r["hostname"] == "web-99" and r["os"] == {"family": "linux", "name": "Alibaba Cloud Linux", "version": "3"}
    assert set(r) <= agent.REPORT_KEYS


def test_sshd_first_value_wins_includes_and_match(report: Any) -> None:
    r, _ = report
    assert r["sshd"]["PermitRootLogin"] == "yes"  # the include comes first
    assert r["sshd"]["MaxAuthTries"] == "6"
    assert r["sshd"]["PasswordAuthentication"] == "yes"
    assert "ClientAliveInterval" not in r["sshd"]  # never invented


def test_login_defs_and_pwquality(report: Any) -> None:
    r, _ = report
    assert r["login_defs"] == {"PASS_MAX_DAYS": "99999", "PASS_MIN_DAYS": "0", "PASS_WARN_AGE": "7"}
    assert r["pwquality"] == {"minlen": "8", "minclass": "2"}


def test_accounts_and_weak_password_on_host(report: Any) -> None:
    r, hashes = report
    accounts = {a["name"]: a for a in r["accounts"]}
    assert accounts["deploy"]["password"] == "set" and accounts["deploy"]["weak_password"] is True
    assert accounts["root"]["weak_password"] is False
    assert accounts["toor"] == {"name": "toor", "uid": 0, "password": "empty", "weak_password": False}
    assert accounts["nobody"]["password"] == "locked"
    text = json.dumps(r)
    assert hashes["weak"] not in text and hashes["strong"] not in text and "$6$" not in text


def test_world_writable(report: Any) -> None:
    r, _ = report
    assert r["world_writable"] == ["/etc/cron.d/backup"]


def test_missing_facts_are_absent(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    r = agent.collect(str(tmp_path), runner=no_commands)
    for key in ("sshd", "login_defs", "pwquality", "missing_patches", "containers"):
        assert key not in r
    assert r["accounts"] == [{"name": "root", "uid": 0}]  # shadow unreadable: no guessing


def test_dnf_parser() -> None:
    out = ("ALINUX3-SA-2024:0045 Important/Sec. openssl-1:3.0.7-25.al8.x86_64\n"
           "ALINUX3-SA-2024:0050 Critical/Sec.  kernel-5.10.134-16.al8.x86_64\n"
           "ALINUX3-SA-2024:0051 Low/Sec. vim-minimal-2:8.2.2637-20.al8.x86_64\n")
    assert agent.parse_dnf_security(out) == [
        {"id": "ALINUX3-SA-2024:0045", "severity": "high", "package": "openssl"},
        {"id": "ALINUX3-SA-2024:0050", "severity": "critical", "package": "kernel"},
        {"id": "ALINUX3-SA-2024:0051", "severity": "low", "package": "vim-minimal"},
    ]


def test_apt_parser() -> None:
    out = ("Inst openssl [3.0.11-1~deb12u1] (3.0.13-1~deb12u1 Debian-Security:12/stable-security [amd64])\n"
           "Inst tzdata [2024a-0] (2024b-0 Debian:12.7/stable [all])\n")
    # a pending update from the security pocket counts as high (see agent.APT_SECURITY_SEVERITY)
    assert agent.parse_apt_security(out) == [{"id": "openssl-3.0.13-1~deb12u1", "severity": "high", "package": "openssl"}]


def test_docker_parser() -> None:
    inspect = json.dumps([{"Id": "3f2a00000000aaaa", "Config": {"Image": "nginx:1.25"}, "HostConfig": {"Privileged": True}},
                          {"Id": "4b1c00000000bbbb", "Config": {"Image": "redis:7"}, "HostConfig": {"Privileged": False}}])
    assert agent.parse_docker("3f2a00000000aaaa\n4b1c00000000bbbb\n", inspect) == [
        {"id": "3f2a00000000", "image": "nginx:1.25", "privileged": True},
        {"id": "4b1c00000000", "image": "redis:7", "privileged": False},
    ]


def test_sshd_t_output_is_preferred_on_the_live_root() -> None:
    def runner(cmd: Any) -> str | None:
        return "permitrootlogin no\nmaxauthtries 3\nport 22\n" if list(cmd) == ["sshd", "-T"] else None

    assert agent.sshd_effective("/", runner) == {"PermitRootLogin": "no", "MaxAuthTries": "3"}
