"""Rows per second of the batch job: the local job against Ray Data with 1 and 2 workers.

    python bench/batch_bench.py --model demo --model artifacts/base-onnx-int8 --rows 2000 --repeats 3 \
        --markdown bench/batch-cpu.md --json bench/batch-cpu.json

For each model and configuration, `--repeats` runs, each in a process of its own (model loading
and memory honest), on the same JSONL input: the parity corpus repeated to `--rows` rows, written
to Parquet by the job. Configurations:

- `local T threads`: a process that loads the model with T threads and runs `classify_file` (what
  `crest-edge classify --input IN --output OUT --threads T` runs); the wall time of the whole
  process (model load included), the CPU time of `classify_file`, and its peak RSS.
- `ray N x 1 thread`: a fresh local Ray cluster (N + 1 CPUs: one for the read and write tasks),
  then `crest_edge.ray.classify_dataset(...).write_parquet(...)` with N actors of 1 thread each;
  the job's wall time (actor start and model load included, `ray.init` not: a cluster is started
  once and kept), each actor's CPU time inside its calls, and its peak RSS.

The configurations run in interleaved rounds (each round runs every configuration once), so a
change in the shared machine's load falls on all of them; medians over the rounds. The machine and
its load average before and after are in the report.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHUNK_ROWS = 256


def corpus_file(rows: int, folder: Path) -> Path:
    from crest_edge.data import parity_corpus_path, read_jsonl

    corpus = read_jsonl(parity_corpus_path())
    path = folder / f"corpus-{rows}.jsonl"
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(rows):
            handle.write(json.dumps({"id": i, **corpus[i % len(corpus)]}, ensure_ascii=False) + "\n")
    return path


def resolve_model(name: str) -> str:
    if name == "demo":
        from crest_edge.demo import demo_path

        return str(demo_path())
    return str(Path(name).resolve())


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def local_child(args) -> None:
    """One local job, in this process, through the library call the CLI makes; prints its JSON result."""
    from crest_edge import Guard
    from crest_edge.batch import classify_file

    with Guard.load(args.model, device="cpu", threads=args.threads) as guard:
        start, cpu = time.perf_counter(), cpu_seconds()
        classify_file(guard, args.input, args.output, chunk_rows=CHUNK_ROWS)
        busy, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"busy_s": busy, "cpu_s": cpu, "rss": rss}))


def run_local(model: str, source: Path, output: Path, threads: int) -> dict:
    command = [sys.executable, __file__, "--local-child", "--model", model, "--input", str(source)]
    command += ["--output", str(output), "--threads", str(threads)]
    start = time.perf_counter()
    done = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"local job failed: {done.stderr[-2000:]}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    return {"wall_s": wall, "cpu_rates": [ROWS_OF[source] / child["cpu_s"]], "peak_rss_mb": [child["rss"]]}


ROWS_OF: dict[Path, int] = {}


def ray_child(args) -> None:
    """One Ray measurement, in this process: prints its JSON result on the last line of stdout."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    from crest_edge.ray import Classifier, classify_dataset

    stats = Path(args.stats)

    class Measured(Classifier):  # defined here, so Ray ships it by value
        def __call__(self, batch):
            start, cpu = time.perf_counter(), cpu_seconds()
            out = super().__call__(batch)
            busy, cpu = time.perf_counter() - start, cpu_seconds() - cpu
            with open(stats / f"{os.getpid()}.jsonl", "a") as handle:
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                handle.write(json.dumps({"rows": batch.num_rows, "busy": busy, "cpu": cpu, "rss": rss}) + "\n")
            return out

    start = time.perf_counter()
    ray.init(num_cpus=args.workers + 1, include_dashboard=False, log_to_driver=False)
    init = time.perf_counter() - start
    start = time.perf_counter()
    dataset = ray.data.read_json(args.input)
    classify_dataset(
        dataset, args.model, workers=args.workers, chunk_rows=CHUNK_ROWS, threads=1, classifier=Measured
    ).write_parquet(args.output)
    wall = time.perf_counter() - start
    ray.shutdown()
    print(json.dumps({"wall_s": wall, "init_s": init}))


def run_ray(model: str, source: Path, output: Path, workers: int, folder: Path) -> dict:
    stats = Path(tempfile.mkdtemp(dir=folder))
    command = [sys.executable, __file__, "--ray-child", "--model", model, "--input", str(source)]
    command += ["--output", str(output), "--workers", str(workers), "--stats", str(stats)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"ray job failed: {done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    actors = []
    for path in sorted(stats.iterdir()):
        calls = [json.loads(line) for line in path.read_text().splitlines()]
        actors.append(
            {
                "rows": sum(c["rows"] for c in calls),
                "rate": sum(c["rows"] for c in calls) / sum(c["cpu"] for c in calls),
                "rss": max(c["rss"] for c in calls),
            }
        )
    result["cpu_rates"] = [a["rate"] for a in actors]
    result["peak_rss_mb"] = [a["rss"] for a in actors]
    result["worker_rows"] = [a["rows"] for a in actors]
    return result


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def measure(args) -> dict:
    import crest_edge

    folder = Path(tempfile.mkdtemp(prefix="crest-batch-bench-"))
    source = corpus_file(args.rows, folder)
    ROWS_OF[source] = args.rows
    report = {"machine": machine(), "rows": args.rows, "chunk_rows": CHUNK_ROWS, "repeats": args.repeats}
    report["crest_edge"] = crest_edge.__version__
    report["load_before"] = os.getloadavg()
    report["results"] = []
    configurations = [("local", 2), ("local", 1), ("ray", 1), ("ray", 2)]
    for model_name in args.model:
        model = resolve_model(model_name)
        runs = {config: [] for config in configurations}
        for repeat in range(args.repeats):  # interleaved rounds: the shared machine's load drifts
            for kind, n in configurations:
                output = folder / f"out-{Path(model).name}-{kind}{n}-{repeat}.parquet"
                local = kind == "local"
                run = run_local(model, source, output, n) if local else run_ray(model, source, output, n, folder)
                runs[kind, n].append(run)
                print(f"{model_name} {kind} {n}: {args.rows / run['wall_s']:.1f} rows/s", file=sys.stderr)
        for (kind, n), done in runs.items():
            report["results"].append(summarize(Path(model_name).name, kind, n, args.rows, done))
    report["load_after"] = os.getloadavg()
    return report


def summarize(model: str, kind: str, n: int, rows: int, runs: list[dict]) -> dict:
    wall = statistics.median(r["wall_s"] for r in runs)
    out = {
        "model": model,
        "config": f"local, {n} thread{'s' * (n > 1)}"
        if kind == "local"
        else f"ray, {n} worker{'s' * (n > 1)} x 1 thread",
        "kind": kind,
        "n": n,
        "wall_s": wall,
        "walls": [r["wall_s"] for r in runs],
        "rows_per_s": rows / wall,
        "peak_rss_mb": max(max(r["peak_rss_mb"]) for r in runs),
    }
    out["rows_per_cpu_s"] = statistics.median(rate for r in runs for rate in r["cpu_rates"])
    if kind == "ray":
        out["init_s"] = statistics.median(r["init_s"] for r in runs)
    return out


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        f"Batch job, {report['rows']:,} rows (the parity corpus repeated), chunks of {report['chunk_rows']}, "
        f"median of {report['repeats']} runs, each in its own process. {m['cpu']}, {m['cores']} cores, "
        f"shared: load average {report['load_before'][0]:.1f} before, {report['load_after'][0]:.1f} after.",
        "",
        "| model | configuration | rows/s end to end | wall s (runs) | rows per CPU-second, per worker "
        "| peak RSS per worker |",
        "|---|---|---|---|---|---|",
    ]
    for r in report["results"]:
        rate = r["rows_per_cpu_s"]
        walls = ", ".join(f"{w:.1f}" for w in r["walls"])
        lines.append(
            f"| {r['model']} | {r['config']} | {r['rows_per_s']:.1f} | {r['wall_s']:.1f} ({walls}) | "
            f"{rate:.0f} | {r['peak_rss_mb']:.0f} MB |"
        )
    lines += [
        "",
        "End to end: local, the whole command (model load included); Ray, the job from read to written "
        "files (actor start and model load included; `ray.init` not, median "
        + ", ".join(f"{r['init_s']:.1f} s" for r in report["results"] if r["kind"] == "ray")
        + "). Rows per CPU-second: rows over the CPU time (user + system, all threads) of the "
        "classification: local, around `classify_file` (reading, classifying, writing; no load); Ray, "
        "inside each actor's calls. On a shared machine the wall rates follow the scheduler's share; "
        "this one follows the work.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", action="append", help="demo, or an artifact path (repeatable)")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--markdown")
    parser.add_argument("--json")
    parser.add_argument("--ray-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--local-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    parser.add_argument("--workers", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.ray_child or args.local_child:
        args.model = args.model[0]
        return ray_child(args) if args.ray_child else local_child(args)
    args.model = args.model or ["demo"]
    report = measure(args)
    text = markdown(report)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
