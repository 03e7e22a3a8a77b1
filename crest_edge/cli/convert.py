"""`crest-edge convert` and `crest-edge synth`."""

from __future__ import annotations

from ..errors import CrestEdgeError
from ..registry import FORMATS, quant_help
from .argtypes import threads, whole


def add_parser(sub) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a checkpoint to a " + ", ".join(f.upper() for f in FORMATS) + " artifact",
        epilog="quantizations: "
        + quant_help()
        + ". auto-8bit / auto-4bit: convert every candidate of that class, check each against the fp32 "
        "reference on the seed corpus, keep the fastest that passes with headroom (the class's agreement "
        "gate, half its max |Δp|; recorded in the manifest).",
    )
    p.add_argument("src", help="Hugging Face XLMRobertaForSequenceClassification checkpoint directory")
    p.add_argument("--to", required=True, choices=list(FORMATS))
    p.add_argument("--quant", required=True, help="precision; see below")
    p.add_argument("--out", required=True, help="artifact directory (ct2, onnx) or .gguf file")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument(
        "--with-tokenizer",
        action="store_true",
        help="onnx: also write model_with_tokenizer.onnx (strings in, logits and p_unsafe out; "
        "needs 'crest-edge[mobile]')",
    )
    p.add_argument(
        "--ort", action="store_true", help="onnx: also the .ort file of each graph and required_operators.config"
    )
    p.add_argument("--calibration", metavar="FILE.jsonl", help="texts auto-... selects on (default: the seed corpus)")
    p.add_argument("--threads", type=threads, help="CPU threads for auto-...'s checks")
    p.set_defaults(handler=handle_convert)

    from ..devtools.synth import SHAPES

    p = sub.add_parser("synth", help="write a seeded CREST-shaped checkpoint with random weights")
    p.add_argument("--shape", required=True, choices=list(SHAPES))
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=whole(0, 2**32 - 1), default=0)
    p.add_argument(
        "--outliers",
        action="store_true",
        help="plant the activation outliers of pretrained encoders (the quantization stress checkpoint; "
        "tiny: the trained demo classifier with outliers and a head re-fitted on the seed set)",
    )
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=handle_synth)


def handle_convert(args) -> int:
    from ..autoquant import auto_class, convert_auto
    from ..convert import convert

    options = {key: True for key in ("with_tokenizer", "ort") if getattr(args, key)}
    if options and args.to != "onnx":
        raise CrestEdgeError(f"--with-tokenizer and --ort are options of --to onnx, not --to {args.to}")
    if auto_class(args.quant.lower()):
        if options:
            raise CrestEdgeError("--with-tokenizer and --ort take an explicit --quant, not auto-...")
        out = convert_auto(
            args.src, args.out, args.to, args.quant.lower(), args.force, args.calibration, threads=args.threads
        )
        _print_selection(out)
    else:
        if args.calibration:
            raise CrestEdgeError("--calibration is only used by --quant auto-8bit / auto-4bit")
        out = convert(args.src, args.out, args.to, args.quant, force=args.force, options=options)
    print(f"wrote {out}")
    return 0


def _print_selection(out) -> None:
    from ..formats.artifact import open_artifact

    selection = open_artifact(out).manifest.selection
    for t in selection["tried"]:
        if "error" in t:
            figures = f"error: {t['error']}"
        else:
            figures = f"agreement {t['agreement']:.2%}, max |Δp| {t['max_dp']:.3g}, {t['size_mb']:.1f} MB"
            figures += f", {t['ms']:.1f} ms" if "ms" in t else ""
        print(f"  {'pass' if t['passed'] else 'FAIL'} {t['candidate']}: {figures}")
    print(f"chose {selection['chosen']} ({selection['rule']})")


def handle_synth(args) -> int:
    from ..devtools.synth import synth

    print(f"wrote {synth(args.shape, args.out, seed=args.seed, force=args.force, outliers=args.outliers)}")
    return 0
