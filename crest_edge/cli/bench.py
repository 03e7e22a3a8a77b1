"""`crest-edge bench`: parse, call crest_edge.benchmark.run_bench, write the reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crest_edge.benchmark.artifacts import default_cache
from crest_edge.benchmark.run import DEFAULT_BATCH, DEFAULT_LENGTHS
from crest_edge.registry import BENCH_DEFAULTS, DEVICES
from crest_edge.selection import MAX_BATCH

from .argtypes import non_negative, positive_int, threads, whole

DESCRIPTION = (
    "Benchmark every artifact format side by side with transformers fp32 and plain ONNX Runtime int8: "
    "latency, throughput, crest-edge overhead, peak RSS, load time and size, each configuration in its "
    "own process. Artifacts are converted once and cached."
)


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from None
    if not values or min(values) < 1 or max(values) > MAX_BATCH:
        raise argparse.ArgumentTypeError(f"needs whole numbers from 1 to {MAX_BATCH}: {text!r}")
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
    source.add_argument(
        "--shape", choices=["tiny", "base", "large"], help="synthesize a CREST-shaped checkpoint (cached; default base)"
    )
    p.add_argument("--seed", type=whole(0, 2**32 - 1), default=0, help="seed for --shape (default 0)")
    p.add_argument(
        "--backend",
        default="auto",
        choices=DEVICES,
        help="device for every configuration; cuda/metal fail up front if absent (default auto: "
        "each engine's best device)",
    )
    p.add_argument(
        "--formats",
        help="FORMAT:QUANT list; default cpu: "
        + ",".join(BENCH_DEFAULTS["cpu"])
        + "; cuda: "
        + ",".join(BENCH_DEFAULTS["cuda"]),
    )
    p.add_argument(
        "--peers",
        help="torch, onnx-plain, openvino-raw, openvino-nncf or none (default: all four on the CPU, those installed; "
        "torch on a GPU)",
    )
    p.add_argument("--batch", type=_int_list, default=list(DEFAULT_BATCH), help="batch sizes (default 1,8,32)")
    p.add_argument(
        "--lengths",
        type=_int_list,
        default=list(DEFAULT_LENGTHS),
        help="tokens per text, <s> and </s> included (default 16,128,512)",
    )
    p.add_argument("--repeat", type=positive_int, default=10, help="timed calls per workload (default 10)")
    p.add_argument("--warmup", type=whole(0, 1000), default=2, help="untimed calls per workload first (default 2)")
    p.add_argument(
        "--budget",
        type=non_negative,
        default=30.0,
        metavar="S",
        help="stop repeating a workload after S seconds, with at least 3 repeats (default 30; 0: never)",
    )
    p.add_argument("--threads", type=threads, help="CPU threads per engine (default: the engine's own)")
    p.add_argument(
        "--timeout", type=non_negative, metavar="S", help="kill a configuration that runs longer than S seconds"
    )
    p.add_argument("--json", metavar="OUT", help="write the full results as JSON (- for stdout)")
    p.add_argument("--markdown", metavar="OUT", help="write the markdown report (default: print it)")
    p.add_argument("--plot", metavar="OUT.png", help="latency against size at --plot-workload")
    p.add_argument("--plot-workload", type=_workload, default=(1, 128), metavar="BxL", help="default 1x128")
    p.add_argument("--cache", type=Path, help=f"artifact cache (default {default_cache()})")
    p.set_defaults(handler=handle)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def handle(args) -> int:
    from crest_edge.benchmark.report import markdown, plot, write_json
    from crest_edge.benchmark.run import failed, run_bench

    report = run_bench(
        args.model,
        shape=args.shape,
        seed=args.seed,
        backend=args.backend,
        formats=args.formats,
        peers=args.peers,
        batch=args.batch,
        lengths=args.lengths,
        repeat=args.repeat,
        warmup=args.warmup,
        budget=args.budget,
        threads=args.threads,
        timeout=args.timeout,
        cache=args.cache,
        say=_say,
    )
    text = markdown(report)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.json:
        write_json(report, args.json)
    if args.plot:
        b, n = args.plot_workload
        workloads = report["meta"]["workloads"]
        chosen = min(workloads, key=lambda w: (abs(w[0] - b), abs(w[1] - n)))  # the asked one, or the nearest
        if tuple(chosen) != (b, n):
            _say(f"crest-edge bench: {b}x{n} was not measured; plotting {chosen[0]}x{chosen[1]}")
        plot(report, args.plot, tuple(chosen))
    if not args.markdown and args.json != "-":
        sys.stdout.write(text)
    return 1 if failed(report) else 0
