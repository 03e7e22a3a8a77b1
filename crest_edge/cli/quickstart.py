"""`crest-edge quickstart`: crest_edge.quickstart.run_quickstart from the command line."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("quickstart", help="classify, convert, parity-check and bench the bundled demo model")
    p.add_argument("--out", default="artifacts/quickstart", help="where the converted demo artifacts go")
    p.add_argument("--no-bench", action="store_true", help="skip the short benchmark")
    p.set_defaults(handler=handle)


def handle(args) -> int:
    from ..quickstart import run_quickstart

    return run_quickstart(args.out, bench=not args.no_bench)
