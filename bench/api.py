"""The findings page and the attack-paths page of the API under 50 concurrent clients, on the
generated accounts of both generator profiles: p50/p90/p99/max latency, against a baseline in the same
run (`/healthz` under the same load: what the HTTP stack and the load generator cost by themselves).

Two load models, both with 50 clients, each client one keep-alive connection (as a browser keeps one):
- closed loop ("back-to-back"): every client sends its next request the moment the previous answer
  arrives, with no pause. 50 requests are always in flight: that is a saturation test, latency there is
  mostly queueing (50 × the CPU of one request / the cores), not what one user waits.
- paced (open loop): every client sends 1 request per second on its own schedule (random phase), whatever
  the server does: 50 requests/s in all, a dashboard's users clicking. Latency counts from the *scheduled*
  send time, so a late answer delays (and is charged to) the next request too (no coordinated omission).

Honest about caches: every request asks for a different page (its own `offset`/`first` variables), so the
1-second response cache cannot answer it; the figures count the `x-skypath-cache` outcome the server
reports on every response and give the hit ratio observed. The per-account documents (the findings index,
the persisted attack-path index) are what a request may use: the first request of each page on a fresh
server (`cold_first_request_ms`: it loads them) and every worker's first answer (`cold_p99_ms`) are
reported apart from the load.

The server runs as `skypath serve --workers 2` in its own processes; the load comes from a lean
asyncio HTTP/1.1 client in this process, on the same 2 cores (its CPU per request is reported:
`client_cpu_ms_per_request`), so the figures measure the server rather than the client library.
`SKYPATH_BENCH_PROFILES=default` measures one profile; `SKYPATH_BENCH_<PROFILE>_ACCOUNT` loads the
profile under another account id (the shared bench accounts are re-ingested by other benchmarks).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import PROFILE_ACCOUNTS, RESULTS, ROOT, driver, ensure_account, record

CLIENTS = 50
REQUESTS_PER_CLIENT = int(os.environ.get("SKYPATH_BENCH_REQUESTS_PER_CLIENT", "60"))  # closed loop
PACED_SECONDS = int(os.environ.get("SKYPATH_BENCH_PACED_SECONDS", "30"))  # each client 1 request/s this long
PACED_RATE = 1.0  # requests per second per client
P99_TARGET_MS = 100
WORKERS = 2
FINDINGS = """query($a: String!, $after: String) { account(id: $a) { findings(status: [NOT_PASS], first: 50, after: $after) {
  totalCount edges { node { checkId assetId severity } } } } }"""
PATHS = """query($a: String!, $after: String) { account(id: $a) { attackPaths(first: 50, after: $after) { totalCount
  edges { node { id severity type entry { id } target { id } } } } chokePoints(first: 5) { edges { node { pathsCut change } } } } }"""


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
    # an account another benchmark is re-ingesting answers null: that is no measurement of a page
    if " 200 " not in status_line + " " or b'"errors"' in body or b'"account":null' in body:
        raise RuntimeError(f"{status_line}: {body[:300]!r}")
    return headers


Load = tuple[list[float], dict[str, int], float]  # latencies (ms), cache outcomes, this client's CPU ms per request


async def _load(port: int, requests: list[bytes]) -> Load:
    """Closed loop: each client sends its share of `requests` back to back (distinct bodies: no response-cache
    hits by design)."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    cpu = time.process_time()

    async def one_client(mine: list[bytes]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for request in mine:
                await _measured(reader, writer, request, time.perf_counter(), latencies, outcomes)
        finally:
            writer.close()

    await asyncio.gather(*(one_client(requests[c::CLIENTS]) for c in range(CLIENTS)))
    return latencies, outcomes, (time.process_time() - cpu) * 1000 / max(1, len(latencies))


async def _measured(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes, since: float,
                    latencies: list[float], outcomes: dict[str, int]) -> None:
    """One request; its latency counted from `since`, its response-cache outcome tallied."""
    headers = await _exchange(reader, writer, request)
    latencies.append((time.perf_counter() - since) * 1000)
    outcome = headers.get("x-skypath-cache", "none")
    outcomes[outcome] = outcomes.get(outcome, 0) + 1


async def _paced(port: int, requests: list[bytes]) -> Load:
    """Open loop: each client sends its share of `requests` at PACED_RATE per second from a random phase; a
    request's latency runs from the moment it was due (if the previous answer came late, the wait counts)."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    rng = random.Random(7)
    cpu = time.process_time()
    begin = time.perf_counter() + 0.5

    async def one_client(mine: list[bytes], phase: float) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for n, request in enumerate(mine):
                due = begin + phase + n / PACED_RATE
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                await _measured(reader, writer, request, due, latencies, outcomes)
        finally:
            writer.close()

    await asyncio.gather(*(one_client(requests[c::CLIENTS], rng.random() / PACED_RATE) for c in range(CLIENTS)))
    return latencies, outcomes, (time.process_time() - cpu) * 1000 / max(1, len(latencies))


async def _timed(port: int, request: bytes) -> tuple[float, dict[str, str]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        started = time.perf_counter()
        headers = await _exchange(reader, writer, request)
        return (time.perf_counter() - started) * 1000, headers
    finally:
        writer.close()


async def _warm(port: int, requests: list[bytes], deadline: float) -> list[float]:
    """Until every worker has built its documents and served the page: the latencies of those cold answers."""
    workers: set[str] = set()
    cold: list[float] = []
    while len(workers) < WORKERS and time.monotonic() < deadline:
        ms, headers = await _timed(port, requests[len(cold) % len(requests)])
        if headers["x-skypath-worker"] not in workers:  # every response names the worker that answered it
            workers.add(headers["x-skypath-worker"])
            cold.append(ms)
    if len(workers) < WORKERS:
        raise RuntimeError(f"only {len(workers)} of {WORKERS} workers answered the warm-up")
    return cold


def _server_cpu_ms(root: int) -> float:
    """CPU time (user + system) the server process and its worker processes used so far, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            stats[int(proc.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) * 1000 / tick)
    family, total = {root}, 0.0
    for pid, (parent, _) in sorted(stats.items()):  # children have larger pids than their parent, mostly
        if parent in family:
            family.add(pid)
    for pid in family:
        total += stats.get(pid, (0, 0.0))[1]
    return total


def _figures(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": round(ordered[-1], 1),
            "mean_ms": round(statistics.mean(ordered), 1)}


def _bodies(d: Any, name: str, account: str, total: int) -> list[dict[str, Any]]:
    """One distinct body per request: findings pages after different results, attack-path pages after different
    positions (the API's own cursors)."""
    from backend.graphql.enums import SEVERITY_RANK
    from backend.repository import encode_cursor
    from checks.catalog import BY_ID

    count = CLIENTS * (REQUESTS_PER_CLIENT + int(PACED_SECONDS * PACED_RATE))
    if name == "findings_page":
        rows = d.execute_query(
            "MATCH (st:ItemState {account_id: $a}) WHERE st.check_id IN $known UNWIND st.asset_ids AS asset "
            "RETURN st.check_id AS check, asset ORDER BY rand() LIMIT $n", a=account, n=count, known=list(BY_ID)).records
        return [{"query": FINDINGS, "variables": {"a": account, "after": encode_cursor("findings.worst_first", json.dumps(
            [SEVERITY_RANK[BY_ID[r["check"]].severity], r["check"], r["asset"]]))}} for r in rows]
    return [{"query": PATHS, "variables": {"a": account, "after": encode_cursor(
        "attackPaths", str((i * 7919) % max(1, total - 50)))}} for i in range(count)]


def _profile(d: Any, profile: str, account: str) -> dict[str, Any]:
    from backend.auth import create_token
    from bench.scan import MeteredPlan
    from checks.catalog import CATALOG
    from checks.path_index import load_index
    from checks.scan import run_items

    ensure_account(d, account=account, profile=profile)
    if not d.execute_query("MATCH (s:ItemState {account_id: $a}) RETURN count(s) AS c", a=account).records[0]["c"]:
        run_items(d, account, CATALOG, MeteredPlan(d, account), who="bench")
    total = load_index(d, account).total  # persisted by the ingest (built here if the code changed since)
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
        figures: dict[str, Any] = {"account": account, "clients": CLIENTS, "server_workers": WORKERS,
                                   "attack_paths": total, "load_average_before": round(os.getloadavg()[0], 2)}
        names = ("findings_page", "attack_paths_page")
        bodies = {name: [_request(port, token, b) for b in _bodies(d, name, account, total)] for name in names}
        closed_n = CLIENTS * REQUESTS_PER_CLIENT
        requests = {name: bodies[name][:closed_n] for name in names}
        paced = {name: bodies[name][closed_n:] for name in names}
        # the attack-path page first: its cold figure must not ride on documents the findings page loaded
        for name in reversed(names):
            cold = asyncio.run(_warm(port, requests[name], time.monotonic() + 900))
            figures.setdefault("cold", {})[name] = {"first_request_ms": round(cold[0]), "p99_ms": round(max(cold)),
                                                    "requests": len(cold)}
        healthz = _request(port, token, None)
        models = {"closed_loop": (_load, requests, "50 clients back to back (next request on the previous answer, "
                                                   "no pause): 50 in flight at all times"),
                  "paced": (_paced, paced, f"50 clients each {PACED_RATE:g} request/s for {PACED_SECONDS} s (open "
                                           "loop, latency from the scheduled send time)")}
        for model, (run, load, meaning) in models.items():
            baseline = asyncio.run(run(port, [healthz] * len(load["findings_page"])))
            figures[model] = {"model": meaning, "requests_per_page": len(load["findings_page"]),
                              "healthz_baseline": _figures(baseline[0])}
            for name in names:
                server_cpu = _server_cpu_ms(server.pid)
                latencies, outcomes, client_cpu = asyncio.run(run(port, load[name]))
                row = figures[model][name] = _figures(latencies)
                row["server_cpu_ms_per_request"] = round((_server_cpu_ms(server.pid) - server_cpu) / len(latencies), 2)
                row["cache_outcomes"] = outcomes
                row["response_cache_hit_ratio"] = round(outcomes.get("hit", 0) / len(latencies), 3)
                row["client_cpu_ms_per_request"] = round(client_cpu, 2)
                row["meets_p99_target"] = row["p99_ms"] <= P99_TARGET_MS
        figures["load_average_after"] = round(os.getloadavg()[0], 2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return figures


def main() -> None:
    d = driver()
    wanted = os.environ.get("SKYPATH_BENCH_PROFILES", ",".join(sorted(PROFILE_ACCOUNTS, key=lambda n: n != "wildcard")))
    previous = json.loads(RESULTS.read_text()).get("api", {}) if RESULTS.exists() else {}
    figures: dict[str, Any] = {k: v for k, v in previous.items() if k in PROFILE_ACCOUNTS}  # profiles not re-run
    figures["targets"] = {"p99_ms": P99_TARGET_MS, "response_cache_hit_ratio": 0, "attack_paths_page": {
        "cold_first_request_ms": 1000, "cold_p99_ms": 2000}}
    for name in wanted.split(","):
        account = os.environ.get(f"SKYPATH_BENCH_{name.upper()}_ACCOUNT", PROFILE_ACCOUNTS[name])
        figures[name] = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **_profile(d, name, account)}
        record("api", figures)  # each profile as soon as it is measured


if __name__ == "__main__":
    main()
