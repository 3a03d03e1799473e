"""Enums of the schema: severities and statuses are checked by GraphQL validation, not compared as strings."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="How bad a finding or an attack path is, worst first.")
class Severity(Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


SEVERITY_RANK = {s.value: n for n, s in enumerate(Severity)}


@strawberry.enum(description="The status of one (check item, asset) result.")
class FindingStatus(Enum):
    PASS = "PASS"
    NOT_PASS = "NOT_PASS"
    NOT_CHECK = "NOT_CHECK"
    WHITELIST = "WHITELIST"
    NOT_SUPPORTED = "NOT_SUPPORTED"


@strawberry.enum(description="How findings are listed: worst severity first (then check item, asset), or by check "
                             "item, asset or region.")
class FindingOrder(Enum):
    WORST_FIRST = "worst_first"
    CHECK = "check"
    ASSET = "asset"
    REGION = "region"


@strawberry.enum(description="Where a scan is: queued for a worker, running, or done (`QUOTA_EXHAUSTED`: the "
                             "subscription ran out part-way; the rest of its results are NOT_CHECK).")
class ScanStatus(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    QUOTA_EXHAUSTED = "quota_exhausted"
    FAILED = "failed"


@strawberry.enum(description="A compliance requirement's state (see README, compliance).")
class RequirementStatus(Enum):
    PASS = "pass"
    FAIL = "fail"
    INCOMPLETE = "incomplete"
    NO_RESULTS = "no_results"
    PENDING = "pending"
    NOT_DECIDABLE = "not_decidable"


@strawberry.enum(description="What an attack path grants on its target.")
class Access(Enum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


@strawberry.enum(description="How a background task (sync, scan, paths, alerts) ended, or where it is.")
class TaskOutcome(Enum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    QUOTA_EXHAUSTED = "quota_exhausted"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    REFUSED = "refused"
    FAILED = "failed"
