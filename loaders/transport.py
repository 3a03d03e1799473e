"""The one interface every collector talks to: a call to an Alibaba Cloud OpenAPI action.

Three implementations share it: live (official SDK clients), record (wraps live, writes a
snapshot) and replay (answers from a snapshot). Collectors never know which one they have.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

# Error codes that mean "this thing is not configured": a fact about the asset, not a gap.
NOT_CONFIGURED_CODES = frozenset(
    {
        "NoSuchBucketPolicy",
        "NoSuchServerSideEncryptionRule",
        "NoSuchBucketEncryption",
        "EntityNotExist.User.LoginProfile",
        "EntityNotExist.User.MFADevice",
        "EntityNotExist.User.MFA",
        "NoSuchLifecycle",
        "NoSuchWebsiteConfiguration",
        "NoSuchCORSConfiguration",
        "InvalidDBInstanceId.NotFound",
    }
)


@dataclass(frozen=True)
class CallKey:
    product: str
    action: str
    region: str
    params: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{self.product}:{self.action} in {self.region} ({shown})"


class ApiError(Exception):
    """An API call that failed the way the real API fails (code, message, HTTP status)."""

    def __init__(self, code: str, message: str = "", http_status: int = 400, call: CallKey | None = None):
        super().__init__(f"{code}: {message}" + (f" [{call.describe()}]" if call else ""))
        self.code = code
        self.message = message
        self.http_status = http_status
        self.call = call

    @property
    def not_configured(self) -> bool:
        return self.code in NOT_CONFIGURED_CODES or self.code.startswith("EntityNotExist.User.LoginProfile")

    @property
    def denied(self) -> bool:
        code = self.code.lower()
        return (
            self.http_status in (401, 403)
            or "forbidden" in code
            or "accessdenied" in code
            or "nopermission" in code
            or "unauthorized" in code
        )


class MissingCallError(LookupError):
    """Replay was asked for a call the snapshot does not hold."""


class Transport(Protocol):
    account_id: str

    def call(
        self, product: str, version: str, action: str, region: str, params: dict[str, Any]
    ) -> Any:
        """Return the response body (dict for JSON APIs, str for OSS XML / policy text) or raise ApiError."""
        ...

    def regions(self, product: str) -> list[str]:
        """The regions the collectors should visit for a region-scoped product."""
        ...
