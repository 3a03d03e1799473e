"""loaders/hosts.py: a fact that is absent, null or not a value of its kind is not collected (the items
reading it give NOT_CHECK); partial account facts are not a complete answer."""

from __future__ import annotations

from typing import Any

import pytest

from loaders.hosts import host_row, validate_host


def row(**report: Any) -> dict[str, Any]:
    return host_row(validate_host({"host_id": "h", **report}))


def test_accounts_without_shadow_facts_are_not_collected() -> None:
    r = row(accounts=[{"name": "root", "uid": 0}, {"name": "bob", "uid": 1000}])
    assert r["accounts_collected"] is True  # uid facts are there (ExtraUidZero can decide)
    assert r["password_collected"] is False and r["empty_password_accounts"] == []
    assert r["weak_password_collected"] is False and r["weak_password_accounts"] == []
    assert r["weak_password_unknown_accounts"] == ["root", "bob"]


def test_one_account_missing_from_shadow_makes_the_facts_partial() -> None:
    r = row(accounts=[{"name": "root", "uid": 0, "password": "set", "weak_password": False},
                      {"name": "bob", "uid": 1000}])
    assert r["password_collected"] is False and r["weak_password_collected"] is False
    assert r["weak_password_unknown_accounts"] == ["bob"]


def test_known_bad_accounts_are_listed_even_when_others_are_unknown() -> None:
    r = row(accounts=[{"name": "root", "uid": 0, "password": "EMPTY"},
                      {"name": "bob", "uid": 1000, "password": "set", "weak_password": True},
                      {"name": "eve", "uid": 1001}])
    assert r["empty_password_accounts"] == ["root"] and r["weak_password_accounts"] == ["bob"]
    assert r["password_collected"] is False and r["weak_password_collected"] is False


def test_complete_account_facts_are_collected() -> None:
    r = row(accounts=[{"name": "root", "uid": 0, "password": "locked", "weak_password": False},
                      {"name": "bob", "uid": 1000, "password": "Set", "weak_password": False}])
    assert r["password_collected"] is True and r["weak_password_collected"] is True
    assert r["weak_password_unknown_accounts"] == []


@pytest.mark.parametrize("password", [None, "", "unknown", "hash"])
def test_a_password_state_outside_set_empty_locked_is_not_collected(password: Any) -> None:
    r = row(accounts=[{"name": "root", "uid": 0, "password": password, "weak_password": False}])
    assert r["password_collected"] is False and r["empty_password_accounts"] == []


def test_null_sshd_values_are_not_collected() -> None:
    r = row(sshd={"PermitRootLogin": None, "PermitEmptyPasswords": None, "PasswordAuthentication": "",
                  "MaxAuthTries": None, "X11Forwarding": ["yes"], "Protocol": {"v": 2}, "LoginGraceTime": None,
                  "ClientAliveInterval": True})
    for prop in ("ssh_permit_root_login", "ssh_permit_empty_passwords", "ssh_password_authentication",
                 "ssh_max_auth_tries", "ssh_x11_forwarding", "ssh_protocol", "ssh_login_grace_time",
                 "ssh_client_alive_interval"):
        assert r[prop] is None, prop


def test_sshd_values_any_case_strings_and_ints() -> None:
    r = row(sshd={"permitrootlogin": " YES ", "MaxAuthTries": 6, "LoginGraceTime": "2m", "ClientAliveInterval": "1h30m"})
    assert r["ssh_permit_root_login"] == "yes" and r["ssh_max_auth_tries"] == 6
    assert r["ssh_login_grace_time"] == 120 and r["ssh_client_alive_interval"] == 5400
    assert row(sshd={"LoginGraceTime": "30s", "MaxAuthTries": "4"})["ssh_login_grace_time"] == 30
    assert row(sshd={"LoginGraceTime": "2 minutes"})["ssh_login_grace_time"] is None


@pytest.mark.parametrize("value, expected", [
    ("14", 14), (14, 14), (" 14 ", 14), (14.0, 14), ("+14", 14),
    (None, None), ("", None), ("abc", None), ("14.5", None), (14.5, None), ("1_4", None), ("١٤", None),
    (True, None), ([14], None), ({"v": 14}, None), ("9" * 30, None), (1e300, None), (float("nan"), None),
])
def test_numeric_settings_strings_or_ints_else_not_collected(value: Any, expected: int | None) -> None:
    r = row(login_defs={"PASS_MIN_DAYS": value, "PASS_WARN_AGE": value}, pwquality={"minlen": value, "minclass": value},
            sshd={"MaxAuthTries": value})
    assert r["pass_min_days"] == r["pass_warn_age"] == r["pwquality_minlen"] == r["pwquality_minclass"] == expected
    if not isinstance(value, float):  # sshd values are text: "14.0" is not an integer there
        assert r["ssh_max_auth_tries"] == expected


def test_pass_max_days_negative_means_never_expires() -> None:
    assert row(login_defs={"PASS_MAX_DAYS": "-1"})["pass_max_days"] == 99999
    assert row(login_defs={"PASS_MAX_DAYS": 90})["pass_max_days"] == 90
    assert row(login_defs={"PASS_MAX_DAYS": None})["pass_max_days"] is None


def test_null_os_version_is_not_the_string_none() -> None:
    r = row(os={"name": "Ubuntu", "version": None})
    assert r["os_version"] == "" and r["os_name"] == "Ubuntu"
