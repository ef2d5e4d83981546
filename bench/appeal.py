"""The public API under load: the published appeals (200 and 304) and the events beacon, against a bare
endpoint that returns a constant JSON of the same size through the same stack.

Targets (2-core machine, 32 connections): published JSON >= 80% of bare throughput, events >= 50%,
p99 <= 1.5x bare. Runs are interleaved with the baseline and repeated; medians are reported.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import urllib.request
from dataclasses import dataclass

from bench.load import Request, Result, drive, median_result
from bench.serving import Server, demo_server

SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = 5
P99_RATIO = 1.5
CONNECTIONS = 32
COUNTRY = "DE"


@dataclass(frozen=True)
class Scenario:
    name: str
    request: Request
    min_throughput_ratio: float
    status: int = 200  # what every response must be, or the run measures the wrong thing


def _published(server: Server) -> tuple[bytes, str]:
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/newsrooms/demo/appeals.json?locale=en",
        headers={"CF-IPCountry": COUNTRY, "Origin": server.site_url},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.read(), response.headers["ETag"]


def _status(server: Server, request: Request) -> int:
    host, port = server.base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request(request.method, request.path, body=request.body or None, headers=dict(request.headers))
        return connection.getresponse().status
    finally:
        connection.close()


def scenarios(server: Server) -> tuple[Scenario, list[Scenario]]:
    body, etag = _published(server)
    document = json.loads(body)
    campaign = document["campaigns"][0]
    common = (("CF-IPCountry", COUNTRY), ("Origin", server.site_url))
    appeals_path = "/api/v1/newsrooms/demo/appeals.json?locale=en"
    event = {"newsroom": "demo", "campaign": campaign["id"], "variant": campaign["variants"][0]["id"], "event": "view"}
    bare = Scenario("bare", Request(f"/api/v1/bare?size={len(body)}", headers=common), 1.0)
    targets = [
        Scenario("appeals.json 200", Request(appeals_path, headers=common), 0.8),
        Scenario("appeals.json 304", Request(appeals_path, headers=(*common, ("If-None-Match", etag))), 0.8, 304),
        Scenario(
            "events POST",
            Request(
                "/api/v1/events",
                method="POST",
                headers=(*common, ("Content-Type", "text/plain;charset=UTF-8")),
                body=json.dumps(event),
            ),
            0.5,
            204,
        ),
    ]
    # wrk only counts errors; make sure each request gets the answer it is meant to measure.
    for scenario in (bare, *targets):
        status = _status(server, scenario.request)
        if status != scenario.status:
            raise SystemExit(f"{scenario.name}: got HTTP {status}, not {scenario.status}")
    return bare, targets


def _pair(bare: Result, target: Result) -> tuple[float, float]:
    return target.rps / bare.rps, target.p99_ms / bare.p99_ms


def _report(pairs: dict[str, list[tuple[Result, Result]]], targets: dict[str, float]) -> bool:
    """Ratios are taken within each (bare, target) pair run back to back, then the median across pairs:
    a neighbour's burst of load on the machine then skews one pair, not the verdict."""
    bare = median_result([b for runs in pairs.values() for b, _ in runs])
    print(f"{'endpoint':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'rps/bare':>9} {'p99/bare':>9}  verdict")
    print(f"{'bare':<18} {bare.rps:>8.0f} {bare.p50_ms:>8.2f} {bare.p99_ms:>8.2f} {1:>9.2f} {1:>9.2f}")
    ok = True
    for name, runs in pairs.items():
        result = median_result([t for _, t in runs])
        ratios = [_pair(b, t) for b, t in runs]
        throughput = statistics.median(r[0] for r in ratios)
        tail = statistics.median(r[1] for r in ratios)
        met = throughput >= targets[name] and tail <= P99_RATIO and result.bad == 0
        ok &= met
        verdict = "ok" if met else f"MISSED (want >= {targets[name]:.0%} of bare, p99 <= {P99_RATIO}x, no errors)"
        print(
            f"{name:<18} {result.rps:>8.0f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} "
            f"{throughput:>9.2f} {tail:>9.2f}  {verdict}" + (f" [{result.bad} bad responses]" if result.bad else "")
        )
    return ok


def main() -> int:
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    load_before = os.getloadavg()[0]
    with demo_server(workers=workers) as server:
        bare, targets = scenarios(server)
        for scenario in (bare, *targets):  # warm every process's caches and the event flusher
            drive(server.base_url, scenario.request, seconds=1, connections=CONNECTIONS)
        pairs: dict[str, list[tuple[Result, Result]]] = {s.name: [] for s in targets}
        for round_number in range(ROUNDS):
            for index, scenario in enumerate(targets):
                # Alternate which of the pair runs first, so a drift in load favours neither.
                first, second = (bare, scenario) if (round_number + index) % 2 == 0 else (scenario, bare)
                results = {
                    s.name: drive(server.base_url, s.request, seconds=SECONDS, connections=CONNECTIONS)
                    for s in (first, second)
                }
                pairs[scenario.name].append((results[bare.name], results[scenario.name]))
    print(f"granian WSGI, {workers} workers; wrk 1 thread, {CONNECTIONS} connections; {ROUNDS} pairs x {SECONDS}s")
    # Other work on the machine shows up as tail latency; the load average says how much there was.
    print(f"load average at the start {load_before:.1f}, at the end {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    for name, runs in pairs.items():
        print(
            f"  {name:<18} pairs (bare -> target rps, p99 ms): "
            + "  ".join(f"{b.rps:.0f}/{b.p99_ms:.0f}->{t.rps:.0f}/{t.p99_ms:.0f}" for b, t in runs)
        )
    return 0 if _report(pairs, {s.name: s.min_throughput_ratio for s in targets}) else 1
