"""GPU check for crest-edge, for a lead on a machine with an NVIDIA GPU.

    python bench/gpu_check.py OUT_DIR [--shapes tiny,base] [--skip-bench] [--cache DIR]

1. Synthesizes tiny and base checkpoints (cached by `crest-edge bench`'s cache), converts them to
   CT2 float16 / int8_float16, GGUF q8_0 / q4_k_m and ONNX fp16, runs each on device "cuda" through
   Guard, compares the logits with the transformers fp32 reference run on the CPU, and prints a table
   (also OUT_DIR/gpu_check.md and .json). A format whose engine has no CUDA here is SKIP, never run
   on the CPU. Aim: under 5 minutes.
2. Benchmarks the base shape on "cuda" (crest_edge.benchmark.run_bench) on the formats that passed
   (bounded by --bench-timeout, default 600 s), writing OUT_DIR/bench-cuda-base.{md,json,png}.
Exit status: 0 all good; 1 a check failed; 2 no GPU (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from crest_edge.registry import BENCH_DEFAULTS

FORMATS = ",".join(BENCH_DEFAULTS["cuda"])


def find_gpu() -> str | None:
    """A description of the NVIDIA GPU, or None."""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=30,
            ).stdout.strip()
            if out:
                return out.splitlines()[0]
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        import ctranslate2

        if ctranslate2.get_cuda_device_count() > 0:
            return "CUDA device (seen by ctranslate2)"
    except Exception:
        pass
    return None


def check_one(path, fmt: str, quant: str, device: str, texts, ref: np.ndarray) -> dict:
    from crest_edge import Guard
    from crest_edge.parity import gates, metrics
    from crest_edge.registry import ENGINE_FOR_FORMAT
    from crest_edge.runtimes import adapter
    from crest_edge.verdict import unsafe_index

    row = {"artifact": f"{fmt}:{quant}", "engine": ENGINE_FOR_FORMAT[fmt]}
    devices = adapter(row["engine"]).devices()
    if device not in devices:
        return dict(row, status="SKIP", note=f"{row['engine']} has no {device} here (has {', '.join(devices)})")
    t0 = time.perf_counter()
    guard = Guard.load(path, device=device)
    row["load_s"] = time.perf_counter() - t0
    info = guard.engine.info
    row.update(device=info.device, precision=info.precision)
    t0 = time.perf_counter()
    got = guard.logits(texts)
    row["run_s"] = time.perf_counter() - t0
    labels = guard.labels
    guard.close()
    summary = metrics.summarize(ref, got, unsafe_index(labels))
    row.update(agreement=summary["agreement"], max_dp=summary["max_dp"], max_dlogit=summary["max_dlogit"])
    limits = gates.gate_limits(gates.effective_class(quant, info.precision))
    if info.device != device:
        return dict(row, status="FAIL", note=f"engine reports {info.device}, not {device}")
    ok = all(r.passed for r in gates.check(summary, limits)) and np.isfinite(got).all()
    return dict(row, status="PASS" if ok else "FAIL", note=f"gates: {gates.describe_limits(limits)}")


def table(rows: list[dict]) -> str:
    lines = [
        "| shape | artifact | engine | device | precision | agreement | max abs dp | max abs dlogit | load s | "
        "run s | status | note |",
        "|---|---|---|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    f = lambda v, spec: "" if v is None else format(v, spec)  # noqa: E731
    for r in rows:
        lines.append(
            f"| {r['shape']} | {r['artifact']} | {r['engine']} | {r.get('device', '')} | "
            f"{r.get('precision', '')} | {f(r.get('agreement'), '.2%')} | {f(r.get('max_dp'), '.4f')} | "
            f"{f(r.get('max_dlogit'), '.4f')} | {f(r.get('load_s'), '.2f')} | {f(r.get('run_s'), '.2f')} | "
            f"{r['status']} | {r.get('note', '')} |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory for the tables and the benchmark report")
    parser.add_argument("--shapes", default="tiny,base")
    parser.add_argument("--formats", default=FORMATS)
    parser.add_argument("--device", default="cuda", help=argparse.SUPPRESS)  # "cpu": self-test without a GPU
    parser.add_argument("--texts", type=int, default=64, help="parity texts per shape (default 64)")
    parser.add_argument("--cache", type=Path, help="artifact cache (default: crest-edge bench's)")
    parser.add_argument("--skip-bench", action="store_true")
    parser.add_argument("--bench-timeout", type=float, default=600, help="seconds for the whole benchmark")
    parser.add_argument("--batch", type=lambda t: [int(v) for v in t.split(",")], default=[1, 8, 32])
    parser.add_argument("--lengths", type=lambda t: [int(v) for v in t.split(",")], default=[16, 128, 512])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--budget", type=float, default=8, help="seconds per workload (see crest-edge bench)")
    args = parser.parse_args(argv)
    gpu = find_gpu() if args.device == "cuda" else f"self-test on {args.device}"
    if gpu is None:
        print(
            "gpu_check: no NVIDIA GPU found (no nvidia-smi GPU, ctranslate2 sees 0 CUDA devices); "
            "run this on a GPU machine",
            file=sys.stderr,
        )
        return 2
    from crest_edge import Guard
    from crest_edge.benchmark import artifacts as A
    from crest_edge.benchmark.worker import corpus_texts

    args.out.mkdir(parents=True, exist_ok=True)
    cache = (args.cache or A.default_cache()).expanduser()
    formats = A.parse_formats(args.formats)
    print(f"gpu_check: {gpu}; cache {cache}", flush=True)
    rows, started = [], time.perf_counter()
    texts = corpus_texts()[: args.texts]
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for shape in shapes:
        source = A.resolve_source(None, shape, 0, cache)
        with Guard.load(source.path, engine="torch", device="cpu") as reference:
            ref = reference.logits(texts)
        for fmt, quant in formats:
            try:
                path = A.ensure_artifact(source, fmt, quant, cache)
                row = check_one(path, fmt, quant, args.device, texts, ref)
            except Exception as exc:  # one failing format must not hide the others
                row = {
                    "artifact": f"{fmt}:{quant}",
                    "engine": fmt,
                    "status": "FAIL",
                    "note": f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}",
                }
            rows.append(dict(row, shape=shape))
            print(
                f"  {shape:<5} {fmt}:{quant:<13} {row['status']:<5} {row.get('note', '')} "
                f"[{time.perf_counter() - started:.0f} s]",
                flush=True,
            )
    text = table(rows)
    print("\n" + text + "\n", flush=True)
    (args.out / "gpu_check.md").write_text(f"# crest-edge GPU check\n\n{gpu}\n\n{text}\n", encoding="utf-8")
    (args.out / "gpu_check.json").write_text(json.dumps({"gpu": gpu, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    failed = any(r["status"] == "FAIL" for r in rows)
    if args.skip_bench:
        return 1 if failed else 0
    shape = "base" if "base" in shapes else shapes[-1]
    passed = [r["artifact"] for r in rows if r["shape"] == shape and r["status"] == "PASS"]
    if not passed:
        print(f"gpu_check: no {shape}-shape format passed on the device; skipping the benchmark", file=sys.stderr)
        return 1
    from crest_edge.benchmark import report, run_bench
    from crest_edge.runtimes import adapter

    peers = ["torch"] if args.device in adapter("torch").devices() else []
    stem = args.out / f"bench-{args.device}-{shape}"
    # each configuration gets its share of the time budget; a worker past it is killed, the others still run
    per_config = args.bench_timeout / (len(passed) + len(peers))
    print(
        f"gpu_check: benchmark --backend {args.device} --shape {shape} on {', '.join(passed)}"
        + ("" if peers else " (torch has no CUDA here: no fp32 peer)"),
        flush=True,
    )
    result = run_bench(
        shape=shape,
        backend=args.device,
        formats=",".join(passed),
        peers=peers,
        cache=cache,
        batch=args.batch,
        lengths=args.lengths,
        repeat=args.repeat,
        budget=args.budget,
        timeout=per_config,
    )
    stem.with_suffix(".md").write_text(report.markdown(result), encoding="utf-8")
    report.write_json(result, f"{stem}.json")
    report.plot(
        result,
        f"{stem}.png",
        (1, 128) if [1, 128] in result["meta"]["workloads"] else tuple(result["meta"]["workloads"][0]),
    )
    print(f"gpu_check: wrote {stem}.md / .json / .png [{time.perf_counter() - started:.0f} s]")
    bench_failed = any(c.get("error") for c in result["configs"])
    return 1 if failed or bench_failed else 0


if __name__ == "__main__":
    sys.exit(main())
