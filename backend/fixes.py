"""What to do about a risk: the check item, asset and remediation a choke point maps to, and manual
remediation steps with their placeholders filled from the asset (its user, its key, its region …)."""

from __future__ import annotations

import re
from collections.abc import Set
from typing import Any

from neo4j import Driver

from checks.catalog import BY_ID
from checks.model import SEVERITIES, CheckItem

# A choke point cuts one edge of the attack graph. Which findings does fixing it mean? Per edge kind: the end of
# the edge whose asset is fixed ("choke": the choke point's own node) and the items, preferred first.
_SG_ITEMS = tuple(i.id for i in BY_ID.values() if i.asset_type == "SecurityGroup"
                  and i.remediation_action == "RevokeSecurityGroup")
CHOKE_ITEMS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "EXPOSES": (("choke", _SG_ITEMS + ("ACS_ECS_InstanceInternetReachable",)),),
    "ASSUMES": (("from", ("ACS_ECS_PublicInstanceAdminRole", "ACS_ECS_PublicInstanceWithRamRole")),),
    "AUTHENTICATES": (("choke", ("ACS_RAM_AccessKeyRotation", "ACS_RAM_AccessKeyInactive")),
                      ("to", ("ACS_RAM_AdminUserAccessKey", "ACS_RAM_UserConsoleAndAccessKey"))),
    "CAN_ASSUME": (("choke", ("ACS_RAM_RoleTrustAnyone", "ACS_RAM_ExternalAdminRole", "ACS_RAM_RoleTrustExternalAccount")),
                   ("from", ("ACS_RAM_UserAssumeAdminRole",))),
    "CAN_ESCALATE": (("choke", ("ACS_RAM_PolicyFullAdmin", "ACS_RAM_PolicyGrantsRamWrite")),
                     ("from", ("ACS_RAM_UserPrivilegeEscalation", "ACS_RAM_RolePrivilegeEscalation",
                               "ACS_RAM_UserFullAdmin", "ACS_RAM_RoleFullAdmin"))),
    "CAN_ACCESS": (("choke", ("ACS_RAM_PolicyFullOssAccess", "ACS_RAM_PolicyFullAdmin")),),
}


def quota_advice(account_id: str) -> str:
    """What to do when a subscription's quota ran out during a scan."""
    return (f"the subscription quota ran out: the rest of this scan is NOT_CHECK and `skypath findings` keeps each "
            f"finding's last decided status, marked stale. Raise the quota (`skypath billing set --account "
            f"{account_id} --model subscription --cspm --quota N`, see `skypath billing show --account {account_id}` "
            f"for the recommended quota) or switch to pay-as-you-go when the subscription ends, then scan again")


def plan_advice(account_id: str) -> str:
    """What to do when the plan does not run some items (NOT_CHECK with a reason)."""
    return (f"some items were not run on this plan (NOT_CHECK, see each result's reason): buy CSPM to run them "
            f"(`skypath billing set --account {account_id} --model payg --cspm`)")


def remediate_command(account_id: str, check_id: str, asset_id: str) -> str:
    return f"skypath remediate --account {account_id} --check {check_id} --asset {asset_id}"


def choke_fix(choke: dict[str, Any], failing: Set[tuple[str, str]], account_id: str) -> dict[str, Any] | None:
    """The failing finding whose fix cuts this choke point (worst severity, automated first), or None.
    `failing`: (check id, asset id) of the account's NOT_PASS findings."""
    edge = choke.get("edge") or {}
    ends = {"choke": choke["id"], "from": edge.get("from"), "to": edge.get("to")}
    candidates = [(BY_ID[c], ends[end]) for end, items in CHOKE_ITEMS.get(edge.get("type", ""), ())
                  for c in items if c in BY_ID and ends[end]]
    hits = [(item, asset) for item, asset in candidates if (item.id, asset) in failing]
    if not hits:
        return None
    item, asset = min(hits, key=lambda h: (SEVERITIES.index(h[0].severity), h[0].remediation_action is None))
    return fix_of(item, asset, account_id)


def fix_of(item: CheckItem, asset_id: str, account_id: str, manual: str | None = None) -> dict[str, Any]:
    automated = item.remediation_action is not None
    return {"check_id": item.id, "title": item.title, "severity": item.severity, "asset_id": asset_id,
            "automated": automated, "command": remediate_command(account_id, item.id, asset_id),
            "manual_steps": None if automated else (manual or item.remediation)}


def failing_pairs(driver: Driver, account_id: str) -> set[tuple[str, str]]:
    """(check id, asset id) of the account's failing findings among the items choke points map to (stale ones too)."""
    rows = driver.execute_query(
        "MATCH (st:ItemState {account_id: $account}) WHERE st.check_id IN $checks "
        "UNWIND range(0, size(st.asset_ids) - 1) AS i WITH st, i WHERE st.statuses[i] = 'NOT_PASS' "
        "OR coalesce(st.decided[i], '') = 'NOT_PASS' RETURN st.check_id AS check_id, st.asset_ids[i] AS asset_id",
        account=account_id, checks=sorted({c for ends in CHOKE_ITEMS.values() for _, cs in ends for c in cs}),
        routing_="r").records
    return {(r["check_id"], r["asset_id"]) for r in rows}


def choke_fixes(driver: Driver, account_id: str, chokes: list[dict[str, Any]],
                failing: Set[tuple[str, str]] | None = None) -> list[dict[str, Any] | None]:
    """The fix of each choke point, from the account's failing findings (read here unless given)."""
    known = failing_pairs(driver, account_id) if failing is None else failing
    fixes = [choke_fix(c, known, account_id) for c in chokes]
    steps: dict[tuple[str, str], str] = {}
    for fix in fixes:
        if fix is not None and not fix["automated"]:
            key = (fix["check_id"], fix["asset_id"])
            if key not in steps:
                steps[key] = manual_steps(driver, account_id, BY_ID[key[0]], key[1])
            fix["manual_steps"] = steps[key]
    return fixes


# placeholder of a manual step → the asset property that fills it, per asset type ("*": any type)
PLACEHOLDERS: dict[str, dict[str, str]] = {
    "AccessKey": {"<user>": "user_name", "<key>": "id", "<old>": "id"},
    "RamUser": {"<user>": "name"},
    "RamGroup": {"<group>": "name"},
    "RamPolicy": {"<policy>": "name"},
    "SecurityGroup": {"<sg>": "id"},
    "OssBucket": {"<bucket>": "id"},
    "LoadBalancer": {"<lb>": "id"},
    "Disk": {"<disk>": "id"},
    "Trail": {"<trail>": "id"},
    "SlsLogstore": {"<logstore>": "name", "<project>": "project"},
    "RdsInstance": {"<id>": "id"},
    "KmsKey": {"<key>": "id"},
    "*": {"<region>": "region", "<account>": "account_id"},
}
_PLACEHOLDER = re.compile(r"<[^<>]+>")


def fill_placeholders(text: str, asset_type: str, props: dict[str, Any], keys: list[str] | None = None) -> str:
    """Manual steps with the asset's own values in place of `<user>`, `<key>`, `<region>` …; a RAM user's
    `<key>` is its access key when it has exactly one (several: listed after the steps). What only the user
    knows (`<code>`, `<p>` …) stays a placeholder."""
    table = {**PLACEHOLDERS["*"], **PLACEHOLDERS.get(asset_type, {})}
    values = {ph: str(props[prop]) for ph, prop in table.items() if props.get(prop) not in (None, "")}
    if keys and len(keys) == 1:
        values.setdefault("<key>", keys[0])
    filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(0), m.group(0)), text)
    if keys and len(keys) > 1 and "<key>" in filled:
        filled += f" (<key>: each of {', '.join(keys)})"
    return filled


def manual_steps(driver: Driver, account_id: str, item: CheckItem, asset_id: str) -> str:
    """The item's manual steps for this asset."""
    rows = driver.execute_query(
        f"MATCH (n:{item.asset_type} {{account_id: $account}}) WHERE {item.id_expr} = $asset "
        "OPTIONAL MATCH (k:AccessKey {account_id: $account})-[:AUTHENTICATES]->(n) WHERE k.status = 'Active' "
        "RETURN n {.*} AS props, collect(k.id) AS keys",
        account=account_id, asset=asset_id, routing_="r").records
    if not rows:
        return item.remediation
    return fill_placeholders(item.remediation, item.asset_type, dict(rows[0]["props"]), sorted(rows[0]["keys"]))
