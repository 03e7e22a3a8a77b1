"""The crest-edge command line. It parses and calls the library; no logic lives only here."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from . import __version__
from .argtypes import positive_int, probability
from .errors import CrestEdgeError

FORMATS_HELP = "ct2: int8 int8_float16 int8_bfloat16 int16 float16 bfloat16 float32 | " \
               "gguf: f32 f16 bf16 q8_0 q6_k q5_k_m q4_k_m q4_0 | onnx: fp32 fp16 int8 int4"


def _model_options(parser: argparse.ArgumentParser, engine_options: bool = True) -> None:
    parser.add_argument("--model", help="checkpoint directory, CT2/ONNX artifact directory or .gguf file "
                                        "(default: the bundled demo model)")
    if engine_options:
        parser.add_argument("--engine", default="auto", choices=["auto", "torch", "ct2", "llamacpp", "onnx"])
        parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "metal"])
        parser.add_argument("--threads", type=positive_int, help="CPU threads for the engine")


def _text_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="*", metavar="TEXT")
    parser.add_argument("--input", metavar="FILE", help="plain text lines or JSONL with 'text'; - for stdin")


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (`crest-edge: error: ...`), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crest-edge", description="Run, convert, check and benchmark the "
                                     "CREST multilingual safety classifier on device.")
    parser.add_argument("--version", action="version", version=f"crest-edge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what crest-edge chooses")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    p = sub.add_parser("classify", help="classify texts as safe or unsafe")
    _model_options(p)
    _text_inputs(p)
    p.add_argument("--threshold", type=probability, default=0.5, help="p(unsafe) at or above which a text is unsafe")
    p.add_argument("--long-text", default="windows", choices=["windows", "head", "head_tail"],
                   help="texts over 512 tokens: overlapping windows (max p(unsafe)), head, or head+tail")
    p.add_argument("--json", action="store_true", help="one JSON object per input")

    p = sub.add_parser("tokenize", help="print the token ids each text gets (<s> and </s> included)")
    _model_options(p, engine_options=False)
    _text_inputs(p)

    p = sub.add_parser("convert", help="convert a checkpoint to a CT2, GGUF or ONNX artifact",
                       epilog="quantizations: " + FORMATS_HELP)
    p.add_argument("src", help="Hugging Face XLMRobertaForSequenceClassification checkpoint directory")
    p.add_argument("--to", required=True, choices=["ct2", "gguf", "onnx"])
    p.add_argument("--quant", required=True, help="precision; see below")
    p.add_argument("--out", required=True, help="artifact directory (ct2, onnx) or .gguf file")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    p = sub.add_parser("synth", help="write a seeded CREST-shaped checkpoint with random weights")
    p.add_argument("--shape", required=True, choices=["tiny", "base", "large"])
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--force", action="store_true")

    p = sub.add_parser("doctor", help="engines, devices, precisions and CPU features of this machine")
    p.add_argument("--json", action="store_true")

    from .commands import add_extra_commands

    add_extra_commands(sub)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.command == "classify":
        return _classify(args)
    if args.command == "tokenize":
        return _tokenize(args)
    if args.command == "convert":
        from .convert import convert

        out = convert(args.src, args.out, args.to, args.quant, force=args.force)
        print(f"wrote {out}")
        return 0
    if args.command == "synth":
        from .synth import synth

        print(f"wrote {synth(args.shape, args.out, seed=args.seed, force=args.force)}")
        return 0
    if args.command == "doctor":
        from .doctor import doctor_report, render

        report = doctor_report()
        print(json.dumps(report, indent=2) if args.json else render(report))
        return 0
    return args.handler(args)


def _model_path(args):
    if args.model:
        return args.model
    from .demo import demo_path

    print("crest-edge: no --model given; using the bundled demo model (a demo, not CREST)", file=sys.stderr)
    return demo_path()


def _classify(args) -> int:
    from .guard import Guard
    from .textio import read_inputs

    texts = read_inputs(args.texts, args.input)
    guard = Guard.load(_model_path(args), engine=args.engine, device=args.device, threads=args.threads,
                       threshold=args.threshold, long_text=args.long_text)
    for text, verdict in zip(texts, guard.classify_batch(texts)):
        if args.json:
            print(json.dumps(verdict.to_dict(), ensure_ascii=False))
        else:
            shown = text if len(text) <= 70 else text[:67] + "..."
            print(f"{verdict.label:<7} {verdict.score:.3f}  {shown}")
    return 0


def _tokenize(args) -> int:
    from .artifact import open_artifact
    from .textio import read_inputs
    from .tokenizer import BOS_ID, EOS_ID

    texts = read_inputs(args.texts, args.input)
    tokenizer = open_artifact(_model_path(args)).tokenizer()
    for text in texts:
        print(json.dumps([BOS_ID, *tokenizer.encode(text), EOS_ID]))
    return 0


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return run(args)
    except CrestEdgeError as exc:
        print(f"crest-edge: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("crest-edge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for a user; CREST_EDGE_DEBUG=1 shows it
        if os.environ.get("CREST_EDGE_DEBUG"):
            raise
        print(f"crest-edge: internal error: {type(exc).__name__}: {exc} (set CREST_EDGE_DEBUG=1 for details)",
              file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
