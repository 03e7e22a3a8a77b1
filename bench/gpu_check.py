"""GPU check for crest-edge, for a lead on a machine with an NVIDIA GPU.

    python bench/gpu_check.py OUT_DIR [--shapes tiny,base] [--skip-bench] [--cache DIR]

1. Synthesizes tiny and base checkpoints (cached by `crest-edge bench`'s cache), converts them to
   CT2 float16 / int8_float16, GGUF q8_0 / q4_k_m and ONNX fp16, runs each on device "cuda" through
   Guard, compares the logits with the transformers fp32 reference run on the CPU, and prints a table
   (also OUT_DIR/gpu_check.md and .json). A format whose engine has no CUDA here is SKIP, never run
   on the CPU. Aim: under 5 minutes.
2. Runs `crest-edge bench --backend cuda --shape base` on the formats that passed (bounded by
   --bench-timeout, default 600 s), writing OUT_DIR/bench-cuda-base.{md,json,png}.
Exit status: 0 all good; 1 a check failed; 2 no GPU (one line on stderr).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

FORMATS = "ct2:float16,ct2:int8_float16,gguf:q8_0,gguf:q4_k_m,onnx:fp16"
MAX_DP = {"fp32": 1e-3, "16-bit": 0.01, "8-bit": 0.05, "5/6-bit": 0.10, "4-bit": 0.15}  # the parity gates


def find_gpu() -> str | None:
    """A description of the NVIDIA GPU, or None."""
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=30).stdout.strip()
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


def p_unsafe(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    return (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True))[:, -1]


def check_one(path, fmt: str, quant: str, device: str, texts, ref: np.ndarray) -> dict:
    from crest_edge import Guard
    from crest_edge.parity.gates import effective_class
    from crest_edge.runtimes import ENGINE_FOR_FORMAT, adapter

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
    guard.close()
    dp = np.abs(p_unsafe(got) - p_unsafe(ref))
    row.update(agreement=float((got.argmax(1) == ref.argmax(1)).mean()), max_dp=float(dp.max()),
               max_dlogit=float(np.abs(got - ref).max()))
    limit = MAX_DP[effective_class(quant, info.precision)]
    if info.device != device:
        return dict(row, status="FAIL", note=f"engine reports {info.device}, not {device}")
    ok = row["max_dp"] <= limit and np.isfinite(got).all()
    return dict(row, status="PASS" if ok else "FAIL", note=f"gate: dp <= {limit:g}")


def table(rows: list[dict]) -> str:
    lines = ["| shape | artifact | engine | device | precision | agreement | max abs dp | max abs dlogit | load s | "
             "run s | status | note |", "|---|---|---|---|---|---:|---:|---:|---:|---:|---|---|"]
    f = lambda v, spec: "" if v is None else format(v, spec)  # noqa: E731
    for r in rows:
        lines.append(f"| {r['shape']} | {r['artifact']} | {r['engine']} | {r.get('device', '')} | "
                     f"{r.get('precision', '')} | {f(r.get('agreement'), '.2%')} | {f(r.get('max_dp'), '.4f')} | "
                     f"{f(r.get('max_dlogit'), '.4f')} | {f(r.get('load_s'), '.2f')} | {f(r.get('run_s'), '.2f')} | "
                     f"{r['status']} | {r.get('note', '')} |")
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
    parser.add_argument("--bench-timeout", type=float, default=600)
    parser.add_argument("--bench-args", default="--batch 1,8,32 --lengths 16,128,512 --repeat 10 --budget 8",
                        help="extra arguments for crest-edge bench")
    args = parser.parse_args(argv)
    gpu = find_gpu() if args.device == "cuda" else f"self-test on {args.device}"
    if gpu is None:
        print("gpu_check: no NVIDIA GPU found (no nvidia-smi GPU, ctranslate2 sees 0 CUDA devices); "
              "run this on a GPU machine", file=sys.stderr)
        return 2
    from crest_edge.benchmark import artifacts as A
    from crest_edge.benchmark.worker import corpus_texts
    from crest_edge import Guard

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
                row = {"artifact": f"{fmt}:{quant}", "engine": fmt, "status": "FAIL",
                       "note": f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"}
            rows.append(dict(row, shape=shape))
            print(f"  {shape:<5} {fmt}:{quant:<13} {row['status']:<5} {row.get('note', '')} "
                  f"[{time.perf_counter() - started:.0f} s]", flush=True)
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
    from crest_edge.runtimes import adapter

    peers = "torch" if args.device in adapter("torch").devices() else "none"
    stem = args.out / f"bench-{args.device}-{shape}"
    command = [sys.executable, "-m", "crest_edge.cli", "bench", "--backend", args.device, "--shape", shape,
               "--formats", ",".join(passed), "--peers", peers, "--cache", str(cache),
               "--json", f"{stem}.json", "--markdown", f"{stem}.md", "--plot", f"{stem}.png",
               *args.bench_args.split()]
    print("gpu_check: " + " ".join(command[2:]) + (" (torch has no CUDA here: no fp32 peer)" if peers == "none"
                                                   else ""), flush=True)
    bench = subprocess.Popen(command, start_new_session=True)  # its own group: a timeout stops its workers too
    try:
        code = bench.wait(timeout=args.bench_timeout)
    except subprocess.TimeoutExpired:
        os.killpg(bench.pid, signal.SIGKILL)
        bench.wait()
        print(f"gpu_check: the benchmark ran past {args.bench_timeout:g} s and was stopped", file=sys.stderr)
        return 1
    print(f"gpu_check: wrote {stem}.md / .json / .png [{time.perf_counter() - started:.0f} s]")
    return 1 if failed or code else 0


if __name__ == "__main__":
    sys.exit(main())
