"""Load test for `crest-edge serve`: N concurrent clients send single short texts for D seconds.

    python bench/serve_load.py --model crest-q4_k_m.gguf --clients 1 8 32 128 --duration 60 \
        --markdown bench/serve-load.md --json bench/serve-load.json

Starts the server (its own process, loopback, a free port), then for each client count runs that
many keep-alive HTTP/1.1 clients against POST /v1/moderations, each with one request in flight.
Every request is counted: answered (200 with exactly one result), rejected (503), errors (anything
else) and lost (no answer at all); the server's own request counters must agree. Reports
throughput, p50/p99 latency, the server's RSS (start, peak, end of each level: flat memory),
its mean batch size, and the ratio to in-process Guard.classify_batch throughput at a batch size
equal to the client count, measured in a separate process after the server stops.

The clients are plain asyncio streams, not an HTTP library, so that on a small machine the load
generator takes as little of the CPU the server needs as possible; its CPU time is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

SHORT_CHARS = 80  # "short texts": corpus lines up to this long (about 5-30 tokens)


def short_texts(limit: int = 400) -> list[str]:
    from crest_edge.data import parity_corpus_path, read_jsonl

    texts = [row["text"] for row in read_jsonl(parity_corpus_path()) if 0 < len(row["text"]) <= SHORT_CHARS]
    return texts[:limit]


# -- the clients -----------------------------------------------------------------------------------


class Tally:
    def __init__(self):
        self.sent = self.answered = self.rejected = self.errors = self.lost = 0
        self.latencies: list[float] = []
        self.first = self.last = None


async def _read_response(reader) -> tuple[int, bytes, bool]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed before an answer")
    status = int(status_line.split()[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection" and value.strip().lower() == b"close":
            close = True
    return status, await reader.readexactly(length), close


async def _client(index, host, port, path, bodies, stop_at, tally: Tally, auth: bytes, answer_timeout: float):
    reader = writer = None
    i = index * 7919
    while time.monotonic() < stop_at:
        if writer is None:
            reader, writer = await asyncio.open_connection(host, port)
        body = bodies[i % len(bodies)]
        i += 1
        head = (
            (
                f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n"
            ).encode()
            + auth
            + b"\r\n"
        )
        started = time.perf_counter()
        tally.sent += 1
        try:
            writer.write(head + body)
            status, payload, close = await asyncio.wait_for(_read_response(reader), answer_timeout)
        except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            tally.lost += 1
            writer.close()
            writer = None
            continue
        now = time.perf_counter()
        tally.first = tally.first or started
        tally.last = now
        if status == 200 and len(json.loads(payload)["results"]) == 1:
            tally.answered += 1
            tally.latencies.append(now - started)
        elif status == 503:
            tally.rejected += 1
        else:
            tally.errors += 1
        if close:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def run_level(
    url: str, clients: int, seconds: float, texts: list[str], api_key: str | None, path: str = "/v1/moderations"
) -> Tally:
    host, port = re.match(r"http://\[?([^\]/]+?)\]?:(\d+)", url).groups()
    bodies = [json.dumps({"model": "crest", "input": t}, ensure_ascii=False).encode() for t in texts]
    auth = f"Authorization: Bearer {api_key}\r\n".encode() if api_key else b""
    tally = Tally()

    async def main():
        stop_at = time.monotonic() + seconds
        await asyncio.gather(
            *(_client(i, host, int(port), path, bodies, stop_at, tally, auth, 60.0) for i in range(clients))
        )

    _event_loop_run(main())
    return tally


def _event_loop_run(coroutine):
    try:
        import uvloop

        return uvloop.run(coroutine)
    except ImportError:
        return asyncio.run(coroutine)


# -- the server and what it reports ----------------------------------------------------------------


def start_server(args) -> tuple[subprocess.Popen, str, list[str]]:
    command = [
        sys.executable,
        "-m",
        "crest_edge.cli",
        "serve",
        "--port",
        "0",
        "--threads",
        str(args.threads),
        *args.server_arg,
    ]
    if args.model:
        command += ["--model", args.model]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    found = threading.Event()
    holder = {}

    def read():
        for line in process.stdout:
            if "access:" not in line:  # the access log is one line per request
                lines.append(line.rstrip())
            if (m := re.search(r"listening on (http://\S+)", line)) and not found.is_set():
                holder["url"] = m.group(1)
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(120):
        process.kill()
        raise SystemExit("the server did not start:\n" + "\n".join(lines))
    import httpx

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the server exited:\n" + "\n".join(lines))
        try:
            if httpx.get(holder["url"] + "/health", timeout=5).status_code == 200:
                return process, holder["url"], lines
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the model did not load in 300 s")


def server_counters(url: str, api_key: str | None) -> dict:
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    text = httpx.get(url + "/metrics", headers=headers, timeout=30).text
    out = {"answered": 0.0, "all": 0.0}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "crest_edge_requests_total" and s.labels.get("endpoint") == "/v1/moderations":
                out["all"] += s.value
                if s.labels.get("status") == "200":
                    out["answered"] += s.value
            elif s.name in ("crest_edge_batch_size_sum", "crest_edge_batch_size_count"):
                out[s.name] = s.value
    return out


class RssSampler:
    def __init__(self, pid: int, every: float = 0.2):
        import psutil

        self.process, self.every, self.samples = psutil.Process(pid), every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(self.process.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# -- in-process reference --------------------------------------------------------------------------


def in_process(model: str | None, threads: int, batch_sizes: list[int], seconds: float) -> dict:
    from crest_edge import Guard

    texts = short_texts()
    guard = Guard.load(model, device="cpu", threads=threads, batch_size=max(batch_sizes))
    out = {}
    for size in batch_sizes:
        batches = [[texts[(start + j) % len(texts)] for j in range(size)] for start in range(0, len(texts), size)]
        guard.classify_batch(batches[0])
        done, started, k = 0, time.perf_counter(), 0
        while time.perf_counter() - started < seconds:
            done += len(guard.classify_batch(batches[k % len(batches)]))
            k += 1
        out[str(size)] = done / (time.perf_counter() - started)
    guard.close()
    return out


# -- report ----------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def markdown(result: dict) -> str:
    head = result["setup"]
    lines = [
        f"### serve load test: {head['model']} ({head['engine']})",
        "",
        f"{head['machine']}; {head['versions']}; {head['duration_s']} s per level; server threads "
        f"{head['threads']}, server options {head['server_args'] or 'defaults'}; load average before "
        f"{head['loadavg_before']}, after {head['loadavg_after']}.",
        "",
        "| clients | req/s | p50 ms | p99 ms | errors | rejected | lost | server/client count | mean batch "
        "| in-process bs=N texts/s (before / after) | ratio to their mean | RSS start / mid / peak / end MB "
        "| server CPU s | client CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["levels"]:
        lines.append(
            f"| {r['clients']} | {r['throughput']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['errors']} | {r['rejected']} | {r['lost']} | {r['server_answered']:.0f} / "
            f"{r['answered']} | {r['mean_batch']:.1f} | {r['in_process_before']:.0f} / "
            f"{r['in_process_after']:.0f} | {r['ratio']:.0%} | "
            f"{r['rss_start_mb']:.0f} / {r['rss_mid_mb']:.0f} / {r['rss_peak_mb']:.0f} / "
            f"{r['rss_end_mb']:.0f} | "
            f"{r['server_cpu_s']:.1f} | {r['client_cpu_s']:.1f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="what the server serves (default: the bundled demo)")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 8, 32, 128])
    p.add_argument("--duration", type=float, default=60.0, help="seconds per client count")
    p.add_argument("--warmup", type=float, default=3.0, help="seconds of load before the first level")
    p.add_argument("--threads", type=int, default=1, help="engine threads, server and in-process alike")
    p.add_argument("--inprocess-seconds", type=float, help="per batch size (default: min(duration, 10))")
    p.add_argument("--server-arg", action="append", default=[], help="extra `crest-edge serve` option (repeat)")
    p.add_argument("--json", help="write the result as JSON")
    p.add_argument("--markdown", help="append the table to this markdown file")
    p.add_argument("--inprocess", action="store_true", help=argparse.SUPPRESS)  # the reference worker
    args = p.parse_args(argv)
    if args.inprocess:
        print(json.dumps(in_process(args.model, args.threads, args.clients, args.inprocess_seconds)))
        return 0

    import psutil

    texts = short_texts()
    loadavg_before = _loadavg()
    # the reference runs before and after the server (each in its own process): on a shared machine
    # the spread between the two says how far the ratio can be trusted
    reference_before = _reference(args)
    process, url, _ = start_server(args)
    me = psutil.Process()
    server = psutil.Process(process.pid)
    import httpx

    info = httpx.get(url + "/info", timeout=30).json()
    levels = []
    try:
        if args.warmup:
            run_level(url, args.clients[0], args.warmup, texts, None)
        for clients in args.clients:
            before = server_counters(url, None)
            server_cpu, client_cpu = sum(server.cpu_times()[:2]), sum(me.cpu_times()[:2])
            with RssSampler(process.pid) as rss:
                tally = run_level(url, clients, args.duration, texts, None)
            after = server_counters(url, None)
            elapsed = (tally.last - tally.first) if tally.first else float("nan")
            batches = after.get("crest_edge_batch_size_count", 0) - before.get("crest_edge_batch_size_count", 0)
            rows = after.get("crest_edge_batch_size_sum", 0) - before.get("crest_edge_batch_size_sum", 0)
            levels.append(
                {
                    "clients": clients,
                    "sent": tally.sent,
                    "answered": tally.answered,
                    "rejected": tally.rejected,
                    "errors": tally.errors,
                    "lost": tally.lost,
                    "server_answered": after["answered"] - before["answered"],
                    "server_requests": after["all"] - before["all"],
                    "throughput": tally.answered / elapsed if elapsed else 0.0,
                    "p50_ms": 1000 * percentile(tally.latencies, 0.50),
                    "p99_ms": 1000 * percentile(tally.latencies, 0.99),
                    "mean_batch": rows / batches if batches else 0.0,
                    "rss_start_mb": rss.samples[0] / 2**20,
                    "rss_peak_mb": max(rss.samples) / 2**20,
                    # flat memory: the second half of a level should add nothing (the first warms up
                    # the engine's buffers for this level's batch shapes)
                    "rss_mid_mb": rss.samples[len(rss.samples) // 2] / 2**20,
                    "rss_end_mb": rss.samples[-1] / 2**20,
                    "rss_series_mb": [round(x / 2**20, 1) for x in rss.samples[::5]],
                    "server_cpu_s": sum(server.cpu_times()[:2]) - server_cpu,
                    "client_cpu_s": sum(me.cpu_times()[:2]) - client_cpu,
                }
            )
            print(
                f"{clients:>4} clients: {levels[-1]['throughput']:.0f} req/s, p50 {levels[-1]['p50_ms']:.1f} ms, "
                f"p99 {levels[-1]['p99_ms']:.1f} ms, sent {tally.sent} = answered {tally.answered} + rejected "
                f"{tally.rejected} + errors {tally.errors} + lost {tally.lost}",
                file=sys.stderr,
            )
    finally:
        process.terminate()
        code = process.wait(120)
    if code != 0:
        print(f"warning: the server exited with {code} on SIGTERM", file=sys.stderr)
    reference_after = _reference(args)
    for level in levels:
        key = str(level["clients"])
        level["in_process_before"], level["in_process_after"] = reference_before[key], reference_after[key]
        level["in_process"] = (reference_before[key] + reference_after[key]) / 2
        level["ratio"] = level["throughput"] / level["in_process"]
    result = {
        "setup": {
            "model": info["model"],
            "engine": f"{info['engine']} {info['precision']} on {info['device']}",
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "versions": _versions(info),
            "duration_s": args.duration,
            "threads": args.threads,
            "server_args": " ".join(args.server_arg),
            "server_exit": code,
            "loadavg_before": loadavg_before,
            "loadavg_after": _loadavg(),
            "limits": info["limits"],
        },
        "levels": levels,
    }
    table = markdown(result)
    print(table)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as handle:
            handle.write(table + "\n")
    bad = [lv for lv in levels if lv["lost"] or lv["errors"] or lv["server_answered"] != lv["answered"]]
    return 1 if bad or code != 0 else 0


def _reference(args) -> dict:
    seconds = args.inprocess_seconds or min(args.duration, 10.0)
    command = [
        sys.executable,
        __file__,
        "--inprocess",
        "--threads",
        str(args.threads),
        "--inprocess-seconds",
        str(seconds),
        "--clients",
        *map(str, args.clients),
    ]
    if args.model:
        command += ["--model", args.model]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def _loadavg() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def _versions(info: dict) -> str:
    from importlib import metadata

    from crest_edge.registry import ENGINES

    names = ["starlette", "uvicorn", "httptools", "uvloop", *ENGINES[info["engine"]].packages]
    found = []
    for name in names:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return f"crest-edge {info['crest_edge']}, " + ", ".join(found)


if __name__ == "__main__":
    sys.exit(main())
