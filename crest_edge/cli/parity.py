"""`crest-edge parity`: parse, call crest_edge.parity.run_parity, print and write the reports, record the
measured parity in the manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from crest_edge.errors import CrestEdgeError
from crest_edge.parity.gates import text_table
from crest_edge.registry import DEVICES

from .argtypes import fraction, non_negative, probability, threads

EPILOG = (
    "gates by precision class (the coarser of the manifest quantization and what the engine ran):\n"
    + text_table()
    + "\nΔp is the change in p(unsafe). Exit status: 0 all gates passed, 1 a gate failed."
)


def add_parser(sub) -> None:

    p = sub.add_parser(
        "parity",
        help="check converted artifacts against the fp32 reference",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--reference", required=True, metavar="HF_DIR", help="the fp32 Hugging Face checkpoint")
    p.add_argument(
        "--candidate", required=True, nargs="+", metavar="PATH", help="CT2/ONNX artifact directories or .gguf files"
    )
    p.add_argument(
        "--corpus",
        metavar="FILE.jsonl",
        help="JSONL with 'text' (and optional lang, script, label); default: the project corpus",
    )
    p.add_argument("--json", metavar="OUT", help="write the full report as JSON (- for stdout)")
    p.add_argument("--markdown", metavar="OUT", help="write the report as markdown")
    p.add_argument("--plot", metavar="OUT.png", help="draw per-language agreement and max |Δp| of every candidate")
    p.add_argument(
        "--write-manifest", action="store_true", help="record the measured parity in each candidate's manifest"
    )
    p.add_argument("--min-agreement", type=fraction, help="override the label agreement gate (0.995 or 99.5%%)")
    p.add_argument("--max-dp", type=non_negative, help="override (or add) the max |dp(unsafe)| gate")
    p.add_argument("--max-dlogit", type=non_negative, help="override (or add) the max |dlogit| gate")
    p.add_argument("--threshold", type=probability, default=0.5, help="p(unsafe) at or above which a text is unsafe")
    p.add_argument("--device", default="auto", choices=DEVICES, help="device for the candidates")
    p.add_argument(
        "--reference-device",
        default="cpu",
        choices=DEVICES,
        help="device for the reference (default cpu: exact fp32, no TF32)",
    )
    p.add_argument("--threads", type=threads, help="CPU threads for every engine")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    from crest_edge.parity import record
    from crest_edge.parity import report as render
    from crest_edge.parity.run import run_parity

    if args.write_manifest:
        record.check_recordable(args.candidate)
    overrides = {"agreement": args.min_agreement, "max_dp": args.max_dp, "max_dlogit": args.max_dlogit}
    result = run_parity(
        args.reference,
        args.candidate,
        args.corpus,
        device=args.device,
        reference_device=args.reference_device,
        threads=args.threads,
        threshold=args.threshold,
        overrides=overrides,
    )
    console = sys.stderr if args.json == "-" else sys.stdout
    if args.json == "-":
        print(render.to_json(result))
    elif args.json:
        _write(args.json, render.to_json(result) + "\n")
    if args.markdown:
        _write(args.markdown, render.to_markdown(result))
    if args.plot:
        from crest_edge.parity.plot import plot_parity

        plot_parity(result, args.plot)
    corpus = result["corpus"]
    print(f"parity on {corpus['name']} ({corpus['n']} texts) against {args.reference}", file=console)
    print("\n".join(render.summary_table(result)), file=console)
    if args.write_manifest:
        for path in record.record_report(result):
            print(f"recorded parity in {path}", file=console)
    failed = render.failures(result)
    print("\n".join(failed) if failed else "all gates passed", file=console)
    return 1 if failed else 0


def _write(path, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CrestEdgeError(f"{path}: cannot write ({exc.strerror})") from None
