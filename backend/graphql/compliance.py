"""A compliance report: package → section → requirement → items, with pass rates (the document
`skypath compliance --format json` prints, typed)."""

from __future__ import annotations

from typing import Any

import strawberry

from backend.graphql.enums import RequirementStatus, Severity
from backend.graphql.relay import Connection, from_list


@strawberry.type(description="Asset results of one check item (or summed over a requirement's items).")
class ResultTally:
    pass_: int = strawberry.field(name="pass")
    not_pass: int
    not_checked: int
    whitelisted: int
    not_supported: int
    pass_rate: float | None = strawberry.field(description="PASS / (PASS + NOT_PASS); null: no decided result.")


def tally(d: dict[str, Any]) -> ResultTally:
    return ResultTally(pass_=d["pass"], not_pass=d["not_pass"], not_checked=d["not_checked"],
                       whitelisted=d["whitelisted"], not_supported=d["not_supported"], pass_rate=d["pass_rate"])


@strawberry.type
class RequirementItem:
    check_id: str
    title: str
    severity: Severity
    results: ResultTally


@strawberry.type
class Requirement:
    id: str
    title: str
    status: RequirementStatus
    reason: str | None = strawberry.field(description="Why it is pending or not decidable.")
    assessment: str | None
    profile: str | None
    note: str | None
    results: ResultTally
    items: list[RequirementItem] = strawberry.field(description="Bounded: the few items mapped to it.")


def requirement(r: dict[str, Any]) -> Requirement:
    return Requirement(id=r["id"], title=r["title"], status=RequirementStatus(r["status"]), reason=r["reason"],
                       assessment=r["assessment"], profile=r["profile"], note=r["note"], results=tally(r),
                       items=[RequirementItem(check_id=i["check_id"], title=i["title"], severity=Severity(i["severity"]),
                                              results=tally(i)) for i in r["items"]])


@strawberry.type(description="How many requirements are in each state.")
class StateCounts:
    total: int
    pass_: int = strawberry.field(name="pass")
    fail: int
    incomplete: int
    no_results: int
    pending: int
    not_decidable: int
    pass_rate: float | None


def state_counts(d: dict[str, Any], total: int | None = None) -> StateCounts:
    return StateCounts(total=d["total"] if total is None else total, pass_=d["pass"], fail=d["fail"],
                       incomplete=d["incomplete"], no_results=d["no_results"], pending=d["pending"],
                       not_decidable=d["not_decidable"], pass_rate=d["pass_rate"])


@strawberry.type
class ComplianceSection:
    id: str
    title: str
    counts: StateCounts
    rows: strawberry.Private[list[dict[str, Any]]]

    @strawberry.field
    def requirements(self, first: int | None = 50, after: str | None = None) -> Connection[Requirement]:
        return from_list(self.rows, first, after, f"section{self.id}.requirements", requirement)


@strawberry.type(description="A requirement Skypath does not decide (pending or not decidable), and why.")
class UndecidedRequirement:
    id: str
    section: str
    title: str
    reason: str | None


@strawberry.type
class ComplianceSummary:
    requirements: int
    decidable: int
    mapped: int
    counts: StateCounts
    doc: strawberry.Private[dict[str, Any]]

    @strawberry.field
    def not_decidable(self, first: int | None = 50, after: str | None = None) -> Connection[UndecidedRequirement]:
        return from_list(self.doc["not_decidable"], first, after, "summary.notDecidable",
                         lambda r: UndecidedRequirement(**r))

    @strawberry.field
    def pending(self, first: int | None = 50, after: str | None = None) -> Connection[UndecidedRequirement]:
        return from_list(self.doc["pending"], first, after, "summary.pending", lambda r: UndecidedRequirement(**r))


@strawberry.type
class ComplianceReport:
    package: str
    title: str
    source: str | None
    scope: str | None
    item_count: int
    pass_rate: float | None
    summary: ComplianceSummary
    sections: list[ComplianceSection] = strawberry.field(description="Bounded: a package's chapters.")


def compliance_node(doc: dict[str, Any]) -> ComplianceReport:
    s = doc["summary"]
    return ComplianceReport(
        package=doc["package"], title=doc["title"], source=doc["source"], scope=doc["scope"], item_count=doc["items"],
        pass_rate=doc["pass_rate"],
        summary=ComplianceSummary(requirements=s["requirements"], decidable=s["decidable"], mapped=s["mapped"],
                                  counts=state_counts({**s, "pending": len(s["pending"]),
                                                       "not_decidable": len(s["not_decidable"])}, s["requirements"]),
                                  doc=s),
        sections=[ComplianceSection(id=x["id"], title=x["title"], counts=state_counts(x), rows=x["requirements"])
                  for x in doc["sections"]])
