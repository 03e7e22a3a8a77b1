"""`crest-edge bench`: plan, check the backend up front, convert and cache, run each config in a worker."""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from crest_edge.argtypes import positive_int
from crest_edge.errors import CrestEdgeError

from . import artifacts as A

DESCRIPTION = ("Benchmark every artifact format side by side with transformers fp32 and plain ONNX Runtime int8: "
               "latency, throughput, crest-edge overhead, peak RSS, load time and size, each configuration in its "
               "own process. Artifacts are converted once and cached.")


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"needs positive integers: {text!r}")
    return sorted(set(values))


def _workload(text: str) -> tuple[int, int]:
    try:
        batch, length = (int(v) for v in text.lower().split("x"))
        return batch, length
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected BATCHxLENGTH, e.g. 1x128: {text!r}") from None


def add_parser(sub) -> None:

    p = sub.add_parser("bench", help="benchmark artifact formats against transformers fp32", description=DESCRIPTION)
    source = p.add_mutually_exclusive_group()
    source.add_argument("--model", metavar="HF_DIR", help="the fp32 Hugging Face checkpoint to convert and measure")
    source.add_argument("--shape", choices=["tiny", "base", "large"],
                        help="synthesize a CREST-shaped checkpoint (cached; default base)")
    p.add_argument("--seed", type=int, default=0, help="seed for --shape (default 0)")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "cuda", "metal"],
                   help="device for every configuration; cuda/metal fail up front if absent (default auto: "
                        "each engine's best device)")
    p.add_argument("--formats", help="FORMAT:QUANT list; default cpu: " + ",".join(A.DEFAULT_FORMATS["cpu"])
                   + "; cuda: " + ",".join(A.DEFAULT_FORMATS["cuda"]))
    p.add_argument("--peers", help="torch, onnx-plain or none (default: torch,onnx-plain; torch on a GPU)")
    p.add_argument("--batch", type=_int_list, default=[1, 8, 32], help="batch sizes (default 1,8,32)")
    p.add_argument("--lengths", type=_int_list, default=[16, 128, 512],
                   help="tokens per text, <s> and </s> included (default 16,128,512)")
    p.add_argument("--repeat", type=positive_int, default=10, help="timed calls per workload (default 10)")
    p.add_argument("--warmup", type=int, default=2, help="untimed calls per workload first (default 2)")
    p.add_argument("--budget", type=float, default=30.0, metavar="S",
                   help="stop repeating a workload after S seconds, with at least 3 repeats (default 30; 0: never)")
    p.add_argument("--threads", type=positive_int, help="CPU threads per engine (default: the engine's own)")
    p.add_argument("--timeout", type=float, metavar="S", help="kill a configuration that runs longer than S seconds")
    p.add_argument("--json", metavar="OUT", help="write the full results as JSON (- for stdout)")
    p.add_argument("--markdown", metavar="OUT", help="write the markdown report (default: print it)")
    p.add_argument("--plot", metavar="OUT.png", help="latency against size at --plot-workload")
    p.add_argument("--plot-workload", type=_workload, default=(1, 128), metavar="BxL", help="default 1x128")
    p.add_argument("--cache", type=Path, help=f"artifact cache (default {A.default_cache()})")
    p.set_defaults(handler=run_command)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def run_worker(spec: dict, timeout: float | None, on_progress) -> dict:
    """Run one configuration in a fresh process; return its result, or {"error": one line}."""
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as errors:
        proc = subprocess.Popen([sys.executable, "-m", "crest_edge.benchmark.worker", json.dumps(spec)],
                                stdout=subprocess.PIPE, stderr=errors, text=True, encoding="utf-8")
        timer = threading.Timer(timeout, proc.kill) if timeout else None
        timer and timer.start()
        result = None
        try:
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("event") == "progress":
                    on_progress()
                elif event.get("event") in ("result", "error"):
                    result = event
            proc.wait()
        finally:
            timer and timer.cancel()
        if result is None:
            errors.seek(0)
            tail = [ln for ln in errors.read().splitlines() if ln.strip()]
            why = f"killed after {timeout:g} s" if timer and proc.returncode < 0 else (tail[-1] if tail else "")
            result = {"error": f"worker exited with {proc.returncode}: {why}"}
        result.pop("event", None)
        return result


def _spec(base: dict, name: str, quant: str | None, source, cache: Path) -> dict:
    """What a worker needs to run one configuration; converts (or finds cached) its artifact."""
    from crest_edge.runtimes import ENGINE_FOR_FORMAT

    if name == "torch":
        return dict(base, name="torch", kind="guard", engine="torch", path=str(source.path))
    if name == "onnx-plain":
        path = A.ensure_plain_onnx(source, cache)
        return dict(base, name="onnx-plain", kind="onnx-plain", path=str(path), tokenizer=str(source.path),
                    size_dir=str(path if path.is_dir() else path.parent))
    path = A.ensure_artifact(source, name, quant, cache)
    return dict(base, name=f"{name}:{quant}", kind="guard", engine=ENGINE_FOR_FORMAT[name], path=str(path))


def _load_average() -> float | None:
    """The 1-minute load average (other work competing for the cores), where the OS has one."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def run_command(args) -> int:
    from tqdm import tqdm

    from .report import derive, fastest, machine, markdown, plot, versions, write_json

    load_before = _load_average()
    formats, peers = A.plan(args.backend, A.parse_formats(args.formats) if args.formats is not None else None,
                            A.parse_peers(args.peers) if args.peers is not None else None, _say)
    cache = (args.cache or A.default_cache()).expanduser()
    source = A.resolve_source(args.model, args.shape or (None if args.model else "base"), args.seed, cache, _say)
    too_long = [n for n in args.lengths if not 2 <= n <= source.model["max_length"]]
    if too_long:
        raise CrestEdgeError(f"--lengths {too_long}: each must be between 2 and {source.model['max_length']}")
    workloads = [[b, n] for n in args.lengths for b in args.batch]
    device = "auto" if args.backend == "auto" else args.backend
    base = {"backend": args.backend, "device": device, "threads": args.threads, "workloads": workloads,
            "repeat": args.repeat, "warmup": args.warmup, "budget_s": args.budget}
    specs, configs = [], []
    todo = [(p, None) for p in peers] + formats
    for name, quant in tqdm(todo, desc="artifacts", unit="artifact", file=sys.stderr, disable=None):
        try:
            specs.append(_spec(base, name, quant, source, cache))
        except Exception as exc:  # a failed conversion fails that configuration, not the run
            error = f"conversion failed: {type(exc).__name__}: {' '.join(str(exc).split())}"
            _say(f"crest-edge bench: {name}{':' + quant if quant else ''} {error}")
            configs.append({"name": f"{name}:{quant}" if quant else name, "error": error, "size_mb": None})
    with tqdm(total=len(specs) * len(workloads), desc="benchmark", unit="workload", file=sys.stderr,
              disable=None) as bar:
        for spec in specs:
            bar.set_postfix_str(spec["name"])
            done = bar.n
            result = run_worker(spec, args.timeout, lambda: bar.update(1))
            bar.update(done + len(workloads) - bar.n)
            result.update(name=spec["name"], path=spec["path"],
                          size_mb=A.size_mb(spec.get("size_dir") or spec["path"]))
            if result.get("error"):
                _say(f"crest-edge bench: {spec['name']} failed: {result['error']}")
            configs.append(result)
    derive(configs)
    meta = {"date": _dt.datetime.now().astimezone().isoformat(timespec="seconds"), "source": source.label,
            "source_path": str(source.path), "sha256": source.sha256, "model": source.model, "backend": args.backend,
            "threads": args.threads, "workloads": workloads, "repeat": args.repeat, "warmup": args.warmup,
            "budget_s": args.budget, "cache": str(cache), "load_average": [load_before, _load_average()]}
    report = {"meta": meta, "machine": machine(), "versions": versions(), "configs": configs,
              "fastest": fastest(configs, workloads)}
    text = markdown(report)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.json:
        write_json(report, args.json)
    if args.plot:
        b, n = args.plot_workload
        chosen = min(workloads, key=lambda w: (abs(w[0] - b), abs(w[1] - n)))  # the asked one, or the nearest
        if tuple(chosen) != (b, n):
            _say(f"crest-edge bench: {b}x{n} was not measured; plotting {chosen[0]}x{chosen[1]}")
        plot(report, args.plot, tuple(chosen))
    if not args.markdown and args.json != "-":
        sys.stdout.write(text)
    return 1 if any(c.get("error") for c in configs) else 0
