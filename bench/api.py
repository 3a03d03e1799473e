"""The findings page and the attack-paths page of the API under 50 concurrent clients, on the
generated account; p50/p99 latency (a baseline: /healthz under the same load, same run)."""

from __future__ import annotations

import asyncio
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx
from common import ROOT, driver, ensure_account, record

CLIENTS = 50
REQUESTS_PER_CLIENT = 6
FINDINGS = """query($a: String!) { account(id: $a) { findings(status: "NOT_PASS", first: 50) {
  total edges { node { checkId assetId severity } } } } }"""
PATHS = """query($a: String!) { account(id: $a) { attackPaths { chokePoints { pathsCut change } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _load(url: str, token: str, body: dict[str, Any] | None) -> list[float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=300) as client:
        async def one_client() -> None:
            for _ in range(REQUESTS_PER_CLIENT):
                started = time.perf_counter()
                if body is None:
                    resp = await client.get(url)
                else:
                    resp = await client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
                resp.raise_for_status()
                latencies.append((time.perf_counter() - started) * 1000)

        await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return latencies


async def _warm(url: str, token: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(timeout=600) as client:
        responses = await asyncio.gather(*(client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})
                                           for _ in range(8)))
        for resp in responses:
            resp.raise_for_status()


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(q * len(values)))], 1)


def main() -> None:
    from backend.auth import create_token
    from bench.scan import MeteredPlan
    from checks.catalog import CATALOG
    from checks.scan import run_items

    d = driver()
    account = ensure_account(d)
    if not d.execute_query("MATCH (s:ItemState {account_id: $a}) RETURN count(s) AS c", a=account).records[0]["c"]:
        run_items(d, account, CATALOG, MeteredPlan(d, account), who="bench")
    token = create_token(d, "viewer", [account], who="bench")["token"]
    port = _free_port()
    # the server in its own process (as `skypath serve` runs), so the load generator does not share its GIL
    server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--workers", "2"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    figures: dict[str, Any] = {"clients": CLIENTS, "requests": CLIENTS * REQUESTS_PER_CLIENT}
    # warm-up: every worker builds its per-account documents once per data version (timed, reported)
    for query in (FINDINGS, PATHS):
        started = time.perf_counter()
        asyncio.run(_warm(f"{base}/graphql", token, {"query": query, "variables": {"a": account}}))
        figures.setdefault("warm_up_ms", []).append(round((time.perf_counter() - started) * 1000))
    for name, body in (("healthz_baseline", None), ("findings_page", {"query": FINDINGS, "variables": {"a": account}}),
                       ("attack_paths_page", {"query": PATHS, "variables": {"a": account}})):
        url = f"{base}/healthz" if body is None else f"{base}/graphql"
        latencies = asyncio.run(_load(url, token, body))
        figures[name] = {"p50_ms": _pct(latencies, 0.5), "p99_ms": _pct(latencies, 0.99),
                         "mean_ms": round(statistics.mean(latencies), 1)}
    server.terminate()
    server.wait(timeout=30)
    figures["targets"] = {"p99_ms": 100}
    record("api", figures)


if __name__ == "__main__":
    main()
