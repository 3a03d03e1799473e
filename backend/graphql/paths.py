"""Attack paths (typed for drawing: nodes and edges), choke points with the fix they map to, what-if."""

from __future__ import annotations

import asyncio
from collections.abc import Set
from typing import Any

import strawberry

from backend.graphql.catalog import CheckItemNode, item_node
from backend.graphql.context import Ctx
from backend.graphql.enums import Access, Severity
from backend.graphql.relay import Connection, from_list
from checks.catalog import BY_ID


@strawberry.type(description="A graph property of a path node (values as text).")
class Property:
    key: str
    value: str


@strawberry.type(description="A node of an attack path: `id` is unique in the path's account, `label` is what to "
                             "show, `type` the node label (Internet, EcsInstance, RamRole, OssBucket, …).")
class PathNode:
    id: str
    label: str
    type: str
    account_id: strawberry.Private[str]

    @strawberry.field(description="The node's graph properties (empty for the Internet).")
    async def properties(self, info: Ctx) -> list[Property]:
        props = await info.context.properties_loader(self.account_id).load((self.type, self.id))
        return [Property(key=k, value=v if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in sorted(props.items())]


@strawberry.type(description="A hop of an attack path, from node `source` to node `target` (node ids).")
class PathEdge:
    source: str
    target: str
    type: str
    detail: str
    conditional: bool


@strawberry.type
class AttackPath:
    id: str
    type: str
    severity: Severity
    conditional: bool = strawberry.field(description="Needs a condition the analysis cannot decide.")
    entry: PathNode
    target: PathNode
    access: list[Access]
    conditional_access: list[Access]
    alternatives: int = strawberry.field(description="Other paths between the same entry and target.")
    raw: strawberry.Private[dict[str, Any]]
    account_id: strawberry.Private[str]

    # built when asked for: a page listing paths (most of them) does not pay for every hop's objects
    @strawberry.field(description="Bounded: a path has at most a few hops.")
    def nodes(self) -> list[PathNode]:
        return [path_node(n, self.account_id) for n in self.raw["nodes"]]

    @strawberry.field(description="`len(nodes) - 1` hops, in order.")
    def edges(self) -> list[PathEdge]:
        ids = [n["id"] for n in self.raw["nodes"]]
        return [PathEdge(source=a, target=b, type=e["type"], detail=e["detail"], conditional=e["conditional"])
                for a, b, e in zip(ids[:-1], ids[1:], self.raw["edges"], strict=True)]


def _label(node: dict[str, str]) -> str:
    """What to show for a node: the last part of an ARN (`…:role/app` → `app`, `…:root` → `root`), else the id."""
    ident = node["id"]
    return ident.replace(":", "/").rsplit("/", 1)[-1] if ident.startswith("acs:") else ident


def path_node(node: dict[str, str], account_id: str) -> PathNode:
    return PathNode(id=node["id"], label=_label(node), type=node["type"], account_id=account_id)


def attack_path(p: dict[str, Any], account_id: str) -> AttackPath:
    return AttackPath(
        id=p["id"], type=p["type"], severity=Severity(p["severity"]), conditional=p["conditional"],
        entry=path_node(p["entry"], account_id), target=path_node(p["target"], account_id),
        access=[Access(a) for a in p["access"]], conditional_access=[Access(a) for a in p.get("conditional_access", [])],
        alternatives=p.get("alternatives", 0), raw=p, account_id=account_id)


@strawberry.type(description="The hop a choke point cuts.")
class CutEdge:
    type: str
    source: str
    target: str


@strawberry.type(description="The failing finding whose fix makes a choke point's change.")
class Fix:
    check_id: str
    asset_id: str
    item: CheckItemNode
    automated: bool = strawberry.field(description="`remediate` can make the change (else: `manualSteps`).")
    command: str = strawberry.field(description="The exact `skypath remediate …` command (a dry run).")
    manual_steps: str | None


@strawberry.type(description="One change that cuts attack paths (a min-cut edge), most paths cut first.")
class ChokePoint:
    type: str
    id: str
    paths_cut: int
    change: str
    cuts: CutEdge | None
    fix: Fix | None = strawberry.field(description="The check item, asset and remediation it maps to; null when no "
                                                   "failing finding does (the `change` is then made by hand).")
    what_if: str | None = strawberry.field(description="The `whatIf(changes: …)` change that cuts it (null: a grant "
                                                       "no policy names).")


def what_if_change(c: dict[str, Any]) -> str | None:
    """The what-if change (checks/paths.py WHAT_IF_FORMS) that removes a choke point's edge."""
    edge = c.get("edge")
    if not edge:
        return None
    kind, src, dst = edge["type"], edge["from"], edge["to"]
    forms = {"EXPOSES": f"close-exposure:{c['id']}", "ASSUMES": f"detach-role:{src}", "AUTHENTICATES": f"disable-key:{src}",
             "CAN_ASSUME": f"remove-assume:{src}->{dst}"}
    if kind in forms:
        return forms[kind]
    return f"detach-policy:{c['id']}@{src}" if c["type"] == "RamPolicy" else None


def choke_point(c: dict[str, Any], fix: dict[str, Any] | None) -> ChokePoint:
    edge = c.get("edge")
    return ChokePoint(
        type=c["type"], id=c["id"], paths_cut=c["paths_cut"], change=c["change"], what_if=what_if_change(c),
        cuts=CutEdge(type=edge["type"], source=edge["from"], target=edge["to"]) if edge else None,
        fix=Fix(check_id=fix["check_id"], asset_id=fix["asset_id"], item=item_node(BY_ID[fix["check_id"]]),
                automated=fix["automated"], command=fix["command"], manual_steps=fix["manual_steps"]) if fix else None)


@strawberry.type
class PathPair:
    entry: str
    target: str


@strawberry.type(description="What a proposed change would do to the attack paths (nothing is changed).")
class WhatIf:
    changes: list[str] = strawberry.field(description="Bounded: the changes asked for.")
    paths_removed: int
    paths_remaining: int
    doc: strawberry.Private[dict[str, Any]]

    @strawberry.field(description="The attack-graph hops the changes remove.")
    def edges_removed(self, first: int | None = 50, after: str | None = None) -> Connection[CutEdge]:
        return from_list(self.doc["edges_removed"], first, after, "whatIf.edgesRemoved",
                         lambda e: CutEdge(type=e["type"], source=e["from"], target=e["to"]))

    @strawberry.field(description="The (entry, target) pairs no longer connected.")
    def removed_pairs(self, first: int | None = 50, after: str | None = None) -> Connection[PathPair]:
        return from_list(self.doc["removed_pairs"], first, after, "whatIf.removedPairs",
                         lambda p: PathPair(entry=p[0], target=p[1]))


def what_if_node(doc: dict[str, Any]) -> WhatIf:
    return WhatIf(changes=list(doc["changes"]), paths_removed=doc["paths_removed"],
                  paths_remaining=doc["paths_remaining"], doc=doc)


async def choke_fixes(info: Ctx, account_id: str, chokes: list[dict[str, Any]],
                      failing: Set[tuple[str, str]]) -> list[dict[str, Any] | None]:
    from backend.fixes import choke_fixes as fixes

    return await asyncio.to_thread(fixes, info.context.driver, account_id, chokes, failing)
