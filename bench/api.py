"""API: sessions.start + sessions.end requests/s and latency percentiles against a real `a3cp serve`
(fdatasync on, SQLite projection), driven by a load generator in a second process on loopback:
CONCURRENCY clients, each starting a session and ending it, over and over, authenticated by an API
token (each request also checks the grant and appends its audit record: docs/security.md). Each client is
one keep-alive connection of bench.lean_http (httpx's ~1 ms of CPU per request would be taken from the
server on this 2-core machine); every answer's status and session_id are checked.

`--profile FILE` samples the server with py-spy while the load runs (bench.profile): how request
threads waiting in SQLite's busy handler were found (docs/benchmarks.md); with `--gil` only the samples of
the thread holding the GIL, i.e. where the server's CPU goes. The server's CPU time per request (user +
system, from /proc) is printed too: it moves less with other load on the machine than requests/s do."""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import tempfile
import time
from contextlib import nullcontext
from multiprocessing.connection import Connection
from pathlib import Path

from a3cp.domain.session import session_id_for
from a3cp.schemas import utc_now
from bench.append import rate, recorder_writer
from bench.client import END, START, end_body, request_body
from bench.lean_http import LeanConnection
from bench.profile import hottest, sampled
from bench.server import served

CONCURRENCY = 8
USERS = tuple(f"load-user-{index}" for index in range(CONCURRENCY))


async def _client(url: str, headers: dict[str, str], index: int, pairs: int, latencies: list[float]) -> None:
    user_id = USERS[index]
    async with LeanConnection(url, headers) as http:
        for _ in range(pairs):
            began = time.perf_counter()
            start = request_body(user_id, timestamp=utc_now())
            started = await http.post_json(START, start)
            latencies.append(time.perf_counter() - began)
            assert started.status == 201, started.body
            session_id = started.json()["session_id"]
            assert session_id == session_id_for(start["record_id"]), started.body
            began = time.perf_counter()
            ended = await http.post_json(END, end_body(session_id, user_id, timestamp=utc_now()))
            latencies.append(time.perf_counter() - began)
            assert ended.status == 200, ended.body
            assert ended.json()["session_id"] == session_id, ended.body


async def _load(url: str, headers: dict[str, str], pairs_per_client: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    began = time.perf_counter()
    await asyncio.gather(*(_client(url, headers, i, pairs_per_client, latencies) for i in range(CONCURRENCY)))
    return time.perf_counter() - began, latencies


def _generator(url: str, headers: dict[str, str], pairs_per_client: int, results: Connection) -> None:
    results.send(asyncio.run(_load(url, headers, pairs_per_client)))


def run(
    pairs_per_client: int, stacks: Path | None = None, workers: int = 1, gil_only: bool = False
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(dir=".") as tmp, served(Path(tmp).resolve(), USERS, workers) as server:
        asyncio.run(_load(server.url, server.headers, 2))  # warm-up: connections, migration check, imports
        receiving, sending = multiprocessing.Pipe(duplex=False)
        generator = multiprocessing.get_context("spawn").Process(
            target=_generator, args=(server.url, server.headers, pairs_per_client, sending)
        )
        with sampled(server.pid, stacks, gil_only=gil_only) if stacks else nullcontext():
            cpu_before = server.cpu_seconds()
            generator.start()
            seconds, latencies = receiving.recv()
            cpu = server.cpu_seconds() - cpu_before
            generator.join()
    latencies.sort()
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, round(0.99 * len(latencies)))] * 1000,
        "cpu_ms": cpu / len(latencies) * 1000,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small size (smoke run)")
    parser.add_argument("--profile", type=Path, metavar="FILE", help="py-spy stacks of the server, to FILE")
    parser.add_argument("--gil", action="store_true", help="--profile: only samples holding the GIL (CPU)")
    parser.add_argument("--workers", type=int, default=1, help="`a3cp serve --workers` (profile: 1 only)")
    parser.add_argument("--pairs", type=int, default=250, help="start+end pairs per client")
    args = parser.parse_args(argv)
    if args.profile and args.workers != 1:
        parser.error("--profile samples one server process: use it with --workers 1")
    r = run(5 if args.quick else args.pairs, args.profile, args.workers, args.gil)
    with tempfile.TemporaryDirectory(dir=".") as tmp:  # the anchor, in the same run
        appends = rate(recorder_writer, Path(tmp), 100 if args.quick else 2_000, 1)
    print(
        f"sessions.start + sessions.end, {CONCURRENCY} concurrent clients, {args.workers} server "
        f"process(es), {r['requests']:,} requests: "
        f"{r['rps']:,.0f} requests/s, p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms "
        "(goal p99 <= 25 ms); "
        f"server CPU {r['cpu_ms']:.2f} ms per request"
    )
    print(
        f"recorder durable appends, 1 writer: {appends:,.0f} events/s; ratio requests/appends: "
        f"{r['rps'] / appends:.3f} (goal >= 0.2, issue 23)"
    )
    if args.profile:
        samples, functions = hottest(args.profile, 12)
        print(f"server profile ({samples:,} samples, stacks in {args.profile}); share of samples inside:")
        for function, share in functions:
            print(f"  {share:6.1%}  {function}")


if __name__ == "__main__":
    main()
