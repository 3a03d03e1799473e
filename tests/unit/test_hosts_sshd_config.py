"""The agent reads sshd_config as sshd does when `sshd -T` is unavailable (not root, a fake root):
`Keyword value`, `Keyword=value`, `Keyword = value`, quoted arguments, keywords in any case, first
obtained value wins (Allow/Deny lists add up), Includes where they stand, Match blocks left out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from backend import agent


def fake_root(root: Path, main: str, includes: dict[str, str] | None = None) -> str:
    (root / "etc/ssh/sshd_config.d").mkdir(parents=True)
    (root / "etc/ssh/sshd_config").write_text(main)
    for name, text in (includes or {}).items():
        (root / "etc/ssh/sshd_config.d" / name).write_text(text)
    return str(root)


def no_commands(cmd: Any) -> None:
    return None


def test_equals_forms_quotes_case_and_comments(tmp_path: Path) -> None:
    root = fake_root(tmp_path, (
        "# sshd_config\n"
        "PermitRootLogin=no\n"
        "MaxAuthTries = 3\n"
        "  PasswordAuthentication\t=yes\n"
        'permitemptypasswords "no"\n'
        "X11FORWARDING no   # trailing comment\n"
        "LoginGraceTime=2m\n"
        'Banner "/etc/issue net"\n'
        "Ciphers=aes256-ctr,aes128-ctr\n"
        "AllowUsers alice bob\n"
        "AllowUsers=carol\n"
        "PermitRootLogin yes\n"  # a later value never overrides
        "MaxAuthTries=10\n"
        "ClientAliveInterval\n"  # no argument: sshd refuses the line
        'UsePAM "yes\n'  # open quote: sshd refuses the line
    ))
    report = agent.collect(root, runner=no_commands)
    assert report["sshd"] == {
        "PermitRootLogin": "no", "MaxAuthTries": "3", "PasswordAuthentication": "yes", "PermitEmptyPasswords": "no",
        "X11Forwarding": "no", "LoginGraceTime": "2m", "Banner": "/etc/issue net",
        "Ciphers": "aes256-ctr,aes128-ctr", "AllowUsers": "alice bob carol",
    }


def test_include_first_value_wins_and_match_blocks(tmp_path: Path) -> None:
    root = fake_root(tmp_path, (
        "Include /etc/ssh/sshd_config.d/*.conf\n"
        "PermitRootLogin=no\n"
        "Match User backup\n"
        "    MaxAuthTries=2\n"
        "    PermitEmptyPasswords yes\n"
        "Match all\n"
        "PermitEmptyPasswords=no\n"
    ), {"10-a.conf": "PermitRootLogin = yes\nMatch Address 10.0.0.0/8\n  PasswordAuthentication=no\n",
        "20-b.conf": "PasswordAuthentication=yes\nMaxAuthTries = 6\n"})
    assert agent.sshd_effective(root, no_commands) == {
        "PermitRootLogin": "yes",  # the Include comes first
        "PasswordAuthentication": "yes",  # 10-a's Match ends with its file
        "MaxAuthTries": "6",
        "PermitEmptyPasswords": "no",  # after `Match all`: every connection's value
    }


@pytest.mark.parametrize("line, parsed", [
    ("PermitRootLogin no", ("permitrootlogin", ["no"])),
    ("PermitRootLogin=no", ("permitrootlogin", ["no"])),
    ("PermitRootLogin = no", ("permitrootlogin", ["no"])),
    ("PermitRootLogin= no", ("permitrootlogin", ["no"])),
    ("PermitRootLogin =no", ("permitrootlogin", ["no"])),
    ("\tPermitRootLogin\t\tno\t", ("permitrootlogin", ["no"])),
    ('PermitRootLogin "no"', ("permitrootlogin", ["no"])),
    ("PermitRootLogin 'no'", ("permitrootlogin", ["no"])),
    ("AllowUsers a b\\ c \"d e\"", ("allowusers", ["a", "b c", "d e"])),
    ("Banner none#x", ("banner", ["none#x"])),  # `#` inside an argument is not a comment
    ("Banner none #x", ("banner", ["none"])),
    ("# PermitRootLogin yes", None),
    ("", None),
    ("PermitRootLogin", None),
    ("PermitRootLogin =", None),
    ('PermitRootLogin "no', None),
])
def test_line_split_like_sshd(line: str, parsed: tuple[str, list[str]] | None) -> None:
    assert agent.sshd_split(line) == parsed


def test_sshd_t_lists_add_up_and_sbin_is_tried() -> None:
    def runner(cmd: Any) -> str | None:
        if list(cmd) == ["/usr/sbin/sshd", "-T"]:
            return "permitrootlogin no\nallowusers alice\nallowusers bob\nmaxauthtries 3\n"
        return None

    assert agent.sshd_effective("/", runner) == {"PermitRootLogin": "no", "AllowUsers": "alice bob", "MaxAuthTries": "3"}
