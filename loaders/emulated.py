"""An account held in memory from a snapshot that also accepts write calls.

Reads are answered like replay; writes (the remediation actions) change the recorded responses
so that the next read sees the change — the same state serves the HTTP emulator
(`skypath emulator`) and offline remediation. Write handlers are a table: action → function.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from loaders.listing import EMULATOR_CURSOR, Listing, items_at, with_items
from loaders.products import apis, by_version, global_codes
from loaders.products import listing as declared_listing
from loaders.products import view as declared_view
from loaders.snapshot import PAGE_SIZE_PARAMS, ReplayTransport, Snapshot
from loaders.transport import ApiError, CallKey, MissingCallError

# the emulator's tables come from the product declarations (loaders/products/): which product a version
# names, which are global, how listings page, which requests are filtered views of a recording
VERSION_PRODUCTS = by_version()
PRODUCT_VERSIONS = {code: api.version for code, api in apis().items()}
GLOBAL_PRODUCTS = global_codes()
WRITE_PREFIXES = ("Revoke", "Authorize", "Modify", "Set", "Create", "Delete", "Attach", "Detach", "Add", "Remove",
                  "Update", "Start", "Stop", "Put", "Release", "Cancel", "Import", "Schedule")


class EmulatedAccount:
    """Thread-safe mutable snapshot state with replay reads and table-driven writes."""

    def __init__(self, snapshot: Snapshot):
        self._lock = threading.RLock()
        self.snapshot = Snapshot(snapshot.account_id, snapshot.account_name, snapshot.collected_at,
                                 copy.deepcopy(snapshot.calls), copy.deepcopy(snapshot.hosts))
        self.account_id = snapshot.account_id
        self.writes: list[dict[str, Any]] = []
        self._replay = ReplayTransport(self.snapshot)

    # -- reads
    def find(self, product: str, action: str, region: str | None, params: dict[str, Any]) -> dict[str, Any] | None:
        """The recorded call answering a request. `region` None: the request named none (no RegionId, a
        central endpoint), so any region's recording of the product may answer it."""
        with self._lock:
            found = self._replay.find(product, action, region, params) if region is not None else None
            if (found is None and region != "global" and product not in GLOBAL_PRODUCTS
                    and (region is None or declared_listing(product, action) is None)):
                # per-instance calls may name another region than the recording: look in every region of the
                # product (a region's listing is that region's own: empty where nothing was recorded)
                for r in [*self._replay.regions(product), "global"]:
                    found = self._replay.find(product, action, r, params)
                    if found is not None:
                        break
            return found

    def regions(self, product: str) -> list[str]:
        with self._lock:
            return self._replay.regions(product)

    def all_regions(self) -> list[str]:
        with self._lock:
            return sorted({c["region"] for c in self.snapshot.calls if c["region"] != "global"})

    def read(self, product: str, action: str, region: str | None, params: dict[str, Any]) -> Any:
        """Answer a read like the real API: recorded answers, re-paged to the page size and cursor asked,
        filtered views of recordings made for every value, empty listings where nothing was recorded."""
        key = CallKey(product, action, region or "(no region)", params)
        if (product, action) == ("Ecs", "DescribeRegions"):
            return {"Regions": {"Region": [{"RegionId": r} for r in self.all_regions()]}}
        if (product, action) == ("Sts", "GetCallerIdentity"):
            return {"AccountId": self.account_id, "Arn": f"acs:ram::{self.account_id}:root", "IdentityType": "Account",
                    "PrincipalId": self.account_id, "RequestId": "emulator"}
        listing = declared_listing(product, action)
        if listing is not None and listing.style != "none":
            repaged = self._repaged(listing, product, action, region, params)
            if repaged is not None:
                return repaged
        recorded = self.find(product, action, region, params)
        view = declared_view(product, action)
        if recorded is None and view is not None and params.get(view.param) not in (None, view.recorded_value):
            whole = self.find(product, action, region, {**params, view.param: view.recorded_value})
            if whole is not None and "response" in whole:
                return view.narrow(copy.deepcopy(whole["response"]), str(params[view.param]))
            recorded = whole
        if recorded is None and (product, action) == ("Ram", "ListPolicies"):
            # the account's policies are known from the GetPolicy calls the snapshot holds
            wanted = params.get("PolicyType")
            policies = [c["response"]["Policy"] for c in self.calls("Ram", "GetPolicy")
                        if "response" in c and (not wanted or c["params"].get("PolicyType") == wanted)]
            return {"IsTruncated": False, "Policies": {"Policy": copy.deepcopy(policies)}}
        if recorded is None:
            if (listing is not None and region not in (None, "global") and product not in GLOBAL_PRODUCTS
                    and not self._replay.has_calls(product, region)):
                return listing.empty()
            raise MissingCallError(f"snapshot has no recorded answer for {key.describe()}")
        if "error" in recorded:
            err = recorded["error"]
            raise ApiError(str(err["code"]), str(err.get("message", "")), int(err.get("http_status", 400) or 400), key)
        return copy.deepcopy(recorded["response"])

    def _repaged(self, listing: Listing, product: str, action: str, region: str | None,
                 params: dict[str, Any]) -> dict[str, Any] | None:
        """The page a client asks for, cut from every recorded page of the listing — or None when the recorded
        page answers it as recorded (same page size, a recorded cursor) or nothing was recorded."""
        cursors = (listing.page_param, "NextToken", "Marker")
        base = {k: v for k, v in params.items() if k not in PAGE_SIZE_PARAMS and k not in cursors}
        with self._lock:
            first = self.find(product, action, region, base)
            if first is None or "response" not in first:
                return None
            cursor = str(params.get("Marker" if listing.style == "marker" else "NextToken") or "")
            asked = next((params[p] for p in listing.size_params if p in params), None)
            recorded_size = next((first.get("params", {})[p] for p in PAGE_SIZE_PARAMS if p in first.get("params", {})),
                                 None)
            if not cursor.startswith(EMULATOR_CURSOR) and str(asked) == str(recorded_size):
                return None
            items = self._recorded_items(listing, product, action, first, base)
        size = max(1, int(asked or listing.default_size))
        if cursor.startswith(EMULATOR_CURSOR):
            offset = int(cursor.removeprefix(EMULATOR_CURSOR) or 0)
        else:
            offset = (max(1, int(params.get(listing.page_param) or 1)) - 1) * size
        more = offset + size < len(items)
        body = with_items(copy.deepcopy(first["response"]), listing.list_path, copy.deepcopy(items[offset:offset + size]))
        next_cursor = f"{EMULATOR_CURSOR}{offset + size}" if more else ""
        if listing.style == "marker":
            body["IsTruncated"] = more
            body.pop("Marker", None)
            if more:
                body["Marker"] = next_cursor
            return body
        page_info = listing.page_info(body) if listing.total_field else body
        if listing.total_field:
            page_info[listing.total_key] = len(items)
        by_token = "NextToken" in params or "MaxResults" in params
        if by_token:
            body["NextToken"] = next_cursor
            body["MaxResults"] = size
            page_info.pop(listing.page_param, None)
            page_info.pop("PageSize", None)
        else:
            page_info[listing.page_param] = offset // size + 1
            page_info["PageSize"] = size
            body.pop("NextToken", None)
        return body

    def _recorded_items(self, listing: Listing, product: str, action: str, first: dict[str, Any],
                        base: dict[str, Any]) -> list[Any]:
        """Every item of a recorded listing, following the recorded pages from the first."""
        items: list[Any] = []
        page, call, seen = 1, first, set()
        region = first["region"]
        while call is not None and "response" in call and id(call) not in seen:
            seen.add(id(call))
            body = call["response"]
            got = items_at(body, listing.list_path)
            items.extend(got)
            token, marker = str(body.get("NextToken") or ""), str(body.get("Marker") or "")
            total = listing.total(body) if listing.total_field else None
            if token:
                call = self._replay.find(product, action, region, {**base, "NextToken": token})
            elif marker and body.get("IsTruncated"):
                call = self._replay.find(product, action, region, {**base, "Marker": marker})
            elif got and total is not None and len(items) < int(total):
                page += 1
                call = self._replay.find(product, action, region, {**base, listing.page_param: page})
            else:
                call = None
        return items

    # -- writes
    def is_write(self, product: str, action: str) -> bool:
        return (product, action) in WRITE_HANDLERS or action.startswith(WRITE_PREFIXES)

    def write(self, product: str, action: str, region: str, params: dict[str, Any]) -> Any:
        handler = WRITE_HANDLERS.get((product, action))
        key = CallKey(product, action, region, params)
        if handler is None:
            raise ApiError("UnsupportedOperation", f"the emulator does not implement {product}:{action}", 400, key)
        with self._lock:
            # a write is atomic, like the real API's: a handler that fails leaves the account as it was
            saved = copy.deepcopy(self.snapshot.calls)
            try:
                result = handler(self, region, params)
            except BaseException:
                self.snapshot.calls[:] = saved
                raise
            self.writes.append({"product": product, "action": action, "region": region, "params": copy.deepcopy(params)})
            self._replay = ReplayTransport(self.snapshot)  # re-index: handlers may add calls
        return {"RequestId": f"emulator-{len(self.writes)}", **(result or {})}

    # -- helpers for handlers
    def calls(self, product: str, action: str) -> list[dict[str, Any]]:
        return [c for c in self.snapshot.calls if c["product"] == product and c["action"] == action]

    def one(self, product: str, action: str, key: str, value: Any) -> dict[str, Any]:
        for c in self.calls(product, action):
            if str(c.get("params", {}).get(key)) == str(value):
                return c
        raise ApiError("InvalidParameter.NotFound", f"{key}={value} not found", 404)

    def add_call(self, product: str, action: str, region: str, params: dict[str, Any], response: Any) -> None:
        self.snapshot.calls.append({"product": product, "version": PRODUCT_VERSIONS.get(product, ""), "action": action,
                                    "region": region, "params": params, "response": response})

    def set_response(self, call: dict[str, Any], response: Any) -> None:
        call.pop("error", None)
        call["response"] = response


class EmulatedTransport:
    """The Transport over an EmulatedAccount (offline remediation, tests)."""

    def __init__(self, state: EmulatedAccount):
        self.state = state
        self.account_id = state.account_id

    def regions(self, product: str) -> list[str]:
        return self.state.regions(product)

    def call(self, product: str, version: str, action: str, region: str, params: dict[str, Any]) -> Any:
        if self.state.is_write(product, action):
            return self.state.write(product, action, region, params)
        return self.state.read(product, action, region, params)


# ---------------------------------------------------------------- write handlers

Handler = Callable[[EmulatedAccount, str, dict[str, Any]], dict[str, Any] | None]


def _revoke_sg(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    call = s.one("Ecs", "DescribeSecurityGroupAttribute", "SecurityGroupId", p["SecurityGroupId"])
    perms = call["response"]["Permissions"]["Permission"]
    rule_ids = {v for k, v in p.items() if k.startswith("SecurityGroupRuleId")}

    def matches(perm: dict[str, Any]) -> bool:
        if str(perm.get("Direction", "ingress")).lower() != "ingress":
            return False
        if rule_ids:
            return perm.get("SecurityGroupRuleId") in rule_ids
        same = str(perm.get("IpProtocol", "")).lower() == str(p.get("IpProtocol", "")).lower() and \
            perm.get("PortRange") == p.get("PortRange")
        if "SourceCidrIp" in p:
            same = same and perm.get("SourceCidrIp") == p["SourceCidrIp"]
        if "Ipv6SourceCidrIp" in p:
            same = same and perm.get("Ipv6SourceCidrIp") == p["Ipv6SourceCidrIp"]
        if "Policy" in p:
            same = same and str(perm.get("Policy", "accept")).lower() == str(p["Policy"]).lower()
        if "Priority" in p:
            same = same and str(perm.get("Priority", "1")) == str(p["Priority"])
        return same

    kept = [perm for perm in perms if not matches(perm)]
    if len(kept) == len(perms):
        raise ApiError("InvalidSecurityGroupRule.NotFound", "no rule matches", 404)
    call["response"]["Permissions"]["Permission"] = kept


def _authorize_sg(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    call = s.one("Ecs", "DescribeSecurityGroupAttribute", "SecurityGroupId", p["SecurityGroupId"])
    call["response"]["Permissions"]["Permission"].append({
        "Direction": "ingress", "IpProtocol": p.get("IpProtocol", "TCP"), "PortRange": p.get("PortRange", "-1/-1"),
        "SourceCidrIp": p.get("SourceCidrIp", ""), "Ipv6SourceCidrIp": p.get("Ipv6SourceCidrIp", ""),
        "Policy": p.get("Policy", "Accept"), "Priority": str(p.get("Priority", "1")),
        "SecurityGroupRuleId": f"sgr-emu{len(s.writes)}", "Description": p.get("Description", ""),
    })


def _instance_metadata(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    for call in s.calls("Ecs", "DescribeInstances"):
        for inst in call.get("response", {}).get("Instances", {}).get("Instance", []):
            if inst.get("InstanceId") == p["InstanceId"]:
                inst.setdefault("MetadataOptions", {})["HttpTokens"] = p.get("HttpTokens", "required")
                if p.get("HttpEndpoint"):
                    inst["MetadataOptions"]["HttpEndpoint"] = p["HttpEndpoint"]
                return
    raise ApiError("InvalidInstanceId.NotFound", p["InstanceId"], 404)


def _rds_field(action: str, updates: Callable[[dict[str, Any], dict[str, Any]], None]) -> Handler:
    def handler(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
        call = s.one("Rds", action, "DBInstanceId", p["DBInstanceId"])
        updates(call["response"], p)
    return handler


def _security_ips(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    call = s.one("Rds", "DescribeDBInstanceIPArrayList", "DBInstanceId", p["DBInstanceId"])
    name = p.get("DBInstanceIPArrayName", "default")
    groups = call["response"]["Items"]["DBInstanceIPArray"]
    group = next((g for g in groups if g.get("DBInstanceIPArrayName", "default") == name), None)
    if group is None:
        group = {"DBInstanceIPArrayName": name, "SecurityIPList": ""}
        groups.append(group)
    new = [ip.strip() for ip in str(p.get("SecurityIps", "")).split(",") if ip.strip()]
    old = [ip for ip in str(group.get("SecurityIPList", "")).split(",") if ip]
    mode = str(p.get("ModifyMode", "Cover")).lower()
    merged = new if mode == "cover" else old + [ip for ip in new if ip not in old] if mode == "append" else \
        [ip for ip in old if ip not in new]
    group["SecurityIPList"] = ",".join(merged)


def _release_public(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    for action, path in (("DescribeDBInstanceAttribute", ("Items", "DBInstanceAttribute")),
                         ("DescribeDBInstances", ("Items", "DBInstance"))):
        for call in s.calls("Rds", action):
            for inst in call.get("response", {}).get(path[0], {}).get(path[1], []):
                if inst.get("DBInstanceId") == p["DBInstanceId"]:
                    inst["DBInstanceNetType"] = "Intranet"


PASSWORD_KEYS = ("MinimumPasswordLength", "RequireLowercaseCharacters", "RequireUppercaseCharacters", "RequireNumbers",
                 "RequireSymbols", "PasswordReusePrevention", "MaxLoginAttemps", "MaxPasswordAge", "HardExpiry")


def _password_policy(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    call = next(iter(s.calls("Ram", "GetPasswordPolicy")), None)
    if call is None:
        s.add_call("Ram", "GetPasswordPolicy", "global", {}, {"PasswordPolicy": {}})
        call = s.calls("Ram", "GetPasswordPolicy")[0]
    policy = call.setdefault("response", {}).setdefault("PasswordPolicy", {})
    for k in PASSWORD_KEYS:
        if k in p:
            v = p[k]
            policy[k] = (str(v).lower() == "true") if k.startswith("Require") or k == "HardExpiry" else int(v)


def _policies_list(s: EmulatedAccount, action: str, key: str, name: str) -> list[dict[str, Any]]:
    try:
        call = s.one("Ram", action, key, name)
    except ApiError:
        s.add_call("Ram", action, "global", {key: name}, {"Policies": {"Policy": []}})
        call = s.one("Ram", action, key, name)
    return call["response"].setdefault("Policies", {}).setdefault("Policy", [])


def _count_attachment(s: EmulatedAccount, p: dict[str, Any], delta: int) -> None:
    for call in s.calls("Ram", "GetPolicy"):
        params = call.get("params", {})
        if params.get("PolicyName") == p["PolicyName"] and params.get("PolicyType") == p["PolicyType"] and "response" in call:
            policy = call["response"].setdefault("Policy", {})
            policy["AttachmentCount"] = max(0, int(policy.get("AttachmentCount", 0)) + delta)


def _attach(kind: str) -> Handler:
    action, key = {"User": ("ListPoliciesForUser", "UserName"), "Group": ("ListPoliciesForGroup", "GroupName"),
                   "Role": ("ListPoliciesForRole", "RoleName")}[kind]

    def handler(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
        pols = _policies_list(s, action, key, p[key])
        if not any(x["PolicyName"] == p["PolicyName"] and x["PolicyType"] == p["PolicyType"] for x in pols):
            pols.append({"PolicyName": p["PolicyName"], "PolicyType": p["PolicyType"], "DefaultVersion": "v1"})
            _count_attachment(s, p, +1)
    return handler


def _detach(kind: str) -> Handler:
    action, key = {"User": ("ListPoliciesForUser", "UserName"), "Group": ("ListPoliciesForGroup", "GroupName"),
                   "Role": ("ListPoliciesForRole", "RoleName")}[kind]

    def handler(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
        call = s.one("Ram", action, key, p[key])
        pols = call["response"]["Policies"]["Policy"]
        kept = [x for x in pols if not (x["PolicyName"] == p["PolicyName"] and x["PolicyType"] == p["PolicyType"])]
        if len(kept) == len(pols):
            raise ApiError("EntityNotExist.Policy", f"{p['PolicyType']}/{p['PolicyName']} is not attached", 404)
        call["response"]["Policies"]["Policy"] = kept
        _count_attachment(s, p, -1)
    return handler


def _create_group(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    listing = next(iter(s.calls("Ram", "ListGroups")))
    groups = listing["response"].setdefault("Groups", {}).setdefault("Group", [])
    if any(g["GroupName"] == p["GroupName"] for g in groups):
        raise ApiError("EntityAlreadyExists.Group", p["GroupName"], 409)
    groups.append({"GroupName": p["GroupName"], "Comments": p.get("Comments", "")})
    s.add_call("Ram", "ListPoliciesForGroup", "global", {"GroupName": p["GroupName"]}, {"Policies": {"Policy": []}})
    s.add_call("Ram", "ListUsersForGroup", "global", {"GroupName": p["GroupName"]}, {"IsTruncated": False, "Users": {"User": []}})


def _add_user_to_group(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    s.one("Ram", "ListUsersForGroup", "GroupName", p["GroupName"])["response"]["Users"]["User"].append({"UserName": p["UserName"]})
    s.one("Ram", "ListGroupsForUser", "UserName", p["UserName"])["response"]["Groups"]["Group"].append({"GroupName": p["GroupName"]})


def _remove_user_from_group(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    users = s.one("Ram", "ListUsersForGroup", "GroupName", p["GroupName"])["response"]["Users"]["User"]
    if not any(u.get("UserName") == p["UserName"] for u in users):
        raise ApiError("EntityNotExist.User.Group", f"{p['UserName']} is not in {p['GroupName']}", 404)
    users[:] = [u for u in users if u.get("UserName") != p["UserName"]]
    groups = s.one("Ram", "ListGroupsForUser", "UserName", p["UserName"])["response"]["Groups"]["Group"]
    groups[:] = [g for g in groups if g.get("GroupName") != p["GroupName"]]


def _delete_group(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    name = p["GroupName"]
    listing = next(iter(s.calls("Ram", "ListGroups")))
    groups = listing["response"].setdefault("Groups", {}).setdefault("Group", [])
    if not any(g["GroupName"] == name for g in groups):
        raise ApiError("EntityNotExist.Group", name, 404)
    # like RAM: a group that still has members or policies cannot be deleted
    if s.one("Ram", "ListUsersForGroup", "GroupName", name)["response"]["Users"]["User"]:
        raise ApiError("DeleteConflict.Group.User", f"group {name} still has members", 409)
    if s.one("Ram", "ListPoliciesForGroup", "GroupName", name)["response"]["Policies"]["Policy"]:
        raise ApiError("DeleteConflict.Group.Policy", f"group {name} still has policies", 409)
    groups[:] = [g for g in groups if g["GroupName"] != name]
    s.snapshot.calls[:] = [c for c in s.snapshot.calls if not (
        c["product"] == "Ram" and c["action"] in ("ListUsersForGroup", "ListPoliciesForGroup")
        and c.get("params", {}).get("GroupName") == name)]


def _update_role(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    call = s.one("Ram", "GetRole", "RoleName", p["RoleName"])
    if "NewAssumeRolePolicyDocument" in p:
        json.loads(p["NewAssumeRolePolicyDocument"])
        call["response"]["Role"]["AssumeRolePolicyDocument"] = p["NewAssumeRolePolicyDocument"]


def _trails(s: EmulatedAccount) -> list[dict[str, Any]]:
    return [t for c in s.calls("Actiontrail", "DescribeTrails") for t in c.get("response", {}).get("TrailList", [])]


def _update_trail(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    found = [t for t in _trails(s) if t.get("Name") == p["Name"]]
    if not found:
        raise ApiError("TrailNotFoundException", p["Name"], 404)
    for t in found:
        for k in ("TrailRegion", "OssBucketName", "EventRW", "SlsProjectArn"):
            if k in p:
                t[k] = p[k]


def _logging_status(status: str) -> Handler:
    def handler(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
        found = [t for t in _trails(s) if t.get("Name") == p["Name"]]
        if not found:
            raise ApiError("TrailNotFoundException", p["Name"], 404)
        for t in found:
            t["Status"] = status
    return handler


def _delete_trail(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    found = False
    for c in s.calls("Actiontrail", "DescribeTrails"):
        trails = c.get("response", {}).get("TrailList", [])
        kept = [t for t in trails if t.get("Name") != p["Name"]]
        found = found or len(kept) != len(trails)
        if "response" in c:
            c["response"]["TrailList"] = kept
    if not found:
        raise ApiError("TrailNotFoundException", p["Name"], 404)


def _create_trail(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    home = p.get("RegionId") or region
    trail = {"Name": p["Name"], "HomeRegion": home, "TrailRegion": p.get("TrailRegion", "All"), "Status": "Fresh",
             "EventRW": p.get("EventRW", "Write"), "OssBucketName": p.get("OssBucketName", ""), "SlsProjectArn": ""}
    calls = [c for c in s.calls("Actiontrail", "DescribeTrails") if c["region"] == home]
    if calls:
        calls[0]["response"].setdefault("TrailList", []).append(trail)
    else:
        s.add_call("Actiontrail", "DescribeTrails", home, {"RegionId": home, "IncludeShadowTrails": True}, {"TrailList": [trail]})


def _service_linked_role(s: EmulatedAccount, region: str, p: dict[str, Any]) -> dict[str, Any]:
    service = p.get("ServiceName", "cspm.sas.aliyuncs.com")
    name = "AliyunServiceRoleForSasCspm" if "cspm" in service else f"AliyunServiceRoleFor{service.split('.')[0].title()}"
    arn = f"acs:ram::{s.account_id}:role/{name.lower()}"
    listing = next(iter(s.calls("Ram", "ListRoles")), None)
    if listing is None:
        s.add_call("Ram", "ListRoles", "global", {"MaxItems": 100}, {"IsTruncated": False, "Roles": {"Role": []}})
        listing = s.calls("Ram", "ListRoles")[0]
    roles = listing["response"]["Roles"]["Role"]
    if not any(r["RoleName"] == name for r in roles):
        roles.append({"RoleName": name, "Arn": arn, "RoleId": "emulated"})
        trust = {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": [service]}}]}
        s.add_call("Ram", "GetRole", "global", {"RoleName": name},
                   {"Role": {"RoleName": name, "Arn": arn, "AssumeRolePolicyDocument": json.dumps(trust)}})
        s.add_call("Ram", "ListPoliciesForRole", "global", {"RoleName": name}, {"Policies": {"Policy": []}})
    return {"Role": {"RoleName": name, "Arn": arn}}


def _backup_policy(r: dict[str, Any], p: dict[str, Any]) -> None:
    for key in ("BackupRetentionPeriod", "LogBackupRetentionPeriod"):
        if key in p:
            r[key] = int(p[key])
    for key in ("BackupLog", "PreferredBackupTime", "PreferredBackupPeriod"):
        if key in p:
            r[key] = str(p[key])


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1", "yes", "on", "enable", "enabled")


def _key_metadata(s: EmulatedAccount, key: str, value: str) -> dict[str, Any]:
    for call in s.calls("Kms", "DescribeKey"):
        meta = call.get("response", {}).get("KeyMetadata")
        if isinstance(meta, dict) and str(meta.get(key)) == value:
            return meta
    raise ApiError("Forbidden.KeyNotFound", f"no key with {key} {value}", 404)


def _rotation_policy(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    meta = _key_metadata(s, "KeyId", str(p["KeyId"]))
    enabled = _truthy(p.get("EnableAutomaticRotation"))
    meta["AutomaticRotation"] = "Enabled" if enabled else "Disabled"
    interval = str(p.get("RotationInterval") or "")
    if enabled and interval:
        seconds = int(interval[:-1]) * 86400 if interval.endswith("d") else int(interval.rstrip("s"))
        if not 7 * 86400 <= seconds <= 365 * 86400:
            raise ApiError("InvalidParameter", f"RotationInterval {interval} is not within 7d..365d", 400)
        meta["RotationInterval"] = f"{seconds}s"
    elif not enabled:
        meta["RotationInterval"] = ""


def _deletion_protection(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    meta = _key_metadata(s, "Arn", str(p["ProtectedResourceArn"]))
    meta["DeletionProtection"] = "Enabled" if _truthy(p.get("EnableDeletionProtection")) else "Disabled"


def _cancel_key_deletion(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    meta = _key_metadata(s, "KeyId", str(p["KeyId"]))
    if meta.get("KeyState") != "PendingDeletion":
        raise ApiError("Forbidden.KeyNotPendingDeletion", f"{p['KeyId']} is {meta.get('KeyState')}", 409)
    meta["KeyState"] = "Enabled"
    meta["DeleteDate"] = ""


def _slb_delete_protection(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    value = str(p.get("DeleteProtection", "on")).lower()
    if value not in ("on", "off"):
        raise ApiError("InvalidParameter", f"DeleteProtection {value}", 400)
    s.one("Slb", "DescribeLoadBalancerAttribute", "LoadBalancerId", p["LoadBalancerId"])["response"][
        "DeleteProtection"] = value


def _oss_call(s: EmulatedAccount, action: str, bucket: str) -> dict[str, Any]:
    return s.one("Oss", action, "bucket", bucket)


def _put_acl(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    acl = p.get("acl", "private")
    if acl not in ("private", "public-read", "public-read-write"):
        raise ApiError("InvalidArgument", f"acl {acl}", 400)
    s.set_response(_oss_call(s, "GetBucketAcl", p["bucket"]),
                   '<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy><AccessControlList>'
                   f"<Grant>{acl}</Grant></AccessControlList></AccessControlPolicy>")


def _put_policy(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    json.loads(p["policy"])
    s.set_response(_oss_call(s, "GetBucketPolicy", p["bucket"]), p["policy"])


def _delete_policy(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    call = _oss_call(s, "GetBucketPolicy", p["bucket"])
    call.pop("response", None)
    call["error"] = {"code": "NoSuchBucketPolicy", "message": "The bucket policy does not exist.", "http_status": 404}


def _put_encryption(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    s.set_response(_oss_call(s, "GetBucketEncryption", p["bucket"]),
                   "<ServerSideEncryptionRule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>"
                   f"{p.get('SSEAlgorithm', 'AES256')}</SSEAlgorithm></ApplyServerSideEncryptionByDefault></ServerSideEncryptionRule>")


def _put_logging(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    s.set_response(_oss_call(s, "GetBucketLogging", p["bucket"]),
                   f"<BucketLoggingStatus><LoggingEnabled><TargetBucket>{p['TargetBucket']}</TargetBucket>"
                   f"<TargetPrefix>{p.get('TargetPrefix', '')}</TargetPrefix></LoggingEnabled></BucketLoggingStatus>")


def _put_versioning(s: EmulatedAccount, region: str, p: dict[str, Any]) -> None:
    s.set_response(_oss_call(s, "GetBucketVersioning", p["bucket"]),
                   f"<VersioningConfiguration><Status>{p.get('Status', 'Enabled')}</Status></VersioningConfiguration>")


WRITE_HANDLERS: dict[tuple[str, str], Handler] = {
    ("Ecs", "RevokeSecurityGroup"): _revoke_sg,
    ("Ecs", "AuthorizeSecurityGroup"): _authorize_sg,
    ("Ecs", "ModifyInstanceMetadataOptions"): _instance_metadata,
    ("Rds", "ModifySecurityIps"): _security_ips,
    ("Rds", "ModifyDBInstanceTDE"): _rds_field("DescribeDBInstanceTDE", lambda r, p: r.update(TDEStatus=p.get("TDEStatus", "Enabled"))),
    ("Rds", "ModifyDBInstanceSSL"): _rds_field("DescribeDBInstanceSSL", lambda r, p: r.update(
        SSLEnabled="Yes" if str(p.get("SSLEnabled", "1")) in ("1", "Yes", "true") else "No")),
    ("Rds", "ModifyBackupPolicy"): _rds_field("DescribeBackupPolicy", _backup_policy),
    ("Rds", "ModifySQLCollectorRetention"): _rds_field("DescribeSQLCollectorPolicy", lambda r, p: r.update(
        StoragePeriod=int(p["ConfigValue"]))),
    ("Rds", "ModifySQLCollectorPolicy"): _rds_field("DescribeSQLCollectorPolicy", lambda r, p: r.update(
        SQLCollectorStatus=p.get("SQLCollectorStatus", "Enable"))),
    ("Rds", "ReleaseInstancePublicConnection"): _release_public,
    ("Ram", "SetPasswordPolicy"): _password_policy,
    ("Ram", "CreateGroup"): _create_group,
    ("Ram", "AddUserToGroup"): _add_user_to_group,
    ("Ram", "RemoveUserFromGroup"): _remove_user_from_group,
    ("Ram", "DeleteGroup"): _delete_group,
    ("Ram", "AttachPolicyToUser"): _attach("User"),
    ("Ram", "AttachPolicyToGroup"): _attach("Group"),
    ("Ram", "AttachPolicyToRole"): _attach("Role"),
    ("Ram", "DetachPolicyFromUser"): _detach("User"),
    ("Ram", "DetachPolicyFromGroup"): _detach("Group"),
    ("Ram", "DetachPolicyFromRole"): _detach("Role"),
    ("Ram", "UpdateRole"): _update_role,
    ("Actiontrail", "UpdateTrail"): _update_trail,
    ("Actiontrail", "StartLogging"): _logging_status("Enable"),
    ("Actiontrail", "StopLogging"): _logging_status("Disable"),
    ("Actiontrail", "CreateTrail"): _create_trail,
    ("Actiontrail", "DeleteTrail"): _delete_trail,
    ("Kms", "UpdateRotationPolicy"): _rotation_policy,
    ("Kms", "SetDeletionProtection"): _deletion_protection,
    ("Kms", "CancelKeyDeletion"): _cancel_key_deletion,
    ("Slb", "SetLoadBalancerDeleteProtection"): _slb_delete_protection,
    ("ResourceManager", "CreateServiceLinkedRole"): _service_linked_role,
    ("Oss", "PutBucketAcl"): _put_acl,
    ("Oss", "PutBucketPolicy"): _put_policy,
    ("Oss", "DeleteBucketPolicy"): _delete_policy,
    ("Oss", "PutBucketEncryption"): _put_encryption,
    ("Oss", "PutBucketLogging"): _put_logging,
    ("Oss", "PutBucketVersioning"): _put_versioning,
}


def oss_body_params(action: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """Decode an OSS write request body (XML / JSON) into handler params."""
    text = body.decode("utf-8", errors="replace") if body else ""
    if action == "PutBucketAcl":
        return {"acl": headers.get("x-oss-acl", "private")}
    if action == "PutBucketPolicy":
        return {"policy": text}
    if not text:
        return {}
    root = ET.fromstring(text)

    def find(tag: str) -> str:
        el = root.find(f".//{tag}")
        return (el.text or "") if el is not None else ""

    if action == "PutBucketEncryption":
        return {"SSEAlgorithm": find("SSEAlgorithm") or "AES256"}
    if action == "PutBucketLogging":
        return {"TargetBucket": find("TargetBucket"), "TargetPrefix": find("TargetPrefix")}
    if action == "PutBucketVersioning":
        return {"Status": find("Status") or "Enabled"}
    return {}


def xml_escape(text: str) -> str:
    return re.sub(r"[<>&]", lambda m: {"<": "&lt;", ">": "&gt;", "&": "&amp;"}[m.group(0)], text)
