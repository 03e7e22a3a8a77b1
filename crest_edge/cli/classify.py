"""`crest-edge classify` and `crest-edge tokenize`."""

from __future__ import annotations

import argparse
import json
import sys

from ..registry import DEVICES, ENGINES
from ..windows import POLICIES
from .argtypes import positive_int, probability


def model_options(parser: argparse.ArgumentParser, engine_options: bool = True) -> None:
    parser.add_argument(
        "--model",
        help="checkpoint directory, CT2/ONNX artifact directory or .gguf file (default: the bundled demo model)",
    )
    if engine_options:
        parser.add_argument("--engine", default="auto", choices=["auto", *ENGINES])
        parser.add_argument("--device", default="auto", choices=DEVICES)
        parser.add_argument("--threads", type=positive_int, help="CPU threads for the engine")


def text_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="*", metavar="TEXT")
    parser.add_argument("--input", metavar="FILE", help="plain text lines or JSONL with 'text'; - for stdin")


def add_parser(sub) -> None:
    p = sub.add_parser("classify", help="classify texts as safe or unsafe")
    model_options(p)
    text_inputs(p)
    p.add_argument("--threshold", type=probability, default=0.5, help="p(unsafe) at or above which a text is unsafe")
    p.add_argument(
        "--long-text",
        default="windows",
        choices=POLICIES,
        help="texts over 512 tokens: overlapping windows (max p(unsafe)), head, or head+tail",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per input")
    p.set_defaults(handler=handle_classify)

    p = sub.add_parser("tokenize", help="print the token ids each text gets (<s> and </s> included)")
    model_options(p, engine_options=False)
    text_inputs(p)
    p.set_defaults(handler=handle_tokenize)


def model_path(args):
    if args.model:
        return args.model
    from ..demo import demo_path

    print("crest-edge: no --model given; using the bundled demo model (a demo, not CREST)", file=sys.stderr)
    return demo_path()


def handle_classify(args) -> int:
    from ..guard import Guard
    from .textio import read_inputs

    texts = read_inputs(args.texts, args.input)
    guard = Guard.load(
        model_path(args),
        engine=args.engine,
        device=args.device,
        threads=args.threads,
        threshold=args.threshold,
        long_text=args.long_text,
    )
    for text, verdict in zip(texts, guard.classify_batch(texts)):
        if args.json:
            print(json.dumps(verdict.to_dict(), ensure_ascii=False))
        else:
            shown = text if len(text) <= 70 else text[:67] + "..."
            print(f"{verdict.label:<7} {verdict.score:.3f}  {shown}")
    return 0


def handle_tokenize(args) -> int:
    from ..formats.artifact import open_artifact
    from ..tokenizer import BOS_ID, EOS_ID
    from .textio import read_inputs

    texts = read_inputs(args.texts, args.input)
    tokenizer = open_artifact(model_path(args)).tokenizer()
    for text in texts:
        print(json.dumps([BOS_ID, *tokenizer.encode(text), EOS_ID]))
    return 0
