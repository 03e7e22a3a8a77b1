"""`crest-edge classify` and `crest-edge tokenize`."""

from __future__ import annotations

import argparse
import json
import re
import sys

from ..errors import CrestEdgeError
from ..registry import DEVICES, ENGINES
from ..verdict import ON_ERROR
from ..windows import POLICIES
from .argtypes import probability, threads
from .batch_job import add_batch_options, check_batch_options, handle_batch
from .classify_stream import add_stream_options, handle_stream


def model_options(parser: argparse.ArgumentParser, engine_options: bool = True) -> None:
    parser.add_argument(
        "--model",
        help="checkpoint directory, CT2/ONNX artifact directory or .gguf file (default: the bundled demo model)",
    )
    if engine_options:
        parser.add_argument("--engine", default="auto", choices=["auto", *ENGINES])
        parser.add_argument("--device", default="auto", choices=DEVICES)
        parser.add_argument("--threads", type=threads, help="CPU threads for the engine")


def verdict_options(parser: argparse.ArgumentParser) -> None:
    """How a verdict is decided: the threshold and the long-text policy (Guard.load's arguments)."""
    parser.add_argument(
        "--threshold", type=probability, default=0.5, help="p(unsafe) at or above which a text is unsafe"
    )
    parser.add_argument(
        "--long-text",
        default="windows",
        choices=POLICIES,
        help="texts over 512 tokens: overlapping windows (max p(unsafe)), head, or head+tail",
    )


def text_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("texts", nargs="*", metavar="TEXT")
    parser.add_argument("--input", metavar="FILE", help="plain text lines or JSONL with 'text'; - for stdin")


# C0/C1 controls, DEL, line/paragraph separators and lone surrogates
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def add_parser(sub) -> None:
    p = sub.add_parser("classify", help="classify texts as safe or unsafe")
    model_options(p)
    text_inputs(p)
    verdict_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per input, with its line number")
    p.add_argument(
        "--on-error",
        default="raise",
        choices=ON_ERROR,
        help="when the engine fails on a text: stop with an error (default), block it (unsafe) or allow it",
    )
    add_stream_options(p)
    add_batch_options(p)
    p.set_defaults(handler=handle_classify)

    p = sub.add_parser("tokenize", help="print the token ids each text gets (<s> and </s> included)")
    model_options(p, engine_options=False)
    text_inputs(p)
    p.set_defaults(handler=handle_tokenize)


def model_path(args):
    if args.model is not None:
        if not args.model.strip():
            raise CrestEdgeError("--model is empty (an unset variable?); give the model's path")
        return args.model
    from ..demo import demo_path

    print("crest-edge: no --model given; using the bundled demo model (a demo, not CREST)", file=sys.stderr)
    return demo_path()


def guard_options(args) -> dict:
    """Guard.load's keyword arguments from classify's options (one place for a local Guard and Ray's)."""
    names = ("engine", "device", "threads", "threshold", "long_text", "on_error")
    return {name: getattr(args, name) for name in names}


def row_groups(args):
    """Groups of rows to classify: the arguments, or --input read as it arrives."""
    from ..rows import read_rows, rows_from_texts

    if args.texts and args.input:
        raise CrestEdgeError("give texts as arguments or with --input, not both")
    if args.input:
        return read_rows(args.input, getattr(args, "text_field", "text"))
    if not args.texts:
        raise CrestEdgeError("no text given: pass TEXT... or --input FILE (- for stdin)")
    return [rows_from_texts(args.texts)]


def handle_classify(args) -> int:
    """Exit status 0 when every text was scored; 1 when the engine failed on some text and --on-error
    block/allow gave it a verdict anyway (each such row carries "error"), or on any error. With
    --stream: see classify_stream."""
    from ..guard import Guard

    check_batch_options(args)
    if args.output is not None:
        return handle_batch(args, model_path(args), guard_options(args))

    def load_guard():
        return Guard.load(model_path(args), **guard_options(args))

    if args.stream:
        return handle_stream(args, load_guard)
    groups = row_groups(args)
    guard = load_guard()
    failed = False
    for group in groups:
        for start in range(0, len(group), guard.batch_size):
            batch = group[start : start + guard.batch_size]
            for row, verdict in zip(batch, guard.classify_batch([r.text for r in batch])):
                failed |= verdict.error is not None
                print(render(row, verdict, args.json))
            sys.stdout.flush()
    return 1 if failed else 0


def render(row, verdict, as_json: bool) -> str:
    if as_json:
        return json.dumps({"line": row.line, **verdict.to_dict()}, ensure_ascii=False, allow_nan=False)
    error = f"  [error: {verdict.error}]" if verdict.error else ""
    return f"{row.line:>5}  {verdict.label:<7} {verdict.score:.3f}  {preview(row.text)}{error}"


def preview(text: str, width: int = 70) -> str:
    """`text` fit for one terminal line: cut to `width`, control characters and lone surrogates
    escaped (a text must not move the cursor or break the output's encoding)."""
    shown = text if len(text) <= width else text[: width - 3] + "..."
    return _UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), shown)


def handle_tokenize(args) -> int:
    from ..formats.artifact import open_artifact
    from ..tokenizer import BOS_ID, EOS_ID

    groups = row_groups(args)
    tokenizer = open_artifact(model_path(args)).tokenizer()
    for group in groups:
        for row in group:
            print(json.dumps([BOS_ID, *tokenizer.encode(row.text), EOS_ID]))
        sys.stdout.flush()
    return 0
