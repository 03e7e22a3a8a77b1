"""The crest-edge command line. It parses and calls the library; no logic lives only here.

Each subcommand module exposes `add_parser(subparsers)`, registering its parser with
`set_defaults(handler=fn)`; `fn(args) -> exit code`.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..errors import CrestEdgeError
from ..version import __version__
from . import bench, classify, convert, doctor, parity, quickstart, serve, trim, verify

SUBCOMMANDS = (classify, convert, verify, parity, bench, doctor, quickstart, serve, trim)


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (`crest-edge: error: ...`), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crest-edge",
        description="Run, convert, check and benchmark the CREST multilingual safety classifier on device.",
    )
    parser.add_argument("--version", action="version", version=f"crest-edge {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what crest-edge chooses")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    try:
        return args.handler(args)
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
        print(
            f"crest-edge: internal error: {type(exc).__name__}: {exc} (set CREST_EDGE_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3
