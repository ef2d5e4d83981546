"""The public API under load: the published appeals (200 and 304) and the events beacon, against two
baselines measured in the same run: `bare`, an endpoint of ours returning a constant JSON of the same size
through Django's whole stack, and `raw`, a WSGI callable returning a constant (bench/_raw_wsgi.py) under
the same granian command, the floor under any Python answer.

Targets (2-core machine, 32 connections): published JSON >= 80% of bare throughput with p99 <= 1.5x
bare's; events (answered before Django, appeals/beacon.py) >= 50% of raw with p99 <= 2x raw's. Runs are
interleaved with the baselines and repeated; ratios are taken within each round, then the median.
Resident memory of each readerfund server worker is read at the end.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import urllib.request
from dataclasses import dataclass

from bench.load import Request, Result, drive, median_result
from bench.serving import Server, demo_server, raw_server, worker_rss_mib
from bench.table import Row, row_add

SECONDS = int(os.environ.get("BENCH_SECONDS", "3"))
ROUNDS = 5
P99_RATIO = 1.5  # against bare
RAW_P99_RATIO = 2.0  # against raw
CONNECTIONS = 32
COUNTRY = "DE"


@dataclass(frozen=True)
class Scenario:
    name: str
    request: Request
    min_throughput_ratio: float
    status: int = 200  # what every response must be, or the run measures the wrong thing
    baseline: str = "bare"  # which baseline the target is against: "bare" or "raw"


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
            "raw",
        ),
    ]
    # wrk only counts errors; make sure each request gets the answer it is meant to measure.
    for scenario in (bare, *targets):
        status = _status(server, scenario.request)
        if status != scenario.status:
            raise SystemExit(f"{scenario.name}: got HTTP {status}, not {scenario.status}")
    return bare, targets


def _pair(baseline: Result, target: Result) -> tuple[float, float]:
    return target.rps / baseline.rps, target.p99_ms / baseline.p99_ms


Runs = dict[str, list[dict[str, Result]]]  # target -> one {"bare", "raw", target} per round


def _report(runs: Runs, targets: list[Scenario]) -> bool:
    """Ratios are taken within each round (the target and both baselines run back to back), then the
    median across rounds: a neighbour's burst of load on the machine then skews one round, not the verdict."""
    ok = True
    for baseline in ("bare", "raw"):
        result = median_result([r[baseline] for rounds in runs.values() for r in rounds])
        row_add(Row(f"{baseline} baseline", result.rps, "req/s", result.p99_ms))
    for scenario in targets:
        rounds = runs[scenario.name]
        result = median_result([r[scenario.name] for r in rounds])
        for baseline in ("bare", "raw"):
            ratios = [_pair(r[baseline], r[scenario.name]) for r in rounds]
            throughput = statistics.median(x[0] for x in ratios)
            tail = statistics.median(x[1] for x in ratios)
            judged = baseline == scenario.baseline
            p99_limit = P99_RATIO if baseline == "bare" else RAW_P99_RATIO
            met = throughput >= scenario.min_throughput_ratio and tail <= p99_limit and result.bad == 0
            ok &= met or not judged
            unit = "pageviews/s" if scenario.name.startswith("events") else "req/s"
            row_add(
                Row(
                    f"{scenario.name}" + (f" [{result.bad} bad]" if result.bad else ""),
                    result.rps,
                    unit,
                    result.p99_ms,
                    baseline,
                    throughput,
                    tail,
                    f">= {scenario.min_throughput_ratio:.0%}, p99 <= {p99_limit}x" if judged else "",
                    met if judged else None,
                )
            )
    return ok


def _round(servers: dict[str, Server], bare: Scenario, scenario: Scenario, round_number: int) -> dict[str, Result]:
    # The raw baseline answers the target's own request (its method, body and size) with a constant.
    order = [("bare", bare.request), (scenario.name, scenario.request), ("raw", scenario.request)]
    # Rotate which of the three runs first, so a drift in load favours none.
    shift = round_number % len(order)
    results = {}
    for name, request in order[shift:] + order[:shift]:
        server = servers["raw" if name == "raw" else "readerfund"]
        results[name] = drive(server.base_url, request, seconds=SECONDS, connections=CONNECTIONS)
    return results


def main() -> int:
    workers = int(os.environ.get("BENCH_WORKERS", "2"))
    load_before = os.getloadavg()[0]
    with demo_server(workers=workers) as server:
        bare, targets = scenarios(server)
        document_bytes = len(_published(server)[0])
        with raw_server(workers=workers, body_bytes=document_bytes) as raw:
            servers = {"readerfund": server, "raw": raw}
            for scenario in (bare, *targets):  # warm every process's caches and the event flusher
                drive(server.base_url, scenario.request, seconds=1, connections=CONNECTIONS)
                drive(raw.base_url, scenario.request, seconds=1, connections=CONNECTIONS)
            runs: Runs = {s.name: [] for s in targets}
            for round_number in range(ROUNDS):
                for index, scenario in enumerate(targets):
                    runs[scenario.name].append(_round(servers, bare, scenario, round_number + index))
            memory = worker_rss_mib(server.pid)
            raw_memory = worker_rss_mib(raw.pid)
    print(
        f"granian WSGI, {workers} workers x 4 threads; wrk 1 thread, {CONNECTIONS} connections; "
        f"{ROUNDS} rounds x {SECONDS}s"
    )
    # Other work on the machine shows up as tail latency; the load average says how much there was.
    print(f"load average at the start {load_before:.1f}, at the end {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs)")
    for name, rounds in runs.items():
        print(
            f"  {name:<18} rounds (bare / target / raw  rps, p99 ms): "
            + "  ".join(
                f"{r['bare'].rps:.0f}/{r['bare'].p99_ms:.0f} {r[name].rps:.0f}/{r[name].p99_ms:.0f} "
                f"{r['raw'].rps:.0f}/{r['raw'].p99_ms:.0f}"
                for r in rounds
            )
        )
    ok = _report(runs, targets)
    if memory:
        row_add(
            Row(
                "resident memory per server worker",
                max(memory),
                "MiB",
                against="raw WSGI worker",
                ratio=max(memory) / max(raw_memory) if raw_memory else None,
            )
        )
    return 0 if ok else 1
