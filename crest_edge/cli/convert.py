"""`crest-edge convert` and `crest-edge synth`."""

from __future__ import annotations

from ..registry import FORMATS, quant_help
from .argtypes import whole


def add_parser(sub) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a checkpoint to a " + ", ".join(f.upper() for f in FORMATS) + " artifact",
        epilog="quantizations: " + quant_help(),
    )
    p.add_argument("src", help="Hugging Face XLMRobertaForSequenceClassification checkpoint directory")
    p.add_argument("--to", required=True, choices=list(FORMATS))
    p.add_argument("--quant", required=True, help="precision; see below")
    p.add_argument("--out", required=True, help="artifact directory (ct2, onnx) or .gguf file")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.set_defaults(handler=handle_convert)

    from ..devtools.synth import SHAPES

    p = sub.add_parser("synth", help="write a seeded CREST-shaped checkpoint with random weights")
    p.add_argument("--shape", required=True, choices=list(SHAPES))
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=whole(0, 2**32 - 1), default=0)
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=handle_synth)


def handle_convert(args) -> int:
    from ..convert import convert

    print(f"wrote {convert(args.src, args.out, args.to, args.quant, force=args.force)}")
    return 0


def handle_synth(args) -> int:
    from ..devtools.synth import synth

    print(f"wrote {synth(args.shape, args.out, seed=args.seed, force=args.force)}")
    return 0
