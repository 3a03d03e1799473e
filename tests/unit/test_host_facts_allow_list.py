"""A Host node keeps the declared facts only: the ones the host check items read, and how the host is named."""

from __future__ import annotations

import json
import re

from checks.catalog import CATALOG
from loaders.hosts import HOST_FACTS, IDENTITY_FACTS, host_row, validate_host
from tests.helpers.planted import PLANTED, planted
from tests.helpers.sample import sample_doc

# a Host property in a check item: `n.x` of an item about hosts, `h.x` of `(h:Host)` in any item
HOST_PROPERTY = re.compile(r"\b(?:n|h)\.([a-z_0-9]+)")


def facts_read_by_items() -> set[str]:
    read: set[str] = set()
    for item in CATALOG:
        text = " ".join(getattr(item, f) or "" for f in ("collected", "fails", "applies"))
        if item.asset_type == "Host":
            read |= set(HOST_PROPERTY.findall(text))
        elif "(h:Host)" in text:
            read |= {p for p in HOST_PROPERTY.findall(text) if f"h.{p}" in text}
    return read


def test_the_allow_list_is_what_the_items_read_and_the_host_names() -> None:
    read = facts_read_by_items()
    assert read, "no host item found"
    assert read <= set(HOST_FACTS), read - set(HOST_FACTS)
    assert set(HOST_FACTS) - read <= set(IDENTITY_FACTS), set(HOST_FACTS) - read - set(IDENTITY_FACTS)


def test_a_planted_report_gives_the_same_facts_and_keeps_no_secret() -> None:
    for report in sample_doc()["hosts"]:
        clean = host_row(validate_host(report))
        dirty = host_row(validate_host(planted(report)))
        assert dirty == clean
        text = json.dumps(dirty)
        assert not [s for s in PLANTED if s in text]


def test_a_value_out_of_its_shape_is_not_kept() -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY----- abc"
    row = host_row(validate_host({"host_id": "h", "sshd": {"PermitRootLogin": key, "Protocol": "2"},
                                  "hostname": "web\n01", "os": {"name": "x" * 300}}))
    assert row["ssh_permit_root_login"] is None and row["ssh_protocol"] == "2"
    assert row["hostname"] is None and row["os_name"] is None
    assert set(row) == set(HOST_FACTS)
