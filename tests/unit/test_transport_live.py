"""Retry/backoff and error mapping of the live transport (no network)."""

from __future__ import annotations

from typing import Any

import pytest

from loaders.transport import ApiError, CallKey
from loaders.transport_live import _api_error, retry_call


def test_throttling_is_retried_with_growing_delays() -> None:
    attempts: list[int] = []
    delays: list[float] = []

    def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise ApiError("Throttling.User", "slow down", 400)
        return "ok"

    assert retry_call(flaky, sleep=delays.append) == "ok"
    assert len(attempts) == 3 and len(delays) == 2 and delays[1] > delays[0] * 0.6


def test_retries_are_bounded() -> None:
    def always() -> Any:
        raise ApiError("ServiceUnavailable", "down", 503)

    with pytest.raises(ApiError):
        retry_call(always, max_retries=2, sleep=lambda _: None)


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def denied() -> Any:
        calls.append(1)
        raise ApiError("Forbidden.RAM", "no", 403)

    with pytest.raises(ApiError) as err:
        retry_call(denied, sleep=lambda _: None)
    assert len(calls) == 1 and err.value.denied


class FakeTeaException(Exception):
    def __init__(self) -> None:
        super().__init__("boom")
        self.code = "EntityNotExist.User.LoginProfile"
        self.message = "The login policy does not exist"
        self.data = {"statusCode": 404}


def test_sdk_exceptions_map_to_api_errors() -> None:
    err = _api_error(FakeTeaException(), CallKey("Ram", "GetLoginProfile", "global", {"UserName": "x"}))
    assert (err.code, err.http_status, err.not_configured) == ("EntityNotExist.User.LoginProfile", 404, True)
    assert "GetLoginProfile" in str(err)
