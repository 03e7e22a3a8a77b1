"""`crest-edge classify --stream`: moderate standard input while it arrives (a pipe from a generator).

Prints a JSON line each time the verdict's label changes ("final": false) and one at end of input
("final": true, the verdict `classify` gives the whole text). Exit status as classify's: 0 when the
text was scored, 1 when the engine failed and --on-error block/allow decided (the line has "error"),
1 on any error (one line on stderr).
"""

from __future__ import annotations

import codecs
import json
import sys

from ..errors import CrestEdgeError
from ..stream import DEFAULT_EVERY, DEFAULT_OVERLAP
from .argtypes import whole

_READ = 1 << 16  # bytes asked for per read; a pipe returns what it has


def add_stream_options(parser) -> None:
    parser.add_argument(
        "--stream",
        action="store_true",
        help="read standard input as it arrives; a JSON line whenever the verdict changes, and at the end",
    )
    parser.add_argument(
        "--check-every",
        type=whole(1, 1_000_000),
        default=DEFAULT_EVERY,
        metavar="N",
        help=f"with --stream: check every N new tokens, and at sentence ends (default {DEFAULT_EVERY})",
    )
    parser.add_argument(
        "--lookback",
        type=whole(0, 509),
        default=DEFAULT_OVERLAP,
        metavar="N",
        help=f"with --stream: tokens before the new ones each check rereads (default {DEFAULT_OVERLAP})",
    )


def handle_stream(args, load_guard) -> int:
    if args.texts or args.input:
        raise CrestEdgeError("--stream reads standard input: give no TEXT and no --input")
    guard = load_guard()
    try:
        stream = guard.stream(every=args.check_every, overlap=args.lookback)
    except ValueError as exc:  # --lookback beyond this model's window
        raise CrestEdgeError(f"--lookback: {exc}") from None
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    shown, consumed = None, 0
    while True:
        try:
            chunk = sys.stdin.buffer.read1(_READ)
        except OSError as exc:
            raise CrestEdgeError(f"<stdin>: cannot be read ({exc.strerror})") from None
        held = len(decoder.getstate()[0])  # bytes of a character cut by the previous read
        try:
            text = decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            at = consumed - held + exc.start
            raise CrestEdgeError(
                f"<stdin>: not UTF-8 text (invalid byte 0x{exc.object[exc.start]:02x} at offset {at})"
            ) from None
        consumed += len(chunk)
        verdict = stream.feed(text) if text else None
        if verdict is not None and verdict.label != shown:
            _print(verdict, final=False)
            shown = verdict.label
        if not chunk:
            break
    final = stream.close()
    _print(final, final=True)
    return 1 if final.error is not None else 0


def _print(verdict, final: bool) -> None:
    print(json.dumps({"final": final, **verdict.to_dict()}, ensure_ascii=False, allow_nan=False), flush=True)
