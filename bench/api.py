"""The findings page and the attack-paths page of the API under 50 concurrent clients, on the
generated account: p50/p90/p99/max latency, against a baseline in the same run (`/healthz` under the
same load: what the HTTP stack and the load generator cost by themselves).

The server runs as `skypath serve --workers 2` in its own processes; the load comes from a lean
asyncio HTTP/1.1 keep-alive client (one connection per client, as browsers keep theirs), so the
figures measure the server rather than the client library.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from common import ROOT, driver, ensure_account, record

CLIENTS = 50
REQUESTS_PER_CLIENT = 60
WORKERS = 2
FINDINGS = """query($a: String!) { account(id: $a) { findings(status: [NOT_PASS], first: 50) {
  totalCount edges { node { checkId assetId severity } } } } }"""
PATHS = """query($a: String!) { account(id: $a) { attackPaths(first: 50) { totalCount edges { node { id severity } } }
  chokePoints { edges { node { pathsCut change } } } } }"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(port: int, token: str, body: dict[str, Any] | None) -> bytes:
    if body is None:
        return f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    payload = json.dumps(body).encode()
    head = (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n")
    return head.encode() + payload


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> dict[str, str]:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    if " 200 " not in status_line + " " or b'"errors"' in body:
        raise RuntimeError(f"{status_line}: {body[:300]!r}")
    return headers


async def _load(port: int, request: bytes) -> list[float]:
    latencies: list[float] = []

    async def one_client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for _ in range(REQUESTS_PER_CLIENT):
                started = time.perf_counter()
                await _exchange(reader, writer, request)
                latencies.append((time.perf_counter() - started) * 1000)
        finally:
            writer.close()

    await asyncio.gather(*(one_client() for _ in range(CLIENTS)))
    return latencies


async def _warm(port: int, request: bytes, deadline: float) -> int:
    """Until every worker has built its documents and served the page (each on its own connection)."""
    workers: set[str] = set()
    attempts = 0
    while len(workers) < WORKERS and time.monotonic() < deadline:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            headers = await _exchange(reader, writer, request)
        finally:
            writer.close()
        workers.add(headers["x-skypath-worker"])  # every response names the worker process that answered it
        attempts += 1
    if len(workers) < WORKERS:
        raise RuntimeError(f"only {len(workers)} of {WORKERS} workers answered the warm-up")
    return attempts


def _figures(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": round(ordered[-1], 1),
            "mean_ms": round(statistics.mean(ordered), 1)}


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
    server = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--workers",
                               str(WORKERS)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        figures: dict[str, Any] = {"clients": CLIENTS, "requests_per_page": CLIENTS * REQUESTS_PER_CLIENT,
                                   "server_workers": WORKERS, "warm_up_ms": {}}
        pages = {"findings_page": FINDINGS, "attack_paths_page": PATHS}
        for name, query in pages.items():
            started = time.perf_counter()
            attempts = asyncio.run(_warm(port, _request(port, token, {"query": query, "variables": {"a": account}}),
                                         time.monotonic() + 900))
            figures["warm_up_ms"][name] = {"ms": round((time.perf_counter() - started) * 1000), "requests": attempts}
        runs = {"healthz_baseline": None, **{n: {"query": q, "variables": {"a": account}} for n, q in pages.items()}}
        for name, body in runs.items():
            figures[name] = _figures(asyncio.run(_load(port, _request(port, token, body))))
        for name in pages:
            figures[name]["p99_vs_healthz_p99"] = round(figures[name]["p99_ms"] / max(figures["healthz_baseline"]["p99_ms"], 0.1), 2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures["targets"] = {"p99_ms": 100}
    record("api", figures)


if __name__ == "__main__":
    main()
