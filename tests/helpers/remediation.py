"""Shared by the remediation tests: what the dry run printed is what the emulator received."""

from __future__ import annotations

from typing import Any


def _wire(value: Any) -> str:
    """A param as it travels (RPC query strings, OSS headers and bodies)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sent_as_planned(planned: list[dict[str, Any]], received: list[dict[str, Any]]) -> None:
    """Same calls in the same order, and every planned param arrived with its value."""
    assert [(r["product"], r["action"]) for r in planned] == [(w["product"], w["action"]) for w in received]
    for req, got in zip(planned, received, strict=True):
        wire = {k: _wire(v) for k, v in got["params"].items()}
        missing = {k: _wire(v) for k, v in req["params"].items() if wire.get(k) != _wire(v)}
        assert not missing, (req["action"], missing, wire)
